import { createHash } from "node:crypto";
import { err, ok, type Result } from "./result.ts";
import {
  extractArmor,
  signedByGitHubSigningKey,
  sshProof,
  type PasskeyActivation,
  STEP_UP_NAMESPACE,
  type SshSignatureProof,
  type StepUpRefusal,
} from "./step-up.ts";
import { hasArmoredSignature, verifySshSignature } from "./sshsig.ts";

/**
 * A passkey registered on the app's page proves only that someone held the person's GitHub sign-in
 * session, which is exactly what step-up must not rest on. So a new passkey counts for nothing until
 * it is *activated*: at once by an SSH signature (`ssh-keygen -Y sign -n breakglass`, as for an
 * approval) by one of the person's GitHub *signing* keys over {@link passkeyActivationMessage}, or
 * else when its waiting period has passed — announced to the notify targets and shown on the
 * passkeys page meanwhile, so the person can remove a passkey they did not register.
 */
export const DEFAULT_PASSKEY_ACTIVATION_WAIT_SECONDS = 24 * 3600;

/**
 * What an activation signature binds besides owner, login and credential id: the registered public
 * key (SHA-256 of its base64url COSE form, hex), the registration's time, and a one-time nonce the
 * page gives only after that very passkey answered an assertion in the signer's session — so the page
 * never hands a person a ready command that activates a passkey someone else registered in their name.
 */
export interface ActivationBinding {
  public_key_sha256: string;
  registered_at: string;
  nonce: string;
}

/** The SHA-256 (hex) of a passkey's registered public key (base64url COSE), as activation binds it. */
export const publicKeySha256 = (publicKey: string): string =>
  createHash("sha256").update(publicKey, "utf8").digest("hex");

/**
 * The exact bytes signed to activate a passkey (UTF-8, LF line ends): owner, login (lower case),
 * credential id, then the binding. Without a binding, the first version's message, which activations
 * recorded before the binding existed were signed over (audit verify still reads them; the app no
 * longer takes it).
 */
export function passkeyActivationMessage(
  owner: string,
  login: string,
  credentialId: string,
  binding?: ActivationBinding,
): string {
  const head = `${owner.toLowerCase()}\n${login.toLowerCase()}\n${credentialId}\n`;
  if (!binding) return `breakglass-passkey\n${head}`;
  return `breakglass-passkey-v2\n${head}${binding.public_key_sha256}\n${binding.registered_at}\n${binding.nonce}\n`;
}

const CREDENTIAL_ID = /^[A-Za-z0-9_-]{16,1365}$/;
export const isCredentialId = (id: string): boolean => CREDENTIAL_ID.test(id);
export const isActivationNonce = (nonce: string): boolean => /^[A-Za-z0-9_-]{16,64}$/.test(nonce);

/** The command that signs an activation, as the page shows it once the passkey answered in this session. */
export const passkeyConfirmCommand = (
  owner: string,
  login: string,
  credentialId: string,
  binding: ActivationBinding,
): string =>
  `breakglass passkey confirm ${owner} ${credentialId} --login ${login} --passkey-sha256 ${binding.public_key_sha256} --registered-at ${binding.registered_at} --nonce ${binding.nonce}`;

/**
 * Checks an activation signature: it must verify over this owner, login, credential id and binding,
 * with a key that is one of the person's GitHub signing keys (the rules of an SSH-signature approval).
 */
export function checkPasskeyActivation(input: {
  owner: string;
  login: string;
  credentialId: string;
  binding: ActivationBinding;
  /** The pasted text holding the armored signature. */
  signature: string;
  signingKeys: readonly string[];
}): Result<SshSignatureProof, StepUpRefusal> {
  const how = `run \`${passkeyConfirmCommand(input.owner, input.login, input.credentialId, input.binding)}\` and paste what it prints`;
  if (!hasArmoredSignature(input.signature))
    return err({
      code: "step_up_required",
      message: `Paste an SSH signature (-----BEGIN SSH SIGNATURE----- …): ${how}.`,
    });
  const message = passkeyActivationMessage(input.owner, input.login, input.credentialId, input.binding);
  const verified = verifySshSignature(input.signature, message, STEP_UP_NAMESPACE);
  if (!verified.ok)
    return err({
      code: "step_up_bad_signature",
      message: `The SSH signature does not verify for this passkey (${verified.error.replace("_", " ")}): it must be made with \`ssh-keygen -Y sign -n ${STEP_UP_NAMESPACE}\` over this owner, login, credential id, the passkey's public key, its registration time and the nonce this page gave you now; ${how}.`,
    });
  const checked = signedByGitHubSigningKey(verified.value, input.signingKeys, input.login, false);
  if (!checked.ok) return checked;
  return ok(sshProof(verified.value, extractArmor(input.signature)));
}

/**
 * Re-verifies a recorded activation signature offline; a problem, or null. With a binding, its public
 * key hash must be that of the passkey that approved (`publicKey`, base64url COSE).
 */
export function recheckPasskeyActivation(
  proof: SshSignatureProof,
  owner: string,
  login: string,
  credentialId: string,
  binding?: ActivationBinding,
  publicKey?: string,
): string | null {
  if (binding && publicKey !== undefined && binding.public_key_sha256 !== publicKeySha256(publicKey))
    return `its activation was signed over public key ${binding.public_key_sha256.slice(0, 16)}…, not the passkey's own (${publicKeySha256(publicKey).slice(0, 16)}…)`;
  const verified = verifySshSignature(
    proof.signature,
    passkeyActivationMessage(owner, login, credentialId, binding),
    STEP_UP_NAMESPACE,
  );
  if (!verified.ok) return `its activation signature does not verify (${verified.error})`;
  if (verified.value.key.fingerprint !== proof.key_fingerprint)
    return `its activation was signed by ${verified.value.key.fingerprint}, not the recorded ${proof.key_fingerprint}`;
  return null;
}

/** The shortest waiting period the app may be configured with (`BREAKGLASS_PASSKEY_ACTIVATION_WAIT`). */
export const MIN_PASSKEY_ACTIVATION_WAIT_SECONDS = 3600;

/** What the records say of one passkey's activation. */
export interface PasskeyActivationState {
  registered_at: string;
  /** When the waiting period ends (recorded with the registration). */
  active_from: string;
  /**
   * The waiting period the app was configured with when the passkey was registered (recorded with it
   * since audit verify checks it); absent for registrations recorded before it was.
   */
  activation_wait_seconds?: number;
  /** An SSH-signature activation recorded before the waiting period ended. */
  activated?: { at: string; proof: SshSignatureProof; binding?: ActivationBinding };
}

/**
 * The waiting period of a registration as recorded. One recorded before activation existed names no
 * end: it waits the default from its own time (so one made with a stolen session just before the
 * upgrade waits too), whatever the app is configured with now. The app (reading the records) and audit
 * verify (reading an approval's activation, which carries what this returns) use this one rule.
 */
export function recordedWaitingPeriod(
  registeredAt: string,
  recorded: { active_from?: string; activation_wait_seconds?: number },
): { active_from: string; activation_wait_seconds?: number } {
  if (recorded.active_from === undefined)
    return {
      active_from: new Date(
        Date.parse(registeredAt) + DEFAULT_PASSKEY_ACTIVATION_WAIT_SECONDS * 1000,
      ).toISOString(),
      activation_wait_seconds: DEFAULT_PASSKEY_ACTIVATION_WAIT_SECONDS,
    };
  return {
    active_from: recorded.active_from,
    ...(recorded.activation_wait_seconds !== undefined
      ? { activation_wait_seconds: recorded.activation_wait_seconds }
      : {}),
  };
}

/**
 * What is wrong with a waiting period at time `at`, or null when it has ended: it must be as long as
 * the setting recorded with the registration (no setting recorded: at least the minimum the app takes),
 * and over. The same rule for an approval on the page and for `breakglass audit verify`.
 */
export function waitingPeriodProblem(
  period: { registered_at: string; active_from: string; activation_wait_seconds?: number },
  at: number,
): string | null {
  const length = (Date.parse(period.active_from) - Date.parse(period.registered_at)) / 1000;
  const wanted = period.activation_wait_seconds;
  if (!Number.isFinite(length)) return "its waiting period names no valid times";
  if (wanted !== undefined && (wanted < MIN_PASSKEY_ACTIVATION_WAIT_SECONDS || length !== wanted))
    return `its waiting period (registered ${period.registered_at}, active from ${period.active_from}: ${length} s) is not the ${wanted} s recorded with its registration${wanted < MIN_PASSKEY_ACTIVATION_WAIT_SECONDS ? ", nor the 1 h minimum" : ""}`;
  if (wanted === undefined && length < MIN_PASSKEY_ACTIVATION_WAIT_SECONDS)
    return `its waiting period (registered ${period.registered_at}, active from ${period.active_from}) is shorter than the 1 h minimum`;
  if (Date.parse(period.active_from) > at)
    return `its passkey's waiting period (registered ${period.registered_at}, active from ${period.active_from}) had not ended at ${new Date(at).toISOString()}`;
  return null;
}

/** The activation in force at `now`, or the refusal `step_up_passkey_not_active`. */
export function passkeyActivation(
  key: PasskeyActivationState & { credential_id: string },
  now: number,
): Result<PasskeyActivation, StepUpRefusal> {
  if (key.activated) return ok({ method: "ssh-signature", ...key.activated });
  const period = {
    registered_at: key.registered_at,
    active_from: key.active_from,
    ...(key.activation_wait_seconds !== undefined
      ? { activation_wait_seconds: key.activation_wait_seconds }
      : {}),
  };
  const problem = waitingPeriodProblem(period, now);
  if (problem === null) return ok({ method: "waiting-period", ...period });
  return err({
    code: "step_up_passkey_not_active",
    message:
      Date.parse(key.active_from) > now
        ? `The passkey \`${key.credential_id.slice(0, 16)}\` was registered at ${key.registered_at} and is not active yet: it becomes active at ${key.active_from} unless removed, or at once when you confirm it with an SSH signature on the /breakglass/passkeys page.`
        : `The passkey \`${key.credential_id.slice(0, 16)}\` is not active: ${problem}. Confirm it with an SSH signature on the /breakglass/passkeys page.`,
  });
}

/**
 * A WebAuthn signature counter must grow from one assertion to the next once it is not zero (an
 * authenticator that keeps no counter always says 0): a counter that does not is a cloned
 * authenticator, or an assertion kept back and replayed out of order.
 */
export function checkSignatureCounter(
  stored: number,
  received: number,
  credentialId: string,
): Result<null, StepUpRefusal> {
  if ((stored > 0 || received > 0) && received <= stored)
    return err({
      code: "step_up_passkey_cloned",
      message: `The passkey \`${credentialId.slice(0, 16)}\` answered with signature counter ${received}, not above the ${stored} it reached before: it may have been cloned. It is refused; remove it on /breakglass/passkeys and tell the app's operators if you did not expect this.`,
    });
  return ok(null);
}

/** Normalises an AAGUID for comparison (lower case, with dashes). */
export const normalAaguid = (aaguid: string): string => aaguid.trim().toLowerCase();

/**
 * Whether a passkey is a hardware security key for `require_hardware_key`: device-bound, with an
 * attestation chain to a trusted root (core/attestation-trust.ts: checked again at each approval,
 * against the roots configured then), and an AAGUID (authenticator model) on the policy's trust
 * list. No list, or no trusted attestation: no passkey is hardware.
 */
export function isHardwarePasskey(
  key: { device_type: string; aaguid: string },
  trusted: readonly string[] | undefined,
  attestationTrusted: boolean,
): boolean {
  if (key.device_type !== "singleDevice" || !attestationTrusted) return false;
  return (trusted ?? []).some((a) => normalAaguid(a) === normalAaguid(key.aaguid));
}

/**
 * A change to a person's passkeys that needs step-up once they have an active passkey: registering
 * another, or removing one — else a stolen sign-in session could remove the victim's passkeys or add
 * its own beside them. What is signed (by an active passkey's assertion, as its challenge, or by an
 * SSH signing key with `ssh-keygen -Y sign -n breakglass`): owner, login, the change and a one-time nonce.
 */
export type PasskeyChange = "register" | `remove:${string}`;

export const isPasskeyChange = (change: string): change is PasskeyChange =>
  change === "register" || (change.startsWith("remove:") && isCredentialId(change.slice(7)));

export function passkeyChangeMessage(
  owner: string,
  login: string,
  change: PasskeyChange,
  nonce: string,
): string {
  return `breakglass-passkey-change\n${owner.toLowerCase()}\n${login.toLowerCase()}\n${change}\n${nonce}\n`;
}

/** Checks an SSH-signature step-up for a passkey change (the rules of an approval's signature). */
export function checkPasskeyChangeSignature(input: {
  owner: string;
  login: string;
  change: PasskeyChange;
  nonce: string;
  signature: string;
  signingKeys: readonly string[];
}): Result<SshSignatureProof, StepUpRefusal> {
  const message = passkeyChangeMessage(input.owner, input.login, input.change, input.nonce);
  const verified = verifySshSignature(input.signature, message, STEP_UP_NAMESPACE);
  if (!verified.ok)
    return err({
      code: "step_up_bad_signature",
      message: `The SSH signature does not verify over this change (${verified.error.replace("_", " ")}): sign exactly the message the page shows, with \`ssh-keygen -Y sign -n ${STEP_UP_NAMESPACE}\`.`,
    });
  const checked = signedByGitHubSigningKey(verified.value, input.signingKeys, input.login, false);
  if (!checked.ok) return checked;
  return ok(sshProof(verified.value, extractArmor(input.signature)));
}
