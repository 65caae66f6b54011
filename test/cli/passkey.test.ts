/** `breakglass passkey confirm`: what it signs (real ssh-keygen), and a clear line for each wrong use. */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { run } from "../../src/cli/commands/passkey.ts";
import { UsageError, type CliIO } from "../../src/cli/io.ts";
import { passkeyActivationMessage } from "../../src/core/passkey-activation.ts";

const CREDENTIAL = "bGV0IG1lIGluIHBsZWFzZQ";
const binding = {
  public_key_sha256: "ab".repeat(32),
  registered_at: "2026-11-24T09:00:00.000Z",
  nonce: "bm9uY2Utb2YtdGhlLXBhZ2U",
};
const BOUND = [
  "--passkey-sha256",
  binding.public_key_sha256,
  "--registered-at",
  binding.registered_at,
  "--nonce",
  binding.nonce,
];
let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "breakglass-passkey-cli-"));
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "grace", "-f", join(dir, "key")]);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const io = () => {
  const x = { out: "", err: "" };
  const cli: CliIO = {
    stdout: (t) => void (x.out += t),
    stderr: (t) => void (x.err += t),
    readStdin: async () => "",
    cwd: dir,
    env: { HOME: dir },
  };
  return { x, cli };
};

test("prints an SSH signature (namespace breakglass) over owner, login, credential id and the page's binding, which ssh-keygen verifies", async () => {
  const { x, cli } = io();
  assert.equal(
    await run(["confirm", "Acme", CREDENTIAL, "--login", "Grace", ...BOUND, "--key", join(dir, "key")], cli),
    0,
  );
  assert.match(x.err, /public key abababababababab…, registered 2026-11-24T09:00:00.000Z/);
  assert.match(x.out, /^-----BEGIN SSH SIGNATURE-----/);
  assert.match(x.err, /Paste the signature above/);
  writeFileSync(join(dir, "sig"), x.out);
  writeFileSync(join(dir, "allowed"), `grace ${readFileSync(join(dir, "key.pub"), "utf8")}`);
  const verified = execFileSync(
    "ssh-keygen",
    ["-Y", "verify", "-f", join(dir, "allowed"), "-I", "grace", "-n", "breakglass", "-s", join(dir, "sig")],
    { input: passkeyActivationMessage("acme", "grace", CREDENTIAL, binding), encoding: "utf8" },
  );
  assert.match(verified, /Good "breakglass" signature for grace/);
});

test("a credential id that starts with a dash is the credential, not an option", async () => {
  const { x, cli } = io();
  const dashed = "-6Jx_ZQm2l3zP0qsVbL9aw";
  assert.equal(
    await run(["confirm", "acme", dashed, "--login", "grace", ...BOUND, "--key", join(dir, "key")], cli),
    0,
  );
  assert.match(x.out, /^-----BEGIN SSH SIGNATURE-----/);
  assert.match(x.err, /Confirming passkey -6Jx_ZQm2l3zP0qs/);
});

test("each wrong use says what to write", async () => {
  const cases: Array<[string[], RegExp]> = [
    [[], /say what to do: breakglass passkey confirm/],
    [["register"], /unknown passkey command "register"/],
    [["confirm", "acme"], /give the owner and the passkey's credential id/],
    [["confirm", "acme", "short", "--login", "grace"], /is not a credential id/],
    [["confirm", "ac me", CREDENTIAL, "--login", "grace"], /is not a GitHub owner/],
    [["confirm", "acme", CREDENTIAL], /--login is required/],
    [["confirm", "acme", CREDENTIAL, "--login", "grace"], /--passkey-sha256 is required/],
    [
      ["confirm", "acme", CREDENTIAL, "--login", "grace", ...BOUND.slice(0, 2)],
      /--registered-at is required/,
    ],
    [["confirm", "acme", CREDENTIAL, "--login", "grace", ...BOUND.slice(0, 4)], /--nonce is required/],
  ];
  for (const [args, message] of cases)
    await assert.rejects(
      run(args, io().cli),
      (e: unknown) => e instanceof UsageError && message.test(e.message),
      args.join(" "),
    );
});
