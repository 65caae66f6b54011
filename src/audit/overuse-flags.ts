import type { TimedEvent } from "../core/lifecycle-events.ts";
import type { AuditFlag, AuditRow } from "./audit-row.ts";

/**
 * Slack before a credential counts as having outlived its expiry: the sweep runs every few minutes
 * and providers round lifetimes (STS grants at least 15 minutes), so a smaller overrun is not a finding.
 */
export const GRACE_SECONDS = 300;

/** The flags one request raises on its own; `repeat_break_glass` needs all rows (see {@link flagRepeatBreakGlass}). */
export function requestFlags(row: AuditRow, events: readonly TimedEvent[]): AuditFlag[] {
  const flags: AuditFlag[] = [];
  const lifetime = secondsBetween(row.granted_at, row.expires_at);
  if (row.break_glass) flags.push("break_glass");
  if (row.retroactive_started_at) flags.push("retroactive");
  if (
    lifetime !== null &&
    row.duration_used_seconds !== null &&
    row.duration_used_seconds > lifetime + GRACE_SECONDS
  ) {
    flags.push("outlived_expiry");
  }
  if (
    lifetime !== null &&
    row.duration_requested_seconds !== null &&
    lifetime > row.duration_requested_seconds + row.duration_extended_seconds + GRACE_SECONDS
  ) {
    flags.push("longer_than_requested");
  }
  if (row.revocation_failures > 0 || row.status === "revoke_failed") flags.push("revoke_failed");
  if (events.some((e) => e.type === "extended")) flags.push("extended");
  if (
    events.some(
      (e) => e.type === "invalid" && Array.isArray(e.errors) && e.errors.some((x) => x?.field === "limits"),
    )
  ) {
    flags.push("limit_refused");
  }
  if (row.chain_status === "broken") flags.push("chain_broken");
  return flags;
}

/** Marks every break-glass request of a person who self-approved more than once among these rows. */
export function flagRepeatBreakGlass(rows: readonly AuditRow[]): AuditRow[] {
  const uses = new Map<string, number>();
  for (const row of rows) {
    if (row.break_glass && row.requester)
      uses.set(row.requester.toLowerCase(), (uses.get(row.requester.toLowerCase()) ?? 0) + 1);
  }
  return rows.map((row) =>
    row.break_glass &&
    row.requester &&
    (uses.get(row.requester.toLowerCase()) ?? 0) > 1 &&
    !row.flags.includes("repeat_break_glass")
      ? { ...row, flags: [...row.flags, "repeat_break_glass"] }
      : row,
  );
}

function secondsBetween(from: string | null, to: string | null): number | null {
  if (from === null || to === null) return null;
  const a = Date.parse(from);
  const b = Date.parse(to);
  return Number.isFinite(a) && Number.isFinite(b) ? Math.round((b - a) / 1000) : null;
}
