/**
 * `breakglass audit export --metrics`: the monthly figures as the app posted them, from their signed
 * ledger records (never from the issue, which any writer can edit), one row per month.
 */
import type { JSONWebKeySet } from "jose";
import { escapeHtml } from "../core/escape-html.ts";
import { escapeInline, table } from "../core/markdown.ts";
import type { GitHubPort } from "../github/github-port.ts";
import { listMetricsRecords, metricsChainRepo } from "../github/metrics-records.ts";
import { csvTable, type Cell } from "./format-csv.ts";
import { jsonArray } from "./format-json.ts";
import { jsonLines } from "./format-jsonl.ts";
import type { MonthlyMetrics } from "./monthly-metrics.ts";
import type { ChainRecord } from "./verify-records.ts";

export interface MetricsRow extends MonthlyMetrics {
  repository: string;
  issue: number;
  posted_at: string;
  /** The record verified against the app's keys (false: read without keys, or it does not verify). */
  verified: boolean;
}

export interface MetricsExport {
  rows: MetricsRow[];
  records: ChainRecord[];
}

/** The months (of the export's window) whose figures the app recorded, oldest first. */
export async function collectMetricsExport(
  port: GitHubPort,
  options: { jwks?: JSONWebKeySet | undefined; since: number | null; until: number | null },
): Promise<MetricsExport> {
  const out: MetricsExport = { rows: [], records: [] };
  for (const records of await listMetricsRecords(options, port, 1000)) {
    // A month counts when it overlaps the window.
    const [year, month] = records.month.split("-").map(Number) as [number, number];
    const start = Date.UTC(year, month - 1, 1);
    const end = Date.UTC(year, month, 1);
    if (options.since !== null && !(end > options.since)) continue;
    if (options.until !== null && !(start < options.until)) continue;
    if (!records.posted) continue;
    const { type: _type, actor: _actor, title: _title, body: _body, at, issue, metrics } = records.posted;
    out.rows.push({
      repository: `${port.owner}/${port.repo}`,
      ...metrics,
      issue,
      posted_at: at,
      verified: records.problem === null,
    });
    out.records.push(
      ...records.ledger.entries.map((e) => ({
        repo: metricsChainRepo(port, records.month),
        issue: 1,
        jws: e.jws,
      })),
    );
  }
  return out;
}

const list = (numbers: readonly number[]) => numbers.map((n) => `#${n}`).join(" ");
const COLUMNS: Array<[string, (r: MetricsRow) => Cell]> = [
  ["repository", (r) => r.repository],
  ["month", (r) => r.month],
  ["issue", (r) => r.issue],
  ["posted_at", (r) => r.posted_at],
  ["verified", (r) => r.verified],
  ["requests", (r) => r.requests],
  ["granted", (r) => r.granted],
  ["break_glass", (r) => r.break_glass],
  ["break_glass_share", (r) => r.break_glass_share],
  ["median_time_to_approve_seconds", (r) => r.median_time_to_approve_seconds],
  ["median_time_to_revoke_seconds", (r) => r.median_time_to_revoke_seconds],
  ["denied", (r) => r.denied],
  ["timed_out", (r) => r.timed_out],
  ["granted_without_incident", (r) => list(r.granted_without_incident)],
  ["overdue_reviews", (r) => list(r.overdue_reviews)],
  ["revoke_failed", (r) => list(r.revoke_failed)],
  ["drills", (r) => r.drills.total],
  ["drills_failed", (r) => r.drills.failed],
  // Figures recorded before requests could name several resources have no count of their own: one each.
  ["resources", (r) => r.resources ?? r.requests],
];

/** `--metrics`: the recorded figures alone, in the format asked for. */
export function renderMetricsExport(
  format: "json" | "jsonl" | "csv" | "md" | "html",
  repository: string,
  data: MetricsExport,
): string {
  switch (format) {
    case "json":
      return jsonArray(data.rows);
    case "jsonl":
      return jsonLines(data.records);
    case "csv":
      return csvTable(COLUMNS, data.rows);
    case "md":
      return `# Monthly metrics as posted: ${escapeInline(repository, 100)}\n\n${
        data.rows.length
          ? table(
              COLUMNS.slice(1).map(([name]) => name),
              data.rows.map((r) =>
                COLUMNS.slice(1).map(([, get]) => escapeInline(String(get(r) ?? "—"), 200)),
              ),
            )
          : "No figures recorded in this period."
      }\n`;
    case "html":
      return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Monthly metrics — ${escapeHtml(repository)}</title></head>
<body><h1>Monthly metrics as posted — ${escapeHtml(repository)}</h1>
<table><thead><tr>${COLUMNS.slice(1)
        .map(([name]) => `<th>${escapeHtml(name)}</th>`)
        .join("")}</tr></thead><tbody>
${data.rows
  .map(
    (r) =>
      `<tr>${COLUMNS.slice(1)
        .map(([, get]) => `<td>${escapeHtml(String(get(r) ?? "—"))}</td>`)
        .join("")}</tr>`,
  )
  .join("\n")}
</tbody></table></body></html>
`;
  }
}
