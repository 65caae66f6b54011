import { hasWriteAccess, type Eligibility, type Permission } from "./approvers.ts";
import type { LifecycleEvent } from "./lifecycle-events.ts";
import { AWAITING_DECISION, LIVE, type RequestState } from "./lifecycle.ts";
import { formatDuration } from "./duration.ts";
import { isReadableReason, visibleLength } from "./reason-text.ts";
import { ok, type Result } from "./result.ts";
import { refuse, type Refusal } from "./refusal.ts";
import type { AccessRequest, Policy } from "./types.ts";

/** The person behind a command, as GitHub reported them in the webhook and the permission API. */
export interface Actor {
  login: string;
  /** `sender.type` from the webhook: "User", "Bot", "Organization", "Mannequin". */
  type: string;
  permission: Permission;
  /** Set when the person may approve this resource (CODEOWNER of its policy, directly or via a team). */
  eligibility: Eligibility | null;
}

const same = (a: string | null, b: string): boolean => a !== null && a.toLowerCase() === b.toLowerCase();
/** Bots and apps never approve, revoke or start a grant run: GitHub logins ending in `[bot]` are apps too. */
export const isBot = (actor: Pick<Actor, "type" | "login">): boolean =>
  actor.type !== "User" || /\[bot\]$/i.test(actor.login);

function checkApprover(state: RequestState, actor: Actor, what: string): Refusal | null {
  if (isBot(actor)) return { code: "bot_approver", message: `Bots and apps cannot ${what}; a person must.` };
  if (same(state.requester, actor.login)) {
    return {
      code: "self_approval",
      message: `You opened this request, so you cannot ${what} it. Ask one of the approvers listed above.`,
    };
  }
  if (!actor.eligibility) {
    return {
      code: "not_codeowner",
      message: `Only CODEOWNERS of the resource's policy file may ${what}; @${actor.login} is not one of them.`,
    };
  }
  if (!hasWriteAccess(actor.permission)) {
    return {
      code: "insufficient_permission",
      message: `Approvers need write access to this repository; @${actor.login} has ${actor.permission}.`,
    };
  }
  return null;
}

/** Decides an `/approve`: who may approve, and that it binds to the request as it is now. */
export function decideApproval(
  state: RequestState,
  actor: Actor,
  note?: string,
): Result<LifecycleEvent, Refusal> {
  if (state.status === "invalid") {
    return refuse(
      "invalid_request",
      "The request is not valid yet; approve it after the requester fixes it.",
    );
  }
  if (state.status !== "requested" || state.hash === null) {
    return refuse("not_pending", `The request is ${state.status}; there is nothing to approve.`);
  }
  const problem = checkApprover(state, actor, "approve");
  if (problem) return { ok: false, error: problem };
  if (state.approvals.some((a) => same(a.actor, actor.login))) {
    return refuse(
      "duplicate_approval",
      `@${actor.login} has already approved this request; each person counts once.`,
    );
  }
  const eligibility = actor.eligibility!;
  return ok({
    type: "approved",
    actor: actor.login,
    hash: state.hash,
    via: eligibility.via,
    ...(eligibility.team ? { team: eligibility.team } : {}),
    ...(note ? { note } : {}),
  });
}

/** Decides a `/deny`: any eligible approver other than the requester, while the request is undecided. */
export function decideDenial(
  state: RequestState,
  actor: Actor,
  reason: string,
): Result<LifecycleEvent, Refusal> {
  if (!AWAITING_DECISION.has(state.status)) {
    return refuse(
      "not_pending",
      `The request is ${state.status}; it can no longer be denied. Use /revoke on an active grant.`,
    );
  }
  const problem = checkApprover(state, actor, "deny");
  if (problem) return { ok: false, error: problem };
  return ok({ type: "denied", actor: actor.login, reason });
}

/** Decides a `/cancel`: the requester only. An active grant is revoked instead (see decideRevocation). */
export function decideCancellation(
  state: RequestState,
  actor: Actor,
  reason?: string,
): Result<LifecycleEvent, Refusal> {
  if (!same(state.requester, actor.login)) {
    return refuse(
      "not_requester",
      "Only the person who opened the request can cancel it; approvers can /deny it.",
    );
  }
  if (!AWAITING_DECISION.has(state.status)) {
    return refuse(
      "not_pending",
      LIVE.has(state.status)
        ? "The grant is already active; use /revoke to end it now."
        : `The request is ${state.status}; there is nothing to cancel.`,
    );
  }
  return ok({ type: "cancelled", actor: actor.login, ...(reason ? { reason } : {}) });
}

/** Decides a `/revoke`: the requester, anyone who approved, or an eligible approver, while a grant is live. */
export function decideRevocation(state: RequestState, actor: Actor): Result<"revoke", Refusal> {
  if (!LIVE.has(state.status) || !state.grant) {
    return refuse("not_active", `There is no active grant to revoke (the request is ${state.status}).`);
  }
  const approvedIt = state.approvals.some((a) => same(a.actor, actor.login));
  const allowed =
    !isBot(actor) && (same(state.requester, actor.login) || approvedIt || actor.eligibility !== null);
  if (!allowed) {
    return refuse(
      "not_allowed_to_revoke",
      "Only the requester, an approver of this request or a CODEOWNER of the resource's policy can revoke it.",
    );
  }
  return ok("revoke");
}

/** Decides `/break-glass <reason>`: self-approval, only where the policy allows it. */
export function decideBreakGlass(
  state: RequestState,
  policy: Policy,
  actor: Actor,
  reason: string,
  /** The requester's break-glass self-approvals in the last 30 days, from their other requests' records. */
  priorUses30d = 0,
): Result<LifecycleEvent, Refusal> {
  if (state.status !== "requested" || state.hash === null) {
    return refuse(
      "not_pending",
      `The request is ${state.status}; break-glass only applies to a pending request.`,
    );
  }
  if (state.request?.retroactive)
    return refuse(
      "retroactive_record",
      "This is a retroactive record of access already taken: it needs the policy's approvals after the fact, and nothing is granted from it, so `/break-glass` does not apply.",
    );
  if (!same(state.requester, actor.login)) {
    return refuse(
      "not_requester",
      "Only the requester can break the glass on their own request; approvers use /approve.",
    );
  }
  if (!policy.break_glass.allowed) {
    return refuse(
      "break_glass_not_allowed",
      `The ${policy.resource} policy does not allow break-glass self-approval; an approver must /approve.`,
    );
  }
  if (visibleLength(reason) < 10 || !isReadableReason(reason)) {
    return refuse(
      "invalid_command",
      "Break-glass needs a reason of at least 10 visible characters, with letters or digits: `/break-glass <why>`.",
    );
  }
  return ok({
    type: "break_glass",
    actor: actor.login,
    hash: state.hash,
    reason,
    ...(priorUses30d > 0 ? { prior_uses_30d: priorUses30d } : {}),
  });
}

/**
 * Decides `/extend <duration> <reason>` by the requester: the whole grant, extension included, must
 * stay within the policy's max_duration.
 */
export function decideExtensionRequest(
  state: RequestState,
  policy: Policy,
  actor: Actor,
  seconds: number,
  reason: string,
  hash: string,
): Result<LifecycleEvent, Refusal> {
  if (state.status !== "active" || !state.grant)
    return refuse("not_active", "Only an active grant can be extended.");
  if (!same(state.requester, actor.login))
    return refuse("not_requester", "Only the requester can ask for an extension.");
  if (state.extension) return refuse("extension_pending", "An extension is already waiting for approval.");
  const total = (Date.parse(state.grant.expires_at) - Date.parse(state.grant.granted_at)) / 1000 + seconds;
  if (total > policy.max_duration_seconds) {
    return refuse(
      "extension_too_long",
      `With ${formatDuration(seconds)} more the grant would last ${formatDuration(total)}, over the policy's maximum of ${formatDuration(policy.max_duration_seconds)}. Open a new request instead.`,
    );
  }
  return ok({ type: "extension_requested", actor: actor.login, seconds, reason, hash });
}

/** Decides an `/approve` while an extension is pending: same approver rules as the request itself. */
export function decideExtensionApproval(state: RequestState, actor: Actor): Result<LifecycleEvent, Refusal> {
  if (state.status !== "active" || !state.extension) {
    return refuse("no_extension_pending", "There is no extension waiting for approval.");
  }
  const problem = checkApprover(state, actor, "approve an extension of");
  if (problem) return { ok: false, error: problem };
  return ok({ type: "extension_approved", actor: actor.login, hash: state.extension.hash });
}

/** The first auto-approval rule of the policy that the request meets, or null. */
export function matchAutoApproveRule(
  policy: Policy,
  request: AccessRequest,
  requesterTeams: ReadonlySet<string>,
): string | null {
  for (const rule of policy.auto_approve) {
    if (rule.drill_only && !request.drill) continue;
    if (rule.roles && !rule.roles.includes(request.role)) continue;
    if (rule.severities && !rule.severities.includes(request.severity)) continue;
    if (rule.max_duration_seconds !== undefined && request.duration_seconds > rule.max_duration_seconds)
      continue;
    if (rule.on_call_team && !requesterTeams.has(rule.on_call_team.toLowerCase())) continue;
    return rule.name;
  }
  return null;
}

/** Overuse limits from the policy, checked when a request is opened and when it would be granted. */
export function checkLimits(
  policy: Policy,
  usage: { activeGrants: number; requestsToday: number },
  at: "request" | "grant",
): Result<true, Refusal> {
  if (at === "request" && usage.requestsToday > policy.limits.max_requests_per_user_per_day) {
    return refuse(
      "limit_requests_per_day",
      `Limit reached: at most ${policy.limits.max_requests_per_user_per_day} requests per person per day for ${policy.resource} (this is number ${usage.requestsToday}).`,
    );
  }
  if (usage.activeGrants >= policy.limits.max_active_grants_per_user) {
    return refuse(
      "limit_active_grants",
      `Limit reached: at most ${policy.limits.max_active_grants_per_user} active grant(s) per person for ${policy.resource}. Revoke the other grant first.`,
    );
  }
  return ok(true);
}
