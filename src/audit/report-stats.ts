import type { AuditFlag, AuditRow } from "./audit-row.ts";

export interface ReportTotals {
  requests: number;
  granted: number;
  by_status: Record<string, number>;
  break_glass: number;
  flagged: number;
  drills: { total: number; passed: number; failed: number; in_progress: number };
  chains: { verified: number; broken: number; unverified: number };
  median_time_to_approve_seconds: number | null;
  median_time_to_revoke_seconds: number | null;
}

export interface Histogram {
  labels: string[];
  counts: number[];
}

export interface ChartData {
  /** Requests per resource per period (day, week or month, whichever fits the span). */
  timeline: {
    period: "day" | "week" | "month";
    labels: string[];
    series: Array<{ resource: string; counts: number[] }>;
  };
  time_to_approve: Histogram;
  time_to_revoke: Histogram;
  flags: Histogram;
  drills: Histogram;
}

export const FLAG_LABELS: Record<AuditFlag, string> = {
  break_glass: "break-glass",
  repeat_break_glass: "repeat break-glass",
  outlived_expiry: "outlived expiry",
  longer_than_requested: "longer than requested",
  revoke_failed: "revoke failed",
  extended: "extended",
  limit_refused: "refused by limits",
  chain_broken: "chain broken",
  retroactive: "retroactive (taken outside Breakglass)",
};

const APPROVE_BUCKETS: Array<[number, string]> = [
  [60, "< 1m"],
  [300, "1–5m"],
  [900, "5–15m"],
  [3600, "15m–1h"],
  [4 * 3600, "1–4h"],
  [Infinity, "≥ 4h"],
];
const REVOKE_BUCKETS: Array<[number, string]> = [
  [10, "< 10s"],
  [60, "10–60s"],
  [300, "1–5m"],
  [900, "5–15m"],
  [Infinity, "≥ 15m"],
];
const DAY_MS = 86_400_000;

export function reportTotals(rows: readonly AuditRow[]): ReportTotals {
  const by_status: Record<string, number> = {};
  for (const row of rows) by_status[row.status] = (by_status[row.status] ?? 0) + 1;
  const drills = rows.filter((r) => r.drill);
  return {
    requests: rows.length,
    granted: rows.filter((r) => r.granted_at !== null).length,
    by_status,
    break_glass: rows.filter((r) => r.break_glass).length,
    flagged: rows.filter((r) => r.flags.length > 0).length,
    drills: {
      total: drills.length,
      passed: drills.filter((r) => r.drill_result === "passed").length,
      failed: drills.filter((r) => r.drill_result === "failed").length,
      in_progress: drills.filter((r) => r.drill_result === "in_progress").length,
    },
    chains: {
      verified: rows.filter((r) => r.chain_status === "verified").length,
      broken: rows.filter((r) => r.chain_status === "broken").length,
      unverified: rows.filter((r) => r.chain_status === "unverified").length,
    },
    median_time_to_approve_seconds: median(rows.map((r) => r.time_to_approve_seconds)),
    median_time_to_revoke_seconds: median(rows.map((r) => r.time_to_revoke_seconds)),
  };
}

export function chartData(rows: readonly AuditRow[]): ChartData {
  const stillFailing = rows.filter((r) => r.status === "revoke_failed").length;
  const revoke = histogram(
    rows.map((r) => r.time_to_revoke_seconds),
    REVOKE_BUCKETS,
  );
  return {
    timeline: timeline(rows),
    time_to_approve: histogram(
      rows.map((r) => r.time_to_approve_seconds),
      APPROVE_BUCKETS,
    ),
    time_to_revoke: {
      labels: [...revoke.labels, "not revoked yet (failing)"],
      counts: [...revoke.counts, stillFailing],
    },
    flags: {
      labels: Object.values(FLAG_LABELS),
      counts: (Object.keys(FLAG_LABELS) as AuditFlag[]).map(
        (flag) => rows.filter((r) => r.flags.includes(flag)).length,
      ),
    },
    drills: {
      labels: ["passed", "failed", "in progress"],
      counts: (["passed", "failed", "in_progress"] as const).map(
        (result) => rows.filter((r) => r.drill_result === result).length,
      ),
    },
  };
}

function histogram(
  values: ReadonlyArray<number | null>,
  buckets: ReadonlyArray<[number, string]>,
): Histogram {
  const counts = buckets.map(() => 0);
  for (const value of values) {
    if (value === null) continue;
    const index = buckets.findIndex(([upper]) => value < upper);
    counts[index]!++;
  }
  return { labels: buckets.map(([, label]) => label), counts };
}

function timeline(rows: readonly AuditRow[]): ChartData["timeline"] {
  const times = rows.map((r) => Date.parse(r.requested_at ?? "")).filter(Number.isFinite);
  const span = times.length ? Math.max(...times) - Math.min(...times) : 0;
  const period = span <= 31 * DAY_MS ? "day" : span <= 366 * DAY_MS ? "week" : "month";
  const keyOf = (ms: number): string => {
    const iso = new Date(ms).toISOString();
    if (period === "day") return iso.slice(0, 10);
    if (period === "month") return iso.slice(0, 7);
    const monday = ms - ((new Date(ms).getUTCDay() + 6) % 7) * DAY_MS;
    return new Date(monday).toISOString().slice(0, 10);
  };
  const labels = [...new Set(times.map(keyOf))].sort();
  const resources = [...new Set(rows.map((r) => r.resource ?? "(invalid request)"))].sort();
  const series = resources.map((resource) => ({
    resource,
    counts: labels.map(
      (label) =>
        rows.filter(
          (r) =>
            (r.resource ?? "(invalid request)") === resource &&
            Number.isFinite(Date.parse(r.requested_at ?? "")) &&
            keyOf(Date.parse(r.requested_at!)) === label,
        ).length,
    ),
  }));
  return { period, labels, series };
}

function median(values: ReadonlyArray<number | null>): number | null {
  const sorted = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : Math.round((sorted[mid - 1]! + sorted[mid]!) / 2);
}
