import { checkLimits, matchAutoApproveRule } from "../../core/approval-rules.ts";
import { LIVE } from "../../core/lifecycle.ts";
import { escapeInline } from "../../core/markdown.ts";
import { requestHash } from "../../core/request-hash.ts";
import type { FieldError } from "../../core/result.ts";
import type { AccessRequest, Policy } from "../../core/types.ts";
import { approvalPolicyDigest } from "../../core/policy-digest.ts";
import { checkRequester } from "../../core/requester-eligibility.ts";
import { teamsOfMember } from "../grant/recheck-approvals.ts";
import type { BreakglassDeps } from "../infra/deps.ts";
import { findIncident, incidentRefusal } from "./check-incident.ts";
import { formatIssueRef } from "../../core/incident-issue.ts";
import { intakeRefused, requestRecorded } from "../../core/messages/request-messages.ts";
import { otherRequestsOf } from "../infra/requester-requests.ts";
import type { RecordOptions, RequestSession } from "../infra/request-session.ts";

const DAY_MS = 24 * 3600 * 1000;

/** What recordRequest did: recorded it (the caller publishes and dispatches), refused it (and said so), or lost to another writer. */
export type RecordRequestOutcome = "recorded" | "refused" | "lost";

/**
 * Records one valid request (or one resource's part of a request naming several, when `session` is
 * that part's view): the requester's limits and eligibility and the incident are checked first, then
 * the request is recorded (voiding approvals of an earlier version), auto-approved when a rule of its
 * policy matches, and its policy's notification targets told.
 */
export async function recordRequest(
  session: RequestSession,
  request: AccessRequest,
  {
    requester,
    editor,
    stillCurrent,
  }: { requester: string; editor: string; stillCurrent: RecordOptions["stillCurrent"] },
): Promise<RecordRequestOutcome> {
  const { deps, port, state } = session;
  const hash = requestHash(request);
  const policy = session.policy(request.resource)!;
  const isNew =
    state.status === "new" ||
    (state.status === "invalid" && state.request === null && session.chain.length <= 1);
  // Access already taken must always be recordable: the overuse limits apply to requests for access.
  if (isNew && !request.retroactive) {
    const usage = await usageOf(deps, session, requester, request.resource);
    const limit = checkLimits(policy, usage, "request");
    if (!limit.ok)
      return refuseIntake(session, requester, "limits", limit.error, 400, stillCurrent).then(() => "refused");
  }
  const allowed = await requesterAllowed(session, policy, requester, request.drill);
  if (!allowed.ok)
    return refuseIntake(session, requester, "requester", allowed.error, 500, stillCurrent).then(
      () => "refused",
    );
  const incident = await findIncident(port, request);
  const incidentRefused = incidentRefusal(policy, request, incident);
  if (incidentRefused)
    return refuseIntake(session, requester, "incident", incidentRefused, 500, stillCurrent).then(
      () => "refused",
    );
  const voided = state.approvals.length;
  const text = requestRecorded({
    requester,
    request,
    hash,
    ...(voided && state.hash !== hash ? { voidedBy: { editor, approvals: voided } } : {}),
    incident,
  });
  const recorded = await session.recordAndConfirm(
    `requested:${hash}:${session.chain.length}`,
    {
      type: "requested",
      actor: requester,
      request,
      hash,
      required_approvals: policy.approvals.required,
      ...(incident ? { incident_issue: { ref: formatIssueRef(incident.ref), state: incident.state } } : {}),
    },
    text,
    { stillCurrent },
  );
  if (!recorded.ok) {
    await port.createComment(session.number, intakeRefused(recorded.refusal.code, recorded.refusal.message));
    return "refused";
  }
  // Closing the incident finds this request through the ledger (an issue of the ledger's owner only).
  if (
    incident &&
    incident.state !== "unreadable" &&
    incident.ref.owner.toLowerCase() === port.owner.toLowerCase()
  )
    await port.ledger.linkIncident(session.number, incident.ref);

  // Two deliveries of one issue (opened and labeled, say) handled at once by two processes: the
  // first-written record counts and its writer goes on; the other stops here.
  if (!recorded.won) return "lost";
  const teams = new Set<string>();
  for (const rule of policy.auto_approve) {
    if (
      rule.on_call_team &&
      (await port.teamMembers(rule.on_call_team)).some((m) => m.toLowerCase() === requester.toLowerCase())
    ) {
      teams.add(rule.on_call_team.toLowerCase());
    }
  }
  // A retroactive record needs the policy's approvals after the fact: no auto-approval rule applies.
  const rule = request.retroactive ? null : matchAutoApproveRule(policy, request, teams);
  if (rule) {
    const approved = await session.recordAndConfirm(
      `auto_approved:${hash}`,
      {
        type: "auto_approved",
        actor: deps.identity.login,
        hash,
        rule,
        policy_digest: approvalPolicyDigest(policy, request.role),
      },
      `🤖 Auto-approved by the policy rule \`${escapeInline(rule, 60)}\` of \`${request.resource}\`.`,
    );
    // Another replica handling the same event recorded it first: it dispatches the grant, not this one.
    if (approved.ok && !approved.won) return "lost";
  } else {
    await deps.notifier.notify(policy.notify, {
      event: "requested",
      repository: `${port.owner}/${port.repo}`,
      issue: session.number,
      url: session.url,
      summary: `${requester} requests ${request.role} on ${request.resource} (${request.severity})`,
    });
  }
  return "recorded";
}

/** A valid body refused for who asks (limits, requester rules): recorded as invalid under `field`, and said. */
export async function refuseIntake(
  session: RequestSession,
  requester: string,
  field: "limits" | "requester" | "incident",
  refusal: { code: string; message: string },
  maxLength: number,
  stillCurrent: RecordOptions["stillCurrent"],
): Promise<void> {
  const recorded = await session.record(
    `invalid:${field === "limits" ? "limit" : field}:${session.chain.length}`,
    { type: "invalid", actor: requester, errors: [{ field, message: refusal.message }] },
    intakeRefused(refusal.code, refusal.message, maxLength),
    { stillCurrent },
  );
  if (recorded.ok) await session.publish();
}

/** The requester passes the policy's `requesters` (minimum permission, teams), read from GitHub now. */
async function requesterAllowed(session: RequestSession, policy: Policy, requester: string, drill: boolean) {
  const teams = policy.requesters.teams ?? [];
  return checkRequester(
    policy,
    requester,
    await session.port.permission(requester),
    await teamsOfMember(session, requester, teams),
    drill,
  );
}

export function errorsKey(errors: FieldError[]): string {
  return Buffer.from(JSON.stringify(errors)).toString("base64url").slice(0, 40);
}

export function lastInvalidKey(session: RequestSession): string | null {
  const last = [...session.events].reverse().find((e) => e.type === "invalid");
  return last && last.type === "invalid" ? errorsKey(last.errors) : null;
}

/**
 * How much the requester uses a resource now: requests for it opened in the last day (this one
 * included) and live grants. Found through the app's index and the requester's own issues, counted
 * from each request's ledger records: not from titles, labels or issue state, which triage can change.
 */
async function usageOf(deps: BreakglassDeps, current: RequestSession, requester: string, resource: string) {
  const dayAgo = deps.now() - DAY_MS;
  let activeGrants = 0;
  let requestsToday = 1;
  for await (const s of otherRequestsOf(deps, current.port, requester, {
    except: current.number,
    since: dayAgo,
    config: current.config,
  })) {
    // A request naming several resources counts by the part for this resource.
    for (const part of s.parts()) {
      const { state } = part;
      if (state.request?.resource !== resource) continue;
      if (LIVE.has(state.status)) activeGrants++;
      // When it was requested is the app's record, not the issue's (an issue can be reused or transferred).
      // A retroactive record is not a request for access: it neither counts nor is counted against the limit.
      if (state.requested_at && Date.parse(state.requested_at) >= dayAgo && !state.request.retroactive)
        requestsToday++;
    }
  }
  return { activeGrants, requestsToday };
}
