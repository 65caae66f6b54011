import type { RequestState } from "./lifecycle.ts";
import type { Policy } from "./types.ts";

/**
 * When an approved request stops being collectable (epoch ms), or null when it is not waiting to be
 * collected. An approval is for access now: one that no run collected within the policy's
 * `collect_within` cannot be turned into credentials a month later.
 */
export function collectDeadline(state: RequestState, policy: Pick<Policy, "approvals">): number | null {
  if (state.status !== "approved" || state.grant || !state.approved_at) return null;
  return Date.parse(state.approved_at) + policy.approvals.collect_within_seconds * 1000;
}

export function approvalExpired(
  state: RequestState,
  policy: Pick<Policy, "approvals">,
  now: number,
): boolean {
  const deadline = collectDeadline(state, policy);
  return deadline !== null && now >= deadline;
}
