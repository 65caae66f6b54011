import { formatDuration } from "../core/duration.ts";
import type { AuditApproval, AuditRow } from "./audit-row.ts";

/** "bob (codeowner)", "carol (team acme/dba)", "breakglass[bot] (auto: oncall-read)", "dave (break-glass)". */
export function describeApproval(approval: AuditApproval): string {
  switch (approval.via) {
    case "team":
      return `${approval.login} (team${approval.detail ? ` ${approval.detail}` : ""})`;
    case "auto":
      return `${approval.login} (auto${approval.detail ? `: ${approval.detail}` : ""})`;
    case "break_glass":
      return `${approval.login} (break-glass)`;
    default:
      return `${approval.login} (${approval.via})`;
  }
}

/** "25m of 30m", "— of 1h" (never granted), "2h+ of 1h" (still alive). */
export function describeUse(row: AuditRow): string {
  const requested =
    row.duration_requested_seconds === null
      ? "—"
      : formatDuration(row.duration_requested_seconds + row.duration_extended_seconds);
  if (row.duration_used_seconds === null) return `— of ${requested}`;
  const stillAlive = row.ended_at === null && row.granted_at !== null;
  return `${formatDuration(row.duration_used_seconds)}${stillAlive ? "+" : ""} of ${requested}`;
}

/** "2 of 3 checked (open)", "missing", or "" when there is no review. */
export function describeChecklist(row: AuditRow): string {
  if (row.checklist_issue === null) return "";
  if (row.checklist_status === "missing" || row.checklist_status === null)
    return `#${row.checklist_issue} missing`;
  return `#${row.checklist_issue} ${row.checklist_checked} of ${row.checklist_total} checked (${row.checklist_status})`;
}
