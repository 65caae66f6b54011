import type { AuditEntry } from "../core/audit-chain.ts";
import type { LifecycleEvent } from "../core/lifecycle-events.ts";
import { recheckPasskeyActivation, waitingPeriodProblem } from "../core/passkey-activation.ts";
import { recheckStepUpProof, type WebAuthnProof } from "../core/step-up.ts";
import type { ChainBreak } from "./chain-break.ts";
import { recheckWebAuthnProof } from "./webauthn-proof.ts";

const KIND = { approved: "approve", break_glass: "break-glass", extension_approved: "extend" } as const;
const WHAT = {
  approved: "approval",
  break_glass: "break-glass",
  extension_approved: "approval of an extension",
} as const;

/**
 * Re-verifies every step-up proof in a chain offline: each recorded SSH signature or WebAuthn assertion must verify over the
 * exact request it approved (repository, issue, hash) — or the exact extension with the recorded key. The app's signature on
 * the record says the key was the person's GitHub signing key at the time; this checks the proof itself.
 */
export async function checkStepUpProofs(
  entries: readonly AuditEntry[],
  expect: { repo: string; issue: number },
): Promise<{ checked: number; breaks: ChainBreak[] }> {
  const breaks: ChainBreak[] = [];
  let checked = 0;
  for (const entry of entries) {
    const event = entry.event as LifecycleEvent;
    if (
      (event.type !== "approved" && event.type !== "break_glass" && event.type !== "extension_approved") ||
      !event.step_up
    )
      continue;
    checked++;
    // An extension's proof signs the extension's own hash (its extension_requested record), not the request's.
    const proof = event.step_up;
    // A part of a request naming several resources: its proof binds the part by name and hash.
    const part = (event as { part?: string }).part;
    const bound = part === undefined ? event.hash : [{ resource: part, hash: event.hash }];
    const problem =
      proof.method === "webauthn"
        ? ((await recheckWebAuthnProof(proof, KIND[event.type], expect.repo, expect.issue, bound)) ??
          recheckActivation(proof, expect.repo.split("/")[0]!, event.actor, entry.at))
        : recheckStepUpProof(proof, KIND[event.type], expect.repo, expect.issue, event.hash, part);
    if (problem)
      breaks.push({
        index: entry.seq,
        reason: `entry ${entry.seq}: the step-up proof of @${event.actor}'s ${WHAT[event.type]} fails: ${problem}`,
      });
  }
  return { checked, breaks };
}

/**
 * A passkey counts only once active: the approval must carry how it became active before the
 * approval — an SSH signature over this owner, login, credential id and binding (re-verified here), or a
 * waiting period that ended before the approval's time.
 */
function recheckActivation(proof: WebAuthnProof, owner: string, login: string, at: string): string | null {
  const activation = proof.activation;
  if (!activation)
    return "it records no activation of its passkey: the passkey may have been registered with a stolen session and used at once";
  // The app's own rule (core/passkey-activation.ts): the recorded length, and over at the approval's time.
  if (activation.method === "waiting-period") return waitingPeriodProblem(activation, Date.parse(at));
  if (Date.parse(activation.at) > Date.parse(at))
    return `its passkey was activated at ${activation.at}, after the approval`;
  // Bound activations (the page's nonce, the registered public key's hash) are checked over what they bound,
  // whose key hash must be this passkey's; activations recorded before the binding existed over the first message.
  return recheckPasskeyActivation(
    activation.proof,
    owner,
    login,
    proof.credential_id,
    activation.binding,
    proof.public_key,
  );
}
