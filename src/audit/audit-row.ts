import type { UseRecord } from "../core/usage.ts";
import type { RevocationReason, TimedEvent } from "../core/lifecycle-events.ts";
import { PENDING, LIVE, type RequestState, type Status, GRANT_ENDED } from "../core/lifecycle.ts";
import type { Severity } from "../core/types.ts";

export type ApprovalHow = "codeowner" | "team" | "listed" | "auto" | "break_glass";
export type EndedReason = RevocationReason | "denied" | "timed_out";
/** `unverified`: records were read without the app's keys (no --jwks), so nothing proves they are genuine. */
export type ChainStatus = "verified" | "broken" | "unverified";
export type DrillResult = "passed" | "failed" | "in_progress";
export type ChecklistStatus = "open" | "closed" | "missing";

/** Things an auditor should look at; see overuse-flags.ts for what raises each one. */
export type AuditFlag =
  | "break_glass"
  | "repeat_break_glass"
  | "outlived_expiry"
  | "longer_than_requested"
  | "revoke_failed"
  | "extended"
  | "limit_refused"
  | "chain_broken"
  | "retroactive";

export interface AuditApproval {
  login: string;
  via: ApprovalHow;
  /** The team for `team`, the rule for `auto`, the reason for `break_glass`. */
  detail: string | null;
  at: string;
}

export interface ChecklistSummary {
  issue: number;
  status: ChecklistStatus;
  checked: number;
  total: number;
}

export interface ChainSummary {
  entries: number;
  status: ChainStatus;
  /** The first problem found, or why nothing was checked. */
  problem: string | null;
}

/** One break-glass request, as auditors read it. Times are ISO 8601 (UTC), durations whole seconds. */
export interface AuditRow {
  repository: string;
  issue: number;
  url: string;
  status: Status;
  requester: string | null;
  resource: string | null;
  role: string | null;
  severity: Severity | null;
  drill: boolean;
  drill_result: DrillResult | null;
  /** A retroactive record of access taken outside Breakglass: when it started and ended (nothing was granted). */
  retroactive_started_at?: string | null;
  retroactive_ended_at?: string | null;
  justification: string | null;
  incident: string | null;
  /** When the incident link names a GitHub issue: what the app found when the request was recorded. */
  incident_issue_state: "open" | "closed" | "unreadable" | "pull_request" | null;
  approvals: AuditApproval[];
  break_glass: boolean;
  break_glass_reason: string | null;
  requested_at: string | null;
  approved_at: string | null;
  granted_at: string | null;
  expires_at: string | null;
  ended_at: string | null;
  ended_reason: EndedReason | null;
  ended_by: string | null;
  /** Denial or cancellation reason, or the revocation evidence. */
  ended_note: string | null;
  duration_requested_seconds: number | null;
  duration_extended_seconds: number;
  /** Until the verified revocation; for a credential still alive, until the export. */
  duration_used_seconds: number | null;
  time_to_approve_seconds: number | null;
  time_to_grant_seconds: number | null;
  /** From when the credential had to end (its expiry, or the first failed revocation) to the verified revocation. */
  time_to_revoke_seconds: number | null;
  provider: string | null;
  credential_id: string | null;
  revocation_failures: number;
  last_revocation_error: string | null;
  checklist_issue: number | null;
  checklist_status: ChecklistStatus | null;
  checklist_checked: number | null;
  checklist_total: number | null;
  flags: AuditFlag[];
  chain_entries: number;
  chain_status: ChainStatus;
  chain_problem: string | null;
  /** Every recorded use of the grant's credential (from the ledger), oldest first; none without a grant. */
  uses: UseRecord[];
}

export interface RowInput {
  repository: string;
  issue: { number: number; html_url: string };
  state: RequestState;
  events: readonly TimedEvent[];
  chain: ChainSummary;
  checklist: ChecklistSummary | null;
  uses?: readonly UseRecord[];
  /** Export time (epoch ms): how long a still-live credential has been in use so far. */
  now: number;
}

const ENDED_BY_STATUS: Partial<Record<Status, EndedReason>> = {
  denied: "denied",
  cancelled: "cancelled",
  timed_out: "timed_out",
};

/**
 * Builds the row from a request's folded state. Records read without keys are untrusted, so every
 * field is re-typed here rather than assumed: a forged record can make a row wrong, never make it crash.
 */
export function buildAuditRow(input: RowInput): AuditRow {
  const { state, events, chain, checklist } = input;
  const request = state.request;
  const grant = state.grant;
  const seconds = (from: string | null | undefined, to: string | null | undefined): number | null => {
    const a = time(from);
    const b = time(to);
    return a !== null && b !== null ? Math.round((b - a) / 1000) : null;
  };
  const ended = grant?.ended ?? null;
  const live = LIVE.has(state.status);
  const firstFailure = events.find((e) => e.type === "revocation_failed")?.at ?? null;
  const due = ended?.reason === "expired" ? (grant?.expires_at ?? null) : firstFailure;
  // Only the signed request says what is a drill: labels can be added by anyone with triage access.
  const drill = request?.drill === true;
  return {
    repository: input.repository,
    issue: input.issue.number,
    url: input.issue.html_url,
    status: state.status,
    requester: text(state.requester),
    resource: text(request?.resource),
    role: text(request?.role),
    severity: (text(request?.severity) as Severity | null) ?? null,
    drill,
    drill_result: drill ? drillResult(state) : null,
    retroactive_started_at: text(request?.retroactive?.started_at),
    retroactive_ended_at: text(request?.retroactive?.ended_at),
    justification: text(request?.justification),
    incident: text(request?.incident),
    incident_issue_state: incidentIssueState(events),
    approvals: state.approvals.map((a) => ({
      login: String(a.actor),
      via: String(a.via) as ApprovalHow,
      detail: text(a.detail),
      at: String(a.at),
    })),
    break_glass: state.break_glass !== null,
    break_glass_reason: text(state.break_glass?.reason),
    requested_at: text(state.requested_at),
    approved_at: text(state.approved_at),
    granted_at: text(grant?.granted_at),
    expires_at: text(grant?.expires_at),
    ended_at: text(state.ended_at),
    ended_reason: ended ? ended.reason : (ENDED_BY_STATUS[state.status] ?? null),
    ended_by: text(ended?.by ?? state.denial?.actor ?? state.cancellation?.actor),
    ended_note: text(ended?.evidence ?? state.denial?.reason ?? state.cancellation?.reason),
    duration_requested_seconds: count(request?.duration_seconds),
    duration_extended_seconds: state.extensions.reduce((sum, e) => sum + (count(e.seconds) ?? 0), 0),
    duration_used_seconds: ended
      ? seconds(grant?.granted_at, ended.at)
      : live && grant
        ? seconds(grant.granted_at, new Date(input.now).toISOString())
        : null,
    time_to_approve_seconds: seconds(state.requested_at, state.approved_at),
    time_to_grant_seconds: seconds(state.requested_at, grant?.granted_at),
    time_to_revoke_seconds: ended ? seconds(due, ended.at) : null,
    provider: text(grant?.provider),
    credential_id: text(grant?.credential_id),
    revocation_failures: count(grant?.revocation_failures) ?? 0,
    last_revocation_error: text(grant?.last_revocation_error),
    checklist_issue: checklist?.issue ?? count(state.review_issue),
    checklist_status: checklist?.status ?? null,
    checklist_checked: checklist ? checklist.checked : null,
    checklist_total: checklist ? checklist.total : null,
    flags: [],
    chain_entries: chain.entries,
    chain_status: chain.status,
    chain_problem: chain.problem,
    uses: [...(input.uses ?? [])],
  };
}

const INCIDENT_STATES = new Set(["open", "closed", "unreadable", "pull_request"]);

/** The incident finding of the request as last recorded (an edit records it again). */
function incidentIssueState(events: readonly TimedEvent[]): AuditRow["incident_issue_state"] {
  const last = [...events].reverse().find((e) => e.type === "requested");
  const found =
    last && last.type === "requested"
      ? (last.incident_issue as { state?: unknown } | undefined)?.state
      : undefined;
  return typeof found === "string" && INCIDENT_STATES.has(found)
    ? (found as AuditRow["incident_issue_state"])
    : null;
}

function drillResult(state: RequestState): DrillResult {
  if (PENDING.has(state.status) || state.status === "active") return "in_progress";
  const cleanEnd = GRANT_ENDED.has(state.status) && state.grant !== null;
  return cleanEnd && state.grant!.revocation_failures === 0 ? "passed" : "failed";
}

const text = (value: unknown): string | null => (typeof value === "string" ? value : null);
const count = (value: unknown): number | null =>
  typeof value === "number" && Number.isFinite(value) ? value : null;

function time(value: string | null | undefined): number | null {
  if (typeof value !== "string") return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}
