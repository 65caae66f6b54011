import { formatDuration } from "../core/duration.ts";
import { escapeInline, table } from "../core/markdown.ts";
import type { AuditCollection } from "./collect.ts";
import { monthlyMetrics, REVIEW_DUE_DAYS } from "./monthly-metrics.ts";
import { FLAG_LABELS, reportTotals } from "./report-stats.ts";
import { describeApproval, describeChecklist, describeUse } from "./row-text.ts";
import { accessReviewsMarkdown } from "./access-review-export.ts";

/**
 * A Markdown table of the requests and their totals. Everything people wrote is escaped with the
 * app's own Markdown escaping, so pasting the report into an issue mentions and links nobody.
 */
export function formatMarkdown(collection: AuditCollection): string {
  const t = reportTotals(collection.rows);
  const e = (value: string | null | undefined, max = 120) => (value ? escapeInline(value, max) : "—");
  const when = (iso: string | null) => (iso ? iso.replace(/(\.\d{3})?Z$/, "").replace("T", " ") : "—");
  const rows = collection.rows.map((r) => [
    /^https?:\/\//i.test(r.url)
      ? `[#${r.issue}](${r.url.replace(/[()<>\s]/g, encodeURIComponent)})`
      : `#${r.issue}`,
    when(r.requested_at),
    e(r.requester, 40),
    r.resource ? `${e(r.resource, 60)} / ${e(r.role, 40)}` : "—",
    e(r.severity, 10),
    r.drill ? `yes (${r.drill_result?.replace("_", " ")})` : "no",
    r.approvals.map((a) => e(describeApproval(a), 80)).join(", ") || "—",
    `${e(r.status, 20)}${r.ended_reason && r.ended_reason !== r.status ? ` (${e(r.ended_reason, 20)})` : ""}`,
    e(describeUse(r), 40),
    r.credential_id ? `${e(r.provider, 20)} ${e(r.credential_id, 60)}` : "—",
    e(describeChecklist(r), 60),
    r.flags.map((f) => FLAG_LABELS[f]).join(", ") || "—",
    `${r.chain_entries} ${r.chain_status}`,
    e(r.justification, 200),
  ]);
  const filters = [
    collection.filters.since ? `since ${collection.filters.since}` : "",
    collection.filters.until ? `until ${collection.filters.until}` : "",
    collection.filters.resource ? `resource ${e(collection.filters.resource, 60)}` : "",
  ].filter(Boolean);
  const dur = (s: number | null) => (s === null ? "—" : formatDuration(s));
  const statuses =
    Object.entries(t.by_status)
      .map(([status, n]) => `${status} ${n}`)
      .join(", ") || "—";
  return [
    `# Break-glass audit: ${e(collection.repository, 100)}`,
    "",
    `Generated ${when(collection.generated_at)} UTC${filters.length ? `, ${filters.join(", ")}` : ""}. ${t.requests} request(s).`,
    "",
    collection.verified
      ? `Audit chains: ${t.chains.verified} verified, ${t.chains.broken} broken.`
      : "**Audit chains were not verified** (no keys given): the rows show what the records claim. Run `breakglass audit export --jwks …` or `breakglass audit verify`.",
    "",
    table(
      [
        "Issue",
        "Requested (UTC)",
        "Requester",
        "Resource / role",
        "Severity",
        "Drill",
        "Approved by",
        "Status",
        "Used",
        "Credential",
        "Review",
        "Flags",
        "Chain",
        "Justification",
      ],
      rows,
    ),
    "",
    "## Totals",
    "",
    table(
      ["", ""],
      [
        ["Requests", String(t.requests)],
        ["By status", statuses],
        ["Granted", String(t.granted)],
        ["Break-glass self-approvals", String(t.break_glass)],
        ["Requests with flags", String(t.flagged)],
        [
          "Drills",
          `${t.drills.total} (${t.drills.passed} passed, ${t.drills.failed} failed, ${t.drills.in_progress} in progress)`,
        ],
        ["Median time to approve", dur(t.median_time_to_approve_seconds)],
        ["Median time to revoke", dur(t.median_time_to_revoke_seconds)],
        [
          "Audit chains",
          `${t.chains.verified} verified, ${t.chains.broken} broken, ${t.chains.unverified} unverified`,
        ],
      ],
    ),
    "",
    ...monthByMonth(collection, dur),
    ...(collection.access_reviews ? [accessReviewsMarkdown(collection.access_reviews.rows)] : []),
  ].join("\n");
}

/** The monthly metrics issue's figures (monthly-metrics.ts) for each month the export covers. */
function monthByMonth(collection: AuditCollection, dur: (s: number | null) => string): string[] {
  const months = [
    ...new Set(collection.rows.map((r) => r.requested_at?.slice(0, 7)).filter((m): m is string => !!m)),
  ].sort();
  if (months.length === 0) return [];
  const now = Date.parse(collection.generated_at);
  const rows = months.map((month) => {
    const m = monthlyMetrics(collection.rows, month, now);
    const share = m.break_glass_share === null ? "—" : `${Math.round(m.break_glass_share * 100)} %`;
    return [
      month,
      String(m.requests),
      String(m.granted),
      share,
      dur(m.median_time_to_approve_seconds),
      dur(m.median_time_to_revoke_seconds),
      String(m.granted_without_incident.length),
      String(m.overdue_reviews.length),
      String(m.revoke_failed.length),
      String(m.drills.total),
    ];
  });
  return [
    "## Month by month",
    "",
    `Reviews are overdue ${REVIEW_DUE_DAYS} days after the grant ended (or when missing), as in the monthly metrics issue.`,
    "",
    table(
      [
        "Month (UTC)",
        "Requests",
        "Granted",
        "Break-glass share",
        "Median to approve",
        "Median to revoke",
        "Without incident",
        "Overdue reviews",
        "Failing revocations",
        "Drills",
      ],
      rows,
    ),
    "",
  ];
}
