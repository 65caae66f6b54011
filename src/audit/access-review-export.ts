/**
 * The periodic access reviews in `breakglass audit export`: one row per resource of each review, from
 * the reviews' signed ledger records (core/access-review.ts), with overdue ones flagged. The md and html
 * reports carry them as a section; `--access-reviews` exports them alone in any format.
 */
import { ACCESS_REVIEW_DEFAULTS, type AccessReviewRow } from "../core/access-review.ts";
import { escapeHtml } from "../core/escape-html.ts";
import { escapeInline, table } from "../core/markdown.ts";
import { csvTable } from "./format-csv.ts";
import { jsonArray } from "./format-json.ts";
import { jsonLines } from "./format-jsonl.ts";
import type { AccessReviewExport } from "./collect-access-reviews.ts";

const STATUS_TEXT: Record<AccessReviewRow["status"], string> = {
  confirmed: "confirmed",
  to_confirm: "to confirm",
  overdue: "OVERDUE",
};

const COLUMNS: Array<[string, (r: AccessReviewRow) => string | number | null]> = [
  ["repository", (r) => r.repository],
  ["period", (r) => r.period],
  ["issue", (r) => r.issue],
  ["resource", (r) => r.resource],
  ["status", (r) => r.status],
  ["due_at", (r) => r.due_at],
  ["confirmed_by", (r) => r.confirmed_by],
  ["confirmed_at", (r) => r.confirmed_at],
  ["approvers", (r) => r.approvers.join(";")],
  ["unused", (r) => r.unused.join(";")],
  ["started_at", (r) => r.started_at],
  ["overdue_notified_at", (r) => r.overdue_notified_at],
];

const HEADERS = [
  "Period",
  "Issue",
  "Resource",
  "Status",
  "Due",
  "Confirmed by",
  "Unused eligibility",
  "Owners told overdue",
];

/** A Markdown section: overdue resources named first, then every row. */
export function accessReviewsMarkdown(rows: readonly AccessReviewRow[]): string {
  const overdue = rows.filter((r) => r.status === "overdue");
  return [
    "## Access reviews",
    "",
    rows.length === 0
      ? "No access review in this period."
      : overdue.length
        ? `**${overdue.length} resource(s) overdue** (not confirmed by their owners within the policy's \`access_review.confirm_within_days\`, default ${ACCESS_REVIEW_DEFAULTS.confirm_within_days}): ${overdue.map((r) => `${escapeInline(r.resource, 63)} (${r.period})`).join(", ")}.`
        : "Every review's resources are confirmed or still within their time.",
    "",
    ...(rows.length
      ? [
          table(
            HEADERS,
            rows.map((r) => [
              escapeInline(r.period, 20),
              r.issue === null ? "—" : `#${r.issue}`,
              escapeInline(r.resource, 63),
              r.status === "overdue" ? `**${STATUS_TEXT[r.status]}**` : STATUS_TEXT[r.status],
              r.due_at.slice(0, 10),
              r.confirmed_by
                ? `${escapeInline(r.confirmed_by, 40)} (${(r.confirmed_at ?? "").slice(0, 10)})`
                : "—",
              r.unused.map((u) => escapeInline(u, 40)).join(", ") || "—",
              r.overdue_notified_at?.slice(0, 10) ?? "—",
            ]),
          ),
          "",
        ]
      : []),
  ].join("\n");
}

/** An HTML section for the report page. */
export function accessReviewsHtml(rows: readonly AccessReviewRow[]): string {
  const overdue = rows.filter((r) => r.status === "overdue").length;
  return `<section id="access-reviews">
<h2>Access reviews${overdue ? ` <span class="bad">${overdue} overdue</span>` : ""}</h2>
${
  rows.length === 0
    ? `<p class="empty">No access review in this period.</p>`
    : `<table><thead><tr>${HEADERS.map((h) => `<th>${h}</th>`).join("")}</tr></thead><tbody>
${rows
  .map(
    (r) =>
      `<tr class="${r.status === "overdue" ? "bad" : ""}"><td>${escapeHtml(r.period)}</td><td>${r.issue ?? "—"}</td><td><code>${escapeHtml(r.resource)}</code></td><td>${escapeHtml(STATUS_TEXT[r.status])}</td><td>${escapeHtml(r.due_at.slice(0, 10))}</td><td>${escapeHtml(r.confirmed_by ?? "—")}</td><td>${escapeHtml(r.unused.join(", ") || "—")}</td><td>${escapeHtml(r.overdue_notified_at?.slice(0, 10) ?? "—")}</td></tr>`,
  )
  .join("\n")}
</tbody></table>`
}
</section>`;
}

/** `--access-reviews`: the reviews alone, in the format asked for. */
export function renderAccessReviewExport(
  format: "json" | "jsonl" | "csv" | "md" | "html",
  repository: string,
  data: AccessReviewExport,
): string {
  switch (format) {
    case "json":
      return jsonArray(data.rows);
    case "jsonl":
      return jsonLines(data.records);
    case "csv":
      return csvTable(COLUMNS, data.rows);
    case "md":
      return `# Access reviews: ${escapeInline(repository, 100)}\n\n${accessReviewsMarkdown(data.rows)}`;
    case "html":
      return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Access reviews — ${escapeHtml(repository)}</title>
<style>body{font:14px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #d0d7de}.bad{color:#cf222e;font-weight:600}</style>
</head><body><h1>Access reviews — ${escapeHtml(repository)}</h1>
${accessReviewsHtml(data.rows)}
</body></html>
`;
  }
}
