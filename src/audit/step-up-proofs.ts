import type { AuditEntry } from "../core/audit-chain.ts";
import type { LifecycleEvent } from "../core/lifecycle-events.ts";
import { recheckStepUpProof } from "../core/step-up.ts";
import type { ChainBreak } from "./chain-break.ts";

/**
 * Re-verifies every step-up proof in a chain offline: each recorded SSH signature must verify over the
 * exact request it approved (repository, issue, hash) with the recorded key. The app's signature on
 * the record says the key was the person's GitHub signing key at the time; this checks the proof itself.
 */
export function checkStepUpProofs(entries: readonly AuditEntry[], expect: { repo: string; issue: number }): { checked: number; breaks: ChainBreak[] } {
  const breaks: ChainBreak[] = [];
  let checked = 0;
  for (const entry of entries) {
    const event = entry.event as LifecycleEvent;
    if ((event.type !== "approved" && event.type !== "break_glass") || !event.step_up) continue;
    checked++;
    const problem = recheckStepUpProof(event.step_up, event.type === "approved" ? "approve" : "break-glass", expect.repo, expect.issue, event.hash);
    if (problem) breaks.push({ index: entry.seq, reason: `entry ${entry.seq}: the step-up proof of @${event.actor}'s ${event.type === "approved" ? "approval" : "break-glass"} fails: ${problem}` });
  }
  return { checked, breaks };
}
