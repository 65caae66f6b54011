import { formatDuration } from "./duration.ts";
import type { TimedEvent } from "./lifecycle-events.ts";
import type { RequestState } from "./lifecycle.ts";
import { escapeInline, mention, table } from "./markdown.ts";

/** One line of "what happened" per event, for timelines, checklists and summaries. */
export function describeEvent(e: TimedEvent): string {
  switch (e.type) {
    case "requested":
      return `requested \`${escapeInline(e.request.role, 40)}\` on \`${escapeInline(e.request.resource, 60)}\` for ${formatDuration(e.request.duration_seconds)}`;
    case "invalid":
      return `request not valid (${e.errors.length} problem${e.errors.length === 1 ? "" : "s"})`;
    case "approved":
      return `approved${e.team ? ` (via ${escapeInline(e.team, 40)})` : ""}`;
    case "approval_withdrawn":
      return `approval withdrawn (${e.reason.replace("_", " ")})`;
    case "approvals_voided":
      return `${e.voided.length} approval(s) no longer count (${e.voided.map((v) => `${mention(v.actor)}: ${v.reason.replace(/_/g, " ")}`).join(", ") || "the policy now needs more"})`;
    case "approval_expired":
      return `approval expired: no run collected the credentials within ${formatDuration(e.collect_within_seconds)}`;
    case "edit_refused":
      return e.actor === e.requester
        ? "edit of the request refused: a resource of it was already decided"
        : `edit of the request refused: only ${mention(e.requester)} may change it`;
    case "auto_approved":
      return `auto-approved by rule \`${escapeInline(e.rule, 40)}\``;
    case "break_glass":
      return `**break-glass self-approval**${e.prior_uses_30d ? ` — ⚠️ repeated use (${e.prior_uses_30d} earlier in 30 days)` : ""}`;
    case "denied":
      return "denied";
    case "cancelled":
      return "cancelled";
    case "dispatch_retried":
      return `grant workflow dispatched again (attempt ${e.attempt + 1}): no run had started`;
    case "dispatched":
      return e.by_hand
        ? `grant workflow run ${escapeInline(e.run_id, 20)} (started by hand by an approver) accepted`
        : `grant workflow dispatched as run ${escapeInline(e.run_id, 20)}`;
    case "exchange_refused":
      return `**exchange refused** for run ${escapeInline(e.run_id, 30)} (\`${escapeInline(e.code, 40)}\`)`;
    case "approval_page_refused":
      return `**passkey approval refused** (\`${escapeInline(e.code, 40)}\`)`;
    case "escalated":
      return `escalated to ${e.notified.length} target(s)`;
    case "timed_out":
      return "timed out waiting for approval";
    case "granted":
      return `granted: ${escapeInline(e.provider, 20)} \`${escapeInline(e.credential_id, 60)}\` until ${e.expires_at}`;
    case "handle_resealed":
      return "revocation handle sealed again under the current seal key (key rotation)";
    case "extension_requested":
      return `asked to extend by ${formatDuration(e.seconds)}`;
    case "extension_approved":
      return "approved the extension";
    case "extended":
      return `extended until ${e.expires_at}`;
    case "revocation_failed":
      return `**revocation failed** (attempt ${e.attempt}): ${escapeInline(e.error, 120)}`;
    case "revoked":
      return `revoked (${e.reason.replace("_", " ")}), verified`;
    case "checklist_opened":
      return `post-event review #${e.issue} opened`;
    case "review_item_checked":
      return `ticked “${escapeInline(e.item, 80)}” on review #${e.issue}`;
    case "review_item_unchecked":
      return `unticked “${escapeInline(e.item, 80)}” on review #${e.issue}`;
    case "review_waived":
      return `waived the rest of review #${e.issue}: ${escapeInline(e.reason, 120)}`;
    case "closed":
      return "closed";
  }
}

export function renderTimeline(events: readonly TimedEvent[]): string {
  return table(
    ["When (UTC)", "Who", "What"],
    events.map((e) => [e.at.replace(/\.\d{3}Z$/, "Z"), mention(e.actor), describeEvent(e)]),
  );
}

/** Figures auditors ask for first: how long each stage took and how long the access lasted. */
export interface GrantFigures {
  time_to_approve_seconds: number | null;
  time_to_grant_seconds: number | null;
  duration_used_seconds: number | null;
  requested_seconds: number | null;
  revoke_after_expiry_seconds: number | null;
}

export function grantFigures(state: RequestState, events: readonly TimedEvent[]): GrantFigures {
  const t = (type: TimedEvent["type"]) => {
    const found = events.find((e) => e.type === type);
    return found ? Date.parse(found.at) : null;
  };
  const requested = t("requested");
  const approvedAt = state.approved_at ? Date.parse(state.approved_at) : null;
  const granted = state.grant ? Date.parse(state.grant.granted_at) : null;
  const ended = state.grant?.ended ? Date.parse(state.grant.ended.at) : null;
  const expires = state.grant ? Date.parse(state.grant.expires_at) : null;
  const diff = (a: number | null, b: number | null) =>
    a !== null && b !== null ? Math.round((b - a) / 1000) : null;
  return {
    time_to_approve_seconds: diff(requested, approvedAt),
    time_to_grant_seconds: diff(requested, granted),
    duration_used_seconds: diff(granted, ended),
    requested_seconds: state.request?.duration_seconds ?? null,
    revoke_after_expiry_seconds: state.grant?.ended?.reason === "expired" ? diff(expires, ended) : null,
  };
}
