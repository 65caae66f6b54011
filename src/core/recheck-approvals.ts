import { hasWriteAccess, type Eligibility, type Permission } from "./approvers.ts";
import { matchAutoApproveRule } from "./approval-rules.ts";
import type { VoidedApproval } from "./lifecycle-events.ts";
import { approvalsComplete, type RequestState } from "./lifecycle.ts";
import { checkRequester } from "./requester-eligibility.ts";
import type { Refusal } from "./refusal.ts";
import { stepUpRequired } from "./step-up.ts";
import type { Policy, StepUp } from "./types.ts";

/** What is true now, read fresh from GitHub and the default branch by the caller. */
export interface ApprovalFacts {
  /** Digest of the policy in force for the request's role (policy-digest.ts). */
  policyDigest: string;
  /** Who may approve now: CODEOWNERS of the policy file on the default branch, teams expanded (only teams with write access). */
  eligible: ReadonlyMap<string, Eligibility>;
  /** Repository permission of each human approver, by lower-case login. */
  permissions: ReadonlyMap<string, Permission>;
  /** Repository permission of each owning team, by lower-case "@org/slug". */
  teamPermissions: ReadonlyMap<string, Permission>;
  requesterPermission: Permission;
  /** Teams (lower-case "@org/slug") the requester is a member of, among those the policy names. */
  requesterTeams: ReadonlySet<string>;
}

export interface RecheckResult {
  /** Approvals that no longer hold, each with its reason. */
  voided: VoidedApproval[];
  /** Approvals the policy in force asks for. */
  required: number;
  /** Whether what is left still approves the request under the policy in force. */
  complete: boolean;
  /** Set when the requester may no longer request this resource at all. */
  requester: Refusal | null;
}

/**
 * Checks a request's approvals again against what holds now rather than what held when each was
 * given: the approver must still be an owner (a removed team member, a team that lost write access,
 * a CODEOWNERS change on the default branch all count), still have write access, and the policy's
 * terms must be the ones they approved under. Auto-approvals need their rule to still match; a
 * break-glass approval needs the policy to still allow it. Called when an approval would complete a
 * request and again at the exchange, right before anything is minted.
 */
export function recheckApprovals(state: RequestState, policy: Policy, facts: ApprovalFacts): RecheckResult {
  const voided: VoidedApproval[] = [];
  const requesterCheck = state.requester
    ? checkRequester(
        policy,
        state.requester,
        facts.requesterPermission,
        facts.requesterTeams,
        state.request?.drill ?? false,
      )
    : null;
  const requester = requesterCheck && !requesterCheck.ok ? requesterCheck.error : null;
  for (const approval of state.approvals) {
    const reason = staleReason(approval, state, policy, facts, requester !== null);
    if (reason) voided.push({ actor: approval.actor, reason });
  }
  const gone = new Set(voided.map((v) => v.actor.toLowerCase()));
  const left = state.approvals.filter((a) => !gone.has(a.actor.toLowerCase()));
  return {
    voided,
    required: policy.approvals.required,
    complete: requester === null && approvalsComplete(left, policy.approvals.required),
    requester,
  };
}

function staleReason(
  approval: RequestState["approvals"][number],
  state: RequestState,
  policy: Policy,
  facts: ApprovalFacts,
  requesterRefused: boolean,
): VoidedApproval["reason"] | null {
  if (requesterRefused) return "requester_not_allowed";
  // Records from before approvals carried a digest cannot show what they agreed to: treated as changed.
  if (approval.policy_digest !== facts.policyDigest) return "policy_changed";
  if (approval.via === "auto") {
    const rule = policy.auto_approve.find((r) => r.name === approval.detail);
    const still =
      rule &&
      state.request &&
      matchAutoApproveRule({ ...policy, auto_approve: [rule] }, state.request, facts.requesterTeams) ===
        rule.name;
    return still ? null : "rule_no_longer_matches";
  }
  if (approval.via === "break_glass")
    return !policy.break_glass.allowed
      ? "break_glass_not_allowed"
      : lacksStepUp(approval, policy.break_glass.step_up)
        ? "step_up_missing"
        : null;
  // The step-up is not in the policy digest (loosening it needs no fresh approval), so an approval given
  // without the proof the policy in force requires is caught here: turning step-up on, say after a
  // stolen session, must stop approvals already given from that session.
  if (lacksStepUp(approval, policy.approvals.step_up)) return "step_up_missing";
  const login = approval.actor.toLowerCase();
  if (!facts.eligible.has(login)) {
    const team = approval.detail?.toLowerCase();
    return team && !hasWriteAccess(facts.teamPermissions.get(team) ?? "none")
      ? "team_without_write"
      : "not_codeowner";
  }
  if (!hasWriteAccess(facts.permissions.get(login) ?? "none")) return "insufficient_permission";
  return null;
}

function lacksStepUp(approval: RequestState["approvals"][number], stepUp: StepUp | undefined): boolean {
  if (!stepUpRequired(stepUp)) return false;
  if (!approval.step_up_key) return true;
  // A method the policy in force no longer accepts (a passkey where it now takes only SSH signatures) does not count.
  const method = approval.step_up_key.startsWith("webauthn:") ? "webauthn" : "ssh-signature";
  return !stepUp!.methods.includes(method) || (stepUp!.require_hardware_key && !approval.step_up_hardware);
}

/** Human words for a voided approval's reason, for the comment on the issue. */
export const STALE_REASON_TEXT: Record<VoidedApproval["reason"], string> = {
  not_codeowner:
    "is no longer a CODEOWNER of the policy file (directly or through a team) on the default branch",
  insufficient_permission: "no longer has write access to the repository",
  team_without_write: "approved through a team that no longer has write access to the repository",
  policy_changed: "approved under policy terms that have changed since",
  rule_no_longer_matches:
    "was an auto-approval rule that the policy in force no longer has or that no longer matches",
  break_glass_not_allowed: "was a break-glass self-approval, which the policy in force no longer allows",
  requester_not_allowed: "was given to a requester the policy no longer allows",
  request_edited_unseen:
    "was given while the request's body was changed by an edit Breakglass never received",
  step_up_missing:
    "was given without the step-up proof (method or hardware key) the policy in force requires",
};
