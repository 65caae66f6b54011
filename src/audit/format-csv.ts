import { stripInvisible } from "../core/strip-invisible.ts";
import type { AuditRow } from "./audit-row.ts";
import type { AuditCollection } from "./collect.ts";
import { describeApproval } from "./row-text.ts";

export type Cell = string | number | boolean | null;

const COLUMNS: Array<[string, (row: AuditRow) => Cell]> = [
  ["repository", (r) => r.repository],
  ["issue", (r) => r.issue],
  ["url", (r) => r.url],
  ["status", (r) => r.status],
  ["requester", (r) => r.requester],
  ["resource", (r) => r.resource],
  ["role", (r) => r.role],
  ["severity", (r) => r.severity],
  ["drill", (r) => r.drill],
  ["drill_result", (r) => r.drill_result],
  ["justification", (r) => r.justification],
  ["incident", (r) => r.incident],
  ["incident_issue_state", (r) => r.incident_issue_state],
  ["approvers", (r) => r.approvals.map(describeApproval).join("; ")],
  ["break_glass", (r) => r.break_glass],
  ["break_glass_reason", (r) => r.break_glass_reason],
  ["requested_at", (r) => r.requested_at],
  ["approved_at", (r) => r.approved_at],
  ["granted_at", (r) => r.granted_at],
  ["expires_at", (r) => r.expires_at],
  ["ended_at", (r) => r.ended_at],
  ["ended_reason", (r) => r.ended_reason],
  ["ended_by", (r) => r.ended_by],
  ["ended_note", (r) => r.ended_note],
  ["duration_requested_seconds", (r) => r.duration_requested_seconds],
  ["duration_extended_seconds", (r) => r.duration_extended_seconds],
  ["duration_used_seconds", (r) => r.duration_used_seconds],
  ["time_to_approve_seconds", (r) => r.time_to_approve_seconds],
  ["time_to_grant_seconds", (r) => r.time_to_grant_seconds],
  ["time_to_revoke_seconds", (r) => r.time_to_revoke_seconds],
  ["provider", (r) => r.provider],
  ["credential_id", (r) => r.credential_id],
  ["revocation_failures", (r) => r.revocation_failures],
  ["last_revocation_error", (r) => r.last_revocation_error],
  ["checklist_issue", (r) => r.checklist_issue],
  ["checklist_status", (r) => r.checklist_status],
  ["checklist_checked", (r) => r.checklist_checked],
  ["checklist_total", (r) => r.checklist_total],
  ["flags", (r) => r.flags.join(";")],
  ["chain_entries", (r) => r.chain_entries],
  ["chain_status", (r) => r.chain_status],
  ["chain_problem", (r) => r.chain_problem],
  ["uses", (r) => r.uses.length],
  ["retroactive_started_at", (r) => r.retroactive_started_at ?? null],
  ["retroactive_ended_at", (r) => r.retroactive_ended_at ?? null],
];

/** Spreadsheets run a cell starting with one of these as a formula (OWASP "CSV injection"). */
const FORMULA_START = /^[=+\-@\t\r]/;

/** RFC 4180 CSV (CRLF line ends, quotes doubled), safe to open in a spreadsheet. */
export function formatCsv(collection: AuditCollection): string {
  return csvTable(COLUMNS, collection.rows);
}

/** Any rows as RFC 4180 CSV, one column per `[name, value]`, every cell through {@link csvCell}. */
export function csvTable<R>(
  columns: ReadonlyArray<readonly [string, (row: R) => Cell]>,
  rows: readonly R[],
): string {
  const lines = [
    columns.map(([name]) => name),
    ...rows.map((row) => columns.map(([, get]) => csvCell(get(row)))),
  ];
  return lines.map((cells) => cells.map(quote).join(",")).join("\r\n") + "\r\n";
}

/**
 * Text a person wrote is neutralised with a leading `'` when it would start a formula. Numbers and
 * booleans are ours and stay as they are, so a negative number is still a number. Invisible and bidi
 * characters go first, so a zero-width space cannot hide a formula's `=` from the check.
 */
export function csvCell(value: Cell): string {
  if (value === null) return "";
  if (typeof value !== "string") return String(value);
  const text = stripInvisible(value);
  return FORMULA_START.test(text) ? `'${text}` : text;
}

function quote(cell: string): string {
  return /[",\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}
