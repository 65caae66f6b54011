import { parseArgs } from "node:util";
import {
  isActivationNonce,
  isCredentialId,
  passkeyActivationMessage,
} from "../../core/passkey-activation.ts";
import { STEP_UP_NAMESPACE } from "../../core/step-up.ts";
import { UsageError, type CliIO } from "../io.ts";
import { flagsIn, usageErrorFrom } from "../usage-error.ts";
import { findKey, sign, type ApproveDeps } from "./approve.ts";

const HELP = `Usage: breakglass passkey confirm <owner> <credential-id> --login <you> --passkey-sha256 <hex>
                                  --registered-at <time> --nonce <nonce> [--key PATH]

Activates a passkey you registered on the app's /breakglass/passkeys page at once, instead of after its
waiting period: signs exactly
  breakglass-passkey-v2\\n<owner>\\n<login>\\n<credential id>\\n<passkey sha256>\\n<registered at>\\n<nonce>\\n
with \`ssh-keygen -Y sign -n ${STEP_UP_NAMESPACE}\` (a FIDO2 key asks for a touch) and prints the signature.
The page shows this command, filled in, only after the passkey answered in your browser ("This is my
passkey"): the nonce is good for 10 minutes in that browser. Paste the signature into the passkey's box
on the page and press Activate. Check that the passkey's public-key hash is the one the page shows.

Options:
  --login NAME          Your GitHub login, as signed in on the page (required)
  --passkey-sha256 HEX  The passkey's public-key hash, as the page shows it (required)
  --registered-at TIME  The passkey's registration time, as the page shows it (required)
  --nonce NONCE         The one-time nonce the page gave you (required)
  --key PATH        Signing key (default: the first of ~/.ssh/id_ed25519_sk, id_ecdsa_sk, id_ed25519, id_ecdsa, id_rsa)
  -h, --help        This help

The key must be on your GitHub account as a *signing* key (Settings → SSH and GPG keys → New SSH key →
Key type: Signing Key), exactly as for \`breakglass approve\`.
`;

const OWNER = /^[A-Za-z0-9-]{1,39}$/;
const LOGIN = /^[A-Za-z0-9-]{1,39}$/;

const KNOWN_OPTION = /^(--login|--key|--passkey-sha256|--registered-at|--nonce|--help|-h)(=|$)/;

export async function run(args: string[], io: CliIO, deps: ApproveDeps = {}): Promise<number> {
  // A credential id is base64url and may start with "-": in its place after the owner it is never an option.
  let given: string | undefined;
  if (args[0] === "confirm" && args.length >= 3 && args[2] !== "--" && !KNOWN_OPTION.test(args[2]!)) {
    given = args[2];
    args = [args[0], args[1]!, ...args.slice(3)];
  }
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        login: { type: "string" },
        key: { type: "string" },
        "passkey-sha256": { type: "string" },
        "registered-at": { type: "string" },
        nonce: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    throw usageErrorFrom(error, flagsIn(HELP)) ?? error;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(HELP);
    return 0;
  }
  const [sub, owner, ...rest] = positionals;
  const [credential, ...extra] = given === undefined ? rest : [given, ...rest];
  if (sub !== "confirm")
    throw new UsageError(
      `${sub === undefined ? "say what to do" : `unknown passkey command "${sub}"`}: breakglass passkey confirm <owner> <credential-id> --login <you> (see --help).`,
    );
  if (owner === undefined || credential === undefined || extra.length > 0)
    throw new UsageError(
      "give the owner and the passkey's credential id, as the passkeys page shows them: breakglass passkey confirm acme AbC…xyz --login you.",
    );
  if (!OWNER.test(owner))
    throw new UsageError(`"${owner}" is not a GitHub owner (user or organisation) name.`);
  if (!isCredentialId(credential))
    throw new UsageError(
      `"${credential.slice(0, 40)}" is not a credential id: copy it from the passkeys page (base64url, 16 characters or more).`,
    );
  const login = values.login?.trim() ?? "";
  if (!LOGIN.test(login))
    throw new UsageError("--login is required: your GitHub login, as signed in on the passkeys page.");
  const binding = {
    public_key_sha256: values["passkey-sha256"]?.trim().toLowerCase() ?? "",
    registered_at: values["registered-at"]?.trim() ?? "",
    nonce: values.nonce?.trim() ?? "",
  };
  if (!/^[0-9a-f]{64}$/.test(binding.public_key_sha256))
    throw new UsageError(
      "--passkey-sha256 is required: the passkey's public-key hash (64 hexadecimal digits), as the page shows it after the passkey answered.",
    );
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(binding.registered_at))
    throw new UsageError(
      "--registered-at is required: the passkey's registration time as the page shows it (e.g. 2026-12-03T14:00:00.000Z).",
    );
  if (!isActivationNonce(binding.nonce))
    throw new UsageError(
      "--nonce is required: the one-time nonce the page gave you after the passkey answered.",
    );
  const key = findKey(values.key, io);
  io.stderr(
    `Confirming passkey ${credential.slice(0, 16)}… (public key ${binding.public_key_sha256.slice(0, 16)}…, registered ${binding.registered_at}) of @${login} for ${owner}.\nSigning with ${key} (touch your security key if it blinks)…\n`,
  );
  const signature = await sign(
    deps.sshKeygen ?? "ssh-keygen",
    key,
    passkeyActivationMessage(owner, login, credential, binding),
  );
  io.stdout(signature.trim() + "\n");
  io.stderr("Paste the signature above into the passkey's box on /breakglass/passkeys and press Activate.\n");
  return 0;
}
