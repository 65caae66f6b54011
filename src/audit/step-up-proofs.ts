import type { AuditEntry } from "../core/audit-chain.ts";
import type { LifecycleEvent } from "../core/lifecycle-events.ts";
import { recheckStepUpProof } from "../core/step-up.ts";
import type { ChainBreak } from "./chain-break.ts";

const KIND = { approved: "approve", break_glass: "break-glass", extension_approved: "extend" } as const;
const WHAT = { approved: "approval", break_glass: "break-glass", extension_approved: "approval of an extension" } as const;

/**
 * Re-verifies every step-up proof in a chain offline: each recorded SSH signature must verify over the
 * exact request it approved (repository, issue, hash) — or the exact extension with the recorded key. The app's signature on
 * the record says the key was the person's GitHub signing key at the time; this checks the proof itself.
 */
export function checkStepUpProofs(entries: readonly AuditEntry[], expect: { repo: string; issue: number }): { checked: number; breaks: ChainBreak[] } {
  const breaks: ChainBreak[] = [];
  let checked = 0;
  for (const entry of entries) {
    const event = entry.event as LifecycleEvent;
    if ((event.type !== "approved" && event.type !== "break_glass" && event.type !== "extension_approved") || !event.step_up) continue;
    checked++;
    // An extension's proof signs the extension's own hash (its extension_requested record), not the request's.
    const problem = recheckStepUpProof(event.step_up, KIND[event.type], expect.repo, expect.issue, event.hash);
    if (problem) breaks.push({ index: entry.seq, reason: `entry ${entry.seq}: the step-up proof of @${event.actor}'s ${WHAT[event.type]} fails: ${problem}` });
  }
  return { checked, breaks };
}
