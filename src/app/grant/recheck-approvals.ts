import { collectDeadline } from "../../core/approval-expiry.ts";
import { teamsAmong, type Permission } from "../../core/approvers.ts";
import { formatDuration } from "../../core/duration.ts";
import { approvalPolicyDigest } from "../../core/policy-digest.ts";
import {
  recheckApprovals,
  STALE_REASON_TEXT,
  type ApprovalFacts,
  type RecheckResult,
} from "../../core/recheck-approvals.ts";
import type { Policy } from "../../core/types.ts";
import { finishRequest } from "./finish-request.ts";
import type { RequestSession } from "../infra/request-session.ts";
import { approvalExpired, approvalsVoided } from "../../core/messages/approval-messages.ts";

/** The teams whose membership decides something about the requester: `requesters.teams` and on-call rules. */
export function requesterTeamsOf(policy: Policy): string[] {
  return [
    ...(policy.requesters.teams ?? []),
    ...policy.auto_approve.flatMap((r) => (r.on_call_team ? [r.on_call_team] : [])),
  ];
}

/** The teams among `teams` that `login` is a member of now, lower case. */
export async function teamsOfMember(
  session: RequestSession,
  login: string,
  teams: readonly string[],
): Promise<Set<string>> {
  const found = new Set<string>();
  for (const team of new Set(teams.map((t) => t.toLowerCase()))) {
    if ((await session.port.teamMembers(team)).some((m) => m.toLowerCase() === login.toLowerCase()))
      found.add(team);
  }
  return found;
}

/** Reads, fresh from GitHub and the default branch, everything recheckApprovals judges. */
async function factsFor(session: RequestSession, policy: Policy): Promise<ApprovalFacts> {
  const { state, port } = session;
  const people = state.approvals
    .filter((a) => a.via !== "auto" && a.via !== "break_glass")
    .map((a) => a.actor);
  const permissions = new Map<string, Permission>();
  for (const login of people) permissions.set(login.toLowerCase(), await port.permission(login));
  const teams = [
    ...teamsAmong(session.owners(policy)),
    ...state.approvals.flatMap((a) =>
      a.detail?.startsWith("@") && a.detail.includes("/") ? [a.detail] : [],
    ),
  ];
  return {
    policyDigest: approvalPolicyDigest(policy, state.request!.role),
    eligible: await session.approvers(policy),
    permissions,
    teamPermissions: await session.teamPermissions(teams),
    requesterPermission: state.requester ? await port.permission(state.requester) : "none",
    requesterTeams: state.requester
      ? await teamsOfMember(session, state.requester, requesterTeamsOf(policy))
      : new Set(),
  };
}

export type RecheckOutcome =
  { ok: true } | { ok: false; code: "approval_stale" | "requester_not_allowed"; message: string };
export type BeforeGrantOutcome = RecheckOutcome | { ok: false; code: "request_expired"; message: string };

/**
 * Checks the request's approvals against the owners, permissions and policy in force, and records
 * what no longer holds (`approvals_voided`, which sends an approved request back to waiting). Called
 * before an approval is recorded and by the exchange before anything is minted: a grant needs its
 * approvals to hold at the moment of the grant, not only when they were given.
 */
export async function recheckApprovalsNow(
  session: RequestSession,
  policy: Policy,
  at: "approval" | "exchange",
): Promise<RecheckOutcome> {
  const { state } = session;
  if ((state.status !== "requested" && state.status !== "approved") || !state.request) return { ok: true };
  const result = await recheckApprovals(state, policy, await factsFor(session, policy));
  const changed = result.voided.length > 0 || result.required !== state.required_approvals;
  if (changed) {
    const recorded = await session.record(
      `voided:${session.chain.length}`,
      {
        type: "approvals_voided",
        actor: session.deps.identity.login,
        voided: result.voided,
        required_approvals: result.required,
      },
      approvalsVoided(result, state.required_approvals),
    );
    if (recorded.ok) await session.publish();
  }
  // The same code at an /approve and at the exchange: it is the requester who is no longer allowed.
  if (result.requester)
    return { ok: false, code: "requester_not_allowed", message: result.requester.message };
  if (at === "exchange" && !result.complete) {
    const message = `The approvals of #${session.number} no longer hold (${describe(result)}); nothing was minted. Approvers: read the request and \`/approve\` again.`;
    return { ok: false, code: "approval_stale", message };
  }
  return { ok: true };
}

function describe(result: RecheckResult): string {
  if (result.voided.length === 0) return `the policy now asks for ${result.required} approval(s)`;
  return result.voided.map((v) => `@${v.actor} ${STALE_REASON_TEXT[v.reason]}`).join("; ");
}

/**
 * An approved request that no run collected within the policy's `collect_within` expires: recorded
 * once (it ends as timed out), said on the issue. Returns whether it is expired now.
 */
export async function expireIfUncollected(session: RequestSession, policy: Policy): Promise<boolean> {
  const deadline = collectDeadline(session.state, policy);
  if (deadline === null || session.deps.now() < deadline) return false;
  const within = policy.approvals.collect_within_seconds;
  await session.record(
    "approval_expired",
    { type: "approval_expired", actor: session.deps.identity.login, collect_within_seconds: within },
    approvalExpired(session.state.approved_at ?? "", within),
  );
  return true;
}

/**
 * The exchange's last look before minting: the approval has not expired and still holds. A refusal
 * has already been recorded and explained on the issue.
 */
export async function checkBeforeGrant(session: RequestSession): Promise<BeforeGrantOutcome> {
  const policy = session.policy();
  if (!policy || !session.state.request) return { ok: true };
  if (await expireIfUncollected(session, policy)) {
    await finishRequest(session);
    return {
      ok: false,
      code: "request_expired",
      message: `#${session.number} was approved at ${session.state.approved_at ?? "?"} but not collected within ${formatDuration(policy.approvals.collect_within_seconds)}; the approval expired. Open a new request.`,
    };
  }
  return recheckApprovalsNow(session, policy, "exchange");
}
