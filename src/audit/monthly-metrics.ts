/**
 * The monthly figures auditors look at when an emergency path risks becoming the routine one: how many
 * requests, how many broke the glass, how fast approvals and revocations were, reviews left open, grants
 * with no incident, drills. Computed from the audit rows (the app's signed records), never from issues.
 */
import { escapeInline } from "../core/markdown.ts";
import type { AuditRow } from "./audit-row.ts";
import { reportTotals } from "./report-stats.ts";

/** A review still open this long after its grant ended is overdue. */
export const REVIEW_DUE_DAYS = 7;
const DAY_MS = 86_400_000;

export interface MonthlyMetrics {
  /** `YYYY-MM`, in UTC. */
  month: string;
  /** Request issues (a request naming several resources is one). */
  requests: number;
  /** Resources requested: one per request, or each resource of a request naming several. */
  resources?: number;
  /** Drills are counted apart: they are rehearsals, not emergencies. */
  drills: { total: number; passed: number; failed: number };
  granted: number;
  break_glass: number;
  /** Break-glass grants among the real (non-drill) grants, 0 to 1; null without grants. */
  break_glass_share: number | null;
  median_time_to_approve_seconds: number | null;
  median_time_to_revoke_seconds: number | null;
  /** Real grants whose request named no incident (issue numbers, each once). */
  granted_without_incident: number[];
  /** Reviews still open more than REVIEW_DUE_DAYS after the grant ended, or missing. */
  overdue_reviews: number[];
  /** Grants whose revocation is still failing. */
  revoke_failed: number[];
  denied: number;
  timed_out: number;
}

/** `YYYY-MM` of the month before the one `nowMs` falls in (UTC). */
export function previousMonth(nowMs: number): string {
  const d = new Date(nowMs);
  const first = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1);
  return new Date(first).toISOString().slice(0, 7);
}

/** The month as a half-open interval of ISO times: `since` ≤ t < `until`. */
export function monthBounds(month: string): { since: string; until: string } {
  const m = /^(\d{4})-(\d{2})$/.exec(month);
  if (!m) throw new Error(`"${month}" is not a month such as 2026-11.`);
  const year = Number(m[1]);
  const index = Number(m[2]) - 1;
  return {
    since: new Date(Date.UTC(year, index, 1)).toISOString(),
    until: new Date(Date.UTC(year, index + 1, 1)).toISOString(),
  };
}

export function monthlyMetrics(rows: readonly AuditRow[], month: string, nowMs: number): MonthlyMetrics {
  const { since, until } = monthBounds(month);
  // Only what the app recorded: an issue that merely carries the request label (anyone with triage can put it on) is no request.
  const inMonth = rows.filter(
    (r) =>
      r.chain_entries > 0 && r.requested_at !== null && r.requested_at >= since && r.requested_at < until,
  );
  const real = inMonth.filter((r) => !r.drill);
  const drills = inMonth.filter((r) => r.drill);
  const totals = reportTotals(real);
  const granted = real.filter((r) => r.granted_at !== null);
  const breakGlass = granted.filter((r) => r.break_glass).length;
  const overdue = real.filter((r) => {
    if (r.granted_at === null || r.ended_at === null) return false;
    if (r.checklist_status === "missing") return true;
    return r.checklist_status === "open" && nowMs - Date.parse(r.ended_at) > REVIEW_DUE_DAYS * DAY_MS;
  });
  // The audit export has a row per resource; a request naming several is one request, and one issue in each list.
  const once = (list: readonly AuditRow[]) => [...new Set(list.map((r) => r.issue))];
  return {
    month,
    requests: once(real).length,
    resources: real.length,
    drills: {
      total: drills.length,
      passed: drills.filter((r) => r.drill_result === "passed").length,
      failed: drills.filter((r) => r.drill_result === "failed").length,
    },
    granted: granted.length,
    break_glass: breakGlass,
    break_glass_share: granted.length ? breakGlass / granted.length : null,
    median_time_to_approve_seconds: totals.median_time_to_approve_seconds,
    median_time_to_revoke_seconds: totals.median_time_to_revoke_seconds,
    granted_without_incident: once(granted.filter((r) => !r.incident)),
    overdue_reviews: once(overdue),
    revoke_failed: once(real.filter((r) => r.status === "revoke_failed")),
    denied: totals.by_status.denied ?? 0,
    timed_out: totals.by_status.timed_out ?? 0,
  };
}

const duration = (seconds: number | null): string => {
  if (seconds === null) return "—";
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
};
const issues = (numbers: readonly number[]): string =>
  numbers.length ? numbers.map((n) => `#${n}`).join(", ") : "none";

/** The metrics issue: a title that names the month, a table, and what to look at. */
export function renderMetricsIssue(
  metrics: MonthlyMetrics,
  repository: string,
): { title: string; body: string } {
  const share = metrics.break_glass_share === null ? "—" : `${Math.round(metrics.break_glass_share * 100)} %`;
  const rows: Array<[string, string]> = [
    [
      "Requests (drills apart)",
      metrics.resources !== undefined && metrics.resources !== metrics.requests
        ? `${metrics.requests} (${metrics.resources} resources)`
        : String(metrics.requests),
    ],
    ["Granted (one per resource)", String(metrics.granted)],
    ["Break-glass (self-approved) share of grants", `${metrics.break_glass} (${share})`],
    ["Median time to approve", duration(metrics.median_time_to_approve_seconds)],
    ["Median time to revoke (from the end of the grant)", duration(metrics.median_time_to_revoke_seconds)],
    ["Denied / timed out", `${metrics.denied} / ${metrics.timed_out}`],
    [
      "Grants without an incident link",
      `${metrics.granted_without_incident.length}: ${issues(metrics.granted_without_incident)}`,
    ],
    [
      `Reviews overdue (open ${REVIEW_DUE_DAYS} days after the grant ended, or missing)`,
      `${metrics.overdue_reviews.length}: ${issues(metrics.overdue_reviews)}`,
    ],
    ["Revocations still failing", `${metrics.revoke_failed.length}: ${issues(metrics.revoke_failed)}`],
    [
      "Drills (passed / failed)",
      `${metrics.drills.total} (${metrics.drills.passed} / ${metrics.drills.failed})`,
    ],
  ];
  const watch: string[] = [];
  if (metrics.break_glass_share !== null && metrics.break_glass_share > 0.25)
    watch.push(
      "More than a quarter of the grants broke the glass: is the approval path too slow, or the policy too strict?",
    );
  if (metrics.granted_without_incident.length)
    watch.push("Grants without an incident link: emergency access should tie to an incident.");
  if (metrics.overdue_reviews.length)
    watch.push("Overdue reviews: each grant's post-event review should be finished within a week.");
  if (metrics.revoke_failed.length) watch.push("Failing revocations: someone may still hold access.");
  if (metrics.drills.total === 0) watch.push("No drill this month: the emergency path was not rehearsed.");
  const body = [
    `Break-glass access in **${escapeInline(repository, 140)}** during **${metrics.month}** (UTC), from the app's signed records (\`breakglass audit export --since ${monthBounds(metrics.month).since.slice(0, 10)}\` gives every row).`,
    "",
    "| Figure | Value |",
    "| --- | --- |",
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
    "",
    watch.length
      ? `**To look at**\n\n${watch.map((w) => `- ${w}`).join("\n")}`
      : "Nothing stands out this month.",
  ].join("\n");
  return { title: `[breakglass metrics] ${metrics.month}`, body };
}
