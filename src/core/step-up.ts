import type { StepUp } from "./types.ts";
import { ok, err, type Result } from "./result.ts";
import {
  hasArmoredSignature,
  parsePublicKeyLine,
  SK_USER_PRESENT,
  verifySshSignature,
  type VerifiedSshSignature,
} from "./sshsig.ts";

/**
 * Step-up authentication for approvals and break-glass: beyond a comment from a GitHub session, an
 * SSH signature (`ssh-keygen -Y sign -n breakglass`) by one of the person's GitHub *signing* keys over
 * exactly this request — repository, issue and request hash — so a stolen session, a leaked token or
 * an integration acting for the user cannot approve, and a signature copied from another issue or an
 * older version of the request never counts.
 */
export const STEP_UP_NAMESPACE = "breakglass";

/**
 * What is signed: `approve` a request, `break-glass` (self-approve) it, or `extend` — approve the
 * pending extension of a live grant, whose hash is the extension's own (its `extension_requested`
 * record), so a signature over the request itself or over another extension never extends.
 */
export type StepUpKind = "approve" | "break-glass" | "extend";

export type StepUpCode =
  | "step_up_required"
  | "step_up_bad_signature"
  | "step_up_unknown_key"
  | "step_up_not_hardware"
  | "step_up_wrong_request"
  | "step_up_replayed"
  | "step_up_passkey_not_active"
  | "step_up_passkey_cloned";

export interface StepUpRefusal {
  code: StepUpCode;
  message: string;
}

/**
 * One resource of a request naming several, as a step-up binds it: the resource's name and that
 * part's own hash (or, for `extend`, the hash of the extension waiting on that part's grant).
 */
export interface SignedPart {
  resource: string;
  hash: string;
}

/** What a signed record keeps of a step-up, enough for `breakglass audit verify` to check it offline. */
export type StepUpProof = SshSignatureProof | WebAuthnProof;

export interface SshSignatureProof {
  method: "ssh-signature";
  key_type: string;
  key_fingerprint: string;
  /** The armored SSHSIG, whose embedded public key verifies it. */
  signature: string;
  /** Security keys: the authenticator's flags and signature counter. */
  flags?: number;
  counter?: number;
  /**
   * On a request naming several resources: every part the one signature covers, in the order signed
   * (the message is rebuilt from it). The record's own part and hash must be among them.
   */
  parts?: SignedPart[];
}

const ACTION: Record<StepUpKind, string> = {
  approve: "approve",
  "break-glass": "break the glass",
  extend: "approve the extension",
};
const SIGNED_FOR: Record<StepUpKind, string> = {
  approve: "an approval of the request itself",
  "break-glass": "a break-glass of this request",
  extend: "an extension of this grant",
};

/**
 * A WebAuthn assertion on the app's approval page. Its challenge is {@link webauthnChallenge}: the
 * step-up message of this exact request (or extension) and a one-time nonce, so the authenticator's
 * signature covers the request hash; the registered public key verifies it offline.
 */
export interface WebAuthnProof {
  method: "webauthn";
  /** base64url credential id, as registered. */
  credential_id: string;
  /** base64url COSE public key, as registered (its registration is in the owner's passkey records). */
  public_key: string;
  /** Registered as device-bound (not backup-eligible) with an attestation statement: a security key. */
  hardware: boolean;
  rp_id: string;
  origin: string;
  /** The authenticator's signature counter in this assertion. */
  counter: number;
  /** The authenticator model the registration attested (checked against the policy's `hardware_aaguids`). */
  aaguid?: string;
  /** How the passkey became active before this assertion (see core/passkey-activation.ts). */
  activation?: PasskeyActivation;
  /** The assertion as the browser returned it (WebAuthn AuthenticationResponseJSON). */
  assertion: Record<string, unknown>;
}

/** How a passkey became active, as its records and every approval it makes keep it. */
export type PasskeyActivation =
  | {
      method: "ssh-signature";
      at: string;
      proof: SshSignatureProof;
      /** What the activation signature bound besides owner, login and credential id (absent: the first version). */
      binding?: { public_key_sha256: string; registered_at: string; nonce: string };
    }
  | {
      method: "waiting-period";
      registered_at: string;
      active_from: string;
      /** The waiting period recorded with the registration (absent: registered before it was recorded). */
      activation_wait_seconds?: number;
    };

/** The key a proof was made with, as the approval shows it: an SSH key fingerprint or `webauthn:<credential id>`. */
export const proofKey = (proof: StepUpProof): string =>
  proof.method === "ssh-signature" ? proof.key_fingerprint : `webauthn:${proof.credential_id}`;
export const proofIsHardware = (proof: StepUpProof): boolean =>
  proof.method === "ssh-signature" ? proof.key_type.startsWith("sk-") : proof.hardware;

/**
 * The WebAuthn challenge (base64url) for approving this request: the step-up message, then a one-time
 * nonce line. A part of a request naming several resources is bound as `[{ resource, hash }]`.
 */
export function webauthnChallenge(
  kind: StepUpKind,
  repository: string,
  issue: number,
  hash: SignedTarget,
  nonce: string,
): string {
  return Buffer.from(`${stepUpMessage(kind, repository, issue, hash)}${nonce}\n`, "utf8").toString(
    "base64url",
  );
}

/** The nonce of a WebAuthn challenge that binds exactly this request, or null when it binds something else. */
export function challengeNonce(
  challenge: string,
  kind: StepUpKind,
  repository: string,
  issue: number,
  hash: SignedTarget,
): string | null {
  const text = Buffer.from(challenge, "base64url").toString("utf8");
  const message = stepUpMessage(kind, repository, issue, hash);
  if (!text.startsWith(message)) return null;
  const nonce = /^([A-Za-z0-9_-]{16,64})\n$/.exec(text.slice(message.length));
  return nonce ? nonce[1]! : null;
}

/**
 * What a step-up binds: the request's hash (one resource), or on a request naming several resources
 * the parts it covers, each by resource name and that part's own hash — never just the issue.
 */
export type SignedTarget = string | readonly SignedPart[];

/**
 * The exact bytes signed (UTF-8, LF line ends). One resource: its hash on the third line. Several:
 * one line `<resource> <hash>` per part covered, so one signature (one touch of a security key) can
 * approve every part the approver owns, and each part's approval checks its own line.
 */
export function stepUpMessage(
  kind: StepUpKind,
  repository: string,
  issue: number,
  target: SignedTarget,
): string {
  const bound =
    typeof target === "string" ? `${target}\n` : target.map((p) => `${p.resource} ${p.hash}\n`).join("");
  return `breakglass-${kind}\n${repository}#${issue}\n${bound}`;
}

/** The plain line `breakglass approve` writes above the signature, naming what was signed. */
export function signedLine(
  kind: StepUpKind,
  repository: string,
  issue: number,
  target: SignedTarget,
): string {
  const bound = typeof target === "string" ? target : target.map((p) => `${p.resource}=${p.hash}`).join(" ");
  return `Signed: breakglass-${kind} ${repository}#${issue} ${bound}`;
}

const RESOURCE = "[A-Za-z0-9._-]{1,100}";
const SIGNED_LINE =
  /^Signed: breakglass-(approve|break-glass|extend) ([A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100})#(\d{1,9}) ([0-9a-f]{64})$/m;
/** The signed line of a step-up over parts of a request naming several resources (at most MAX_PARTS, a few more tolerated). */
const SIGNED_PARTS_LINE = new RegExp(
  `^Signed: breakglass-(approve|break-glass|extend) ([A-Za-z0-9-]{1,39}\\/[A-Za-z0-9._-]{1,100})#(\\d{1,9})((?: ${RESOURCE}=[0-9a-f]{64}){1,10})$`,
  "m",
);

/** What a comment's signed line says was signed, or null when it has none. */
export function statedTarget(
  body: string,
): { kind: StepUpKind; repository: string; issue: number; target: SignedTarget } | null {
  const one = SIGNED_LINE.exec(body);
  if (one) return { kind: one[1] as StepUpKind, repository: one[2]!, issue: Number(one[3]), target: one[4]! };
  const several = SIGNED_PARTS_LINE.exec(body);
  if (!several) return null;
  const parts = several[4]!
    .trim()
    .split(" ")
    .map((pair) => {
      const at = pair.lastIndexOf("=");
      return { resource: pair.slice(0, at), hash: pair.slice(at + 1) };
    });
  return {
    kind: several[1] as StepUpKind,
    repository: several[2]!,
    issue: Number(several[3]),
    target: parts,
  };
}

/** Whether what was signed binds this part (by name) at exactly this hash. */
export const bindsPart = (target: SignedTarget, part: string, hash: string): boolean =>
  typeof target !== "string" && target.some((p) => p.resource === part && p.hash === hash);

export interface StepUpInput {
  stepUp: StepUp | undefined;
  kind: StepUpKind;
  /** The whole comment, signature included. */
  body: string;
  repository: string;
  issue: number;
  /** The request's hash, or for `extend` the pending extension's (the part's, for a part). */
  hash: string;
  /**
   * On a request naming several resources: the part approved. The signature must then cover this
   * part by name at `hash`, among the parts its signed line lists; the proof records that list.
   */
  part?: string;
  /** The person's GitHub SSH signing keys (`GET /users/{login}/ssh_signing_keys`), as key lines. */
  signingKeys: readonly string[];
  login: string;
  /** The app's WebAuthn approval page for this request, when it serves one. */
  approvePage?: string;
}

export const stepUpRequired = (stepUp: StepUp | undefined): boolean => (stepUp?.methods.length ?? 0) > 0;

/**
 * Checks the step-up a policy requires. ok(null) when none is required; ok(proof) when the comment
 * carries a valid signature by one of the person's signing keys over this exact request.
 */
export function checkStepUp(input: StepUpInput): Result<SshSignatureProof | null, StepUpRefusal> {
  if (!stepUpRequired(input.stepUp)) return ok(null);
  const how = `run \`breakglass ${input.kind === "break-glass" ? "break-glass" : "approve"} ${input.repository}#${input.issue}${input.part === undefined ? "" : ` --resource ${input.part}`}\` with a key you added to GitHub as a *signing* key (Settings → SSH and GPG keys → New SSH key → Key type: Signing Key)`;
  const hardware = input.stepUp!.require_hardware_key;
  const methods = input.stepUp!.methods;
  if (!methods.includes("ssh-signature")) {
    // A comment can carry only an SSH signature; a passkey is used on the app's own approval page.
    return err({
      code: "step_up_required",
      message: `This policy accepts only a passkey (\`webauthn\`) as step-up, which a comment cannot carry. ${input.kind !== "break-glass" && input.approvePage ? `Approve ${input.kind === "extend" ? "the extension " : ""}on ${input.approvePage} with your passkey or security key (register one first at its /breakglass/passkeys page).` : "A break-glass self-approval cannot be made with a passkey: ask the policy's owners to add `ssh-signature` to its `step_up`."}`,
    });
  }
  if (!hasArmoredSignature(input.body)) {
    return err({
      code: "step_up_required",
      message: `This policy requires step-up proof: a plain comment is not enough. To ${ACTION[input.kind]}, ${how}${hardware ? " — a hardware security key (`ssh-keygen -t ed25519-sk`)" : ""}${methods.includes("webauthn") && input.kind !== "break-glass" && input.approvePage ? `; or approve with a passkey on ${input.approvePage}` : ""}.`,
    });
  }
  const stated = statedTarget(input.body);
  // One resource: its hash. A part: the parts the signed line lists, when they bind this one at its
  // hash now, else this part alone (so a signature over anything else is told apart below).
  const target: SignedTarget =
    input.part === undefined
      ? input.hash
      : stated &&
          stated.kind === input.kind &&
          stated.repository === input.repository &&
          stated.issue === input.issue &&
          bindsPart(stated.target, input.part, input.hash)
        ? stated.target
        : [{ resource: input.part, hash: input.hash }];
  const message = stepUpMessage(input.kind, input.repository, input.issue, target);
  const verified = verifySshSignature(input.body, message, STEP_UP_NAMESPACE);
  const part = input.part === undefined ? "" : `\`${input.part}\``;
  if (!verified.ok) {
    // The signature may be genuine but over something else: the line above it says what was signed.
    if (stated) {
      const other = stepUpMessage(stated.kind, stated.repository, stated.issue, stated.target);
      if (other !== message && verifySshSignature(input.body, other, STEP_UP_NAMESPACE).ok) {
        const what = wrongTarget(input, stated);
        const current =
          input.kind === "extend"
            ? `the extension waiting${part ? ` on ${part}` : ""} now`
            : `${part ? `${part} in ` : ""}this request as it is now`;
        return err({
          code: "step_up_wrong_request",
          message: `The signature is for ${what}, not for ${current} (hash \`${input.hash.slice(0, 16)}\`). Sign again: ${how}.`,
        });
      }
    }
    return err({
      code: "step_up_bad_signature",
      message: `The SSH signature does not verify for${part ? ` ${part} in` : ""} this request as it is now (${verified.error.replace("_", " ")}): it must be made with \`ssh-keygen -Y sign -n ${STEP_UP_NAMESPACE}\` over this repository, issue and ${part ? "each resource's name and hash" : "request hash"}. ${how[0]!.toUpperCase()}${how.slice(1)}.`,
    });
  }
  const checked = signedByGitHubSigningKey(verified.value, input.signingKeys, input.login, hardware);
  if (!checked.ok) return checked;
  const proof = sshProof(verified.value, extractArmor(input.body));
  return ok(typeof target === "string" ? proof : { ...proof, parts: target.map((p) => ({ ...p })) });
}

/** What a genuine signature over something else was for, in words. */
function wrongTarget(
  input: StepUpInput,
  stated: { kind: StepUpKind; repository: string; issue: number; target: SignedTarget },
): string {
  if (stated.repository !== input.repository || stated.issue !== input.issue)
    return `${stated.repository}#${stated.issue}`;
  if (stated.kind !== input.kind) return SIGNED_FOR[stated.kind];
  const earlier =
    input.kind === "extend" ? "another extension of this grant" : "an earlier version of this request";
  if (input.part === undefined)
    return typeof stated.target === "string" ? earlier : "resources of a request naming several";
  if (typeof stated.target === "string") return "a hash alone, naming no resource";
  const signed = stated.target.find((p) => p.resource === input.part);
  if (signed)
    return input.kind === "extend"
      ? `another extension of \`${input.part}\`'s grant`
      : `an earlier version of \`${input.part}\``;
  return `${stated.target.map((p) => `\`${p.resource}\``).join(", ")} only`;
}

/** What is recorded of an SSH signature that verified: the key, the armored signature, a security key's flags and counter. */
export function sshProof(verified: VerifiedSshSignature, armored: string): SshSignatureProof {
  return {
    method: "ssh-signature",
    key_type: verified.key.type,
    key_fingerprint: verified.key.fingerprint,
    signature: armored,
    ...(verified.flags !== undefined ? { flags: verified.flags, counter: verified.counter! } : {}),
  };
}

/**
 * The rules an SSH step-up signature that verified must also meet, shared by approvals and passkey
 * activation: made by one of the person's GitHub *signing* keys, a hardware key where required, and a
 * security key's signature only with a touch.
 */
export function signedByGitHubSigningKey(
  verified: VerifiedSshSignature,
  signingKeys: readonly string[],
  login: string,
  hardware: boolean,
): Result<null, StepUpRefusal> {
  const key = verified.key;
  const registered = signingKeys
    .map((line) => parsePublicKeyLine(line))
    .some((k) => k.ok && k.value.blob.equals(key.blob));
  if (!registered) {
    return err({
      code: "step_up_unknown_key",
      message: `The key that signed (${key.fingerprint}, ${key.type}) is not one of @${login}'s SSH signing keys on GitHub. Add it there as a *signing* key, or sign with one that is.`,
    });
  }
  if (hardware && !key.hardware) {
    return err({
      code: "step_up_not_hardware",
      message: `This policy accepts only hardware security keys; ${key.fingerprint} is a ${key.type} key stored on disk. Sign with an \`ed25519-sk\` or \`ecdsa-sk\` key.`,
    });
  }
  // A security key's signature counts only with a touch, as OpenSSH requires by default: without the
  // user-present flag, malware on the laptop could have had the key sign unattended.
  if (key.hardware && ((verified.flags ?? 0) & SK_USER_PRESENT) === 0) {
    return err({
      code: "step_up_bad_signature",
      message: `The security key ${key.fingerprint} signed without user presence (no touch): sign again and touch the key when it blinks.`,
    });
  }
  return ok(null);
}

/** The armored SSHSIG block of a text (the first), or "". */
export function extractArmor(body: string): string {
  const match = /-----BEGIN SSH SIGNATURE-----[\s\S]*?-----END SSH SIGNATURE-----/.exec(body);
  return match ? match[0] : "";
}

/**
 * Removes the signature block and the signed line from a comment, leaving the approver's note. The
 * start of the comment is never touched: whether a command stands at the very start (not indented,
 * not quoted) is decided on the text as written.
 */
export function withoutSignature(text: string): string {
  if (!hasArmoredSignature(text)) return text;
  return text
    .replace(/-----BEGIN SSH SIGNATURE-----[\s\S]*?-----END SSH SIGNATURE-----/g, "")
    .replace(SIGNED_LINE, "")
    .replace(SIGNED_PARTS_LINE, "")
    .replace(/\n{3,}/g, "\n\n")
    .trimEnd();
}

/**
 * Re-verifies a recorded step-up offline: the signature over the message the record names, with the
 * key embedded in it, whose fingerprint must be the recorded one. Returns a problem, or null.
 */
export function recheckStepUpProof(
  proof: SshSignatureProof,
  kind: StepUpKind,
  repository: string,
  issue: number,
  hash: string,
  part?: string,
): string | null {
  // A part's proof covers the parts it lists, and must list this one at the hash approved.
  if (part !== undefined && !proof.parts)
    return `it is for the part \`${part}\` of a request naming several resources but binds no resource`;
  if (proof.parts && (part === undefined || !bindsPart(proof.parts, part, hash)))
    return part === undefined
      ? "it binds parts of a request naming several resources, but the record is the request's own"
      : `its signature does not cover \`${part}\` at hash ${hash.slice(0, 16)}`;
  const verified = verifySshSignature(
    proof.signature,
    stepUpMessage(kind, repository, issue, proof.parts ?? hash),
    STEP_UP_NAMESPACE,
  );
  if (!verified.ok) return `its SSH signature does not verify (${verified.error})`;
  if (verified.value.key.fingerprint !== proof.key_fingerprint)
    return `its signature was made by ${verified.value.key.fingerprint}, not the recorded ${proof.key_fingerprint}`;
  return null;
}
