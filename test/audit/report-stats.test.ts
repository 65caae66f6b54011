import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { AuditRow } from "../../src/audit/audit-row.ts";
import { collectAudit } from "../../src/audit/collect.ts";
import { chartData, reportTotals } from "../../src/audit/report-stats.ts";
import { at, buildRepo, DAY, fakePort, mixedHistory, T0 } from "./history-fixtures.ts";

describe("report statistics", () => {
  let rows: AuditRow[];
  before(async () => {
    const { specs, reviews } = mixedHistory();
    const repo = await buildRepo(specs, reviews);
    rows = (await collectAudit(fakePort(repo), { jwks: repo.jwks, now: T0 + 30 * DAY })).rows;
  });

  it("totals count outcomes, drills and chains", () => {
    const t = reportTotals(rows);
    assert.equal(t.requests, 11);
    assert.equal(t.granted, 6);
    assert.deepEqual(t.by_status, {
      expired: 3,
      denied: 1,
      revoked: 2,
      revoke_failed: 1,
      cancelled: 1,
      timed_out: 1,
      invalid: 1,
      new: 1,
    });
    assert.equal(t.break_glass, 2);
    assert.equal(t.flagged, 5);
    assert.deepEqual(t.drills, { total: 1, passed: 1, failed: 0, in_progress: 0 });
    assert.deepEqual(t.chains, { verified: 11, broken: 0, unverified: 0 });
    assert.equal(t.median_time_to_approve_seconds, 60);
    assert.equal(t.median_time_to_revoke_seconds, 60);
  });

  it("histograms put every measured request in one bucket, and failing revocations apart", () => {
    const c = chartData(rows);
    assert.deepEqual(c.time_to_approve.labels, ["< 1m", "1–5m", "5–15m", "15m–1h", "1–4h", "≥ 4h"]);
    assert.deepEqual(c.time_to_approve.counts, [1, 5, 1, 0, 0, 0]);
    assert.deepEqual(c.time_to_revoke.labels.at(-1), "not revoked yet (failing)");
    assert.deepEqual(c.time_to_revoke.counts, [1, 0, 2, 0, 0, 1]);
    assert.deepEqual(c.drills, { labels: ["passed", "failed", "in progress"], counts: [1, 0, 0] });
    const flags = Object.fromEntries(c.flags.labels.map((l, i) => [l, c.flags.counts[i]]));
    assert.deepEqual(flags, {
      "break-glass": 2,
      "repeat break-glass": 2,
      "outlived expiry": 1,
      "longer than requested": 0,
      "revoke failed": 1,
      extended: 1,
      "refused by limits": 1,
      "chain broken": 0,
      "retroactive (taken outside Breakglass)": 0,
    });
  });

  it("requests per resource over time, per day for a short span", () => {
    const { timeline } = chartData(rows);
    assert.equal(timeline.period, "day");
    assert.equal(timeline.labels.length, 11);
    assert.equal(timeline.labels[0], "2026-03-02");
    const byResource = Object.fromEntries(
      timeline.series.map((s) => [s.resource, s.counts.reduce((a, b) => a + b, 0)]),
    );
    assert.deepEqual(byResource, {
      "(invalid request)": 2,
      "model-guardrail-override": 2,
      "prod-database": 7,
    });
  });

  it("weeks (starting Monday) for a longer span, months beyond a year", () => {
    const row = (day: number): AuditRow => ({ ...rows[0]!, requested_at: at(T0 + day * DAY) });
    const weekly = chartData([row(0), row(1), row(6), row(7), row(60)]).timeline;
    assert.equal(weekly.period, "week");
    assert.deepEqual(weekly.labels, ["2026-03-02", "2026-03-09", "2026-04-27"]);
    assert.deepEqual(weekly.series[0]!.counts, [3, 1, 1]);
    const monthly = chartData([row(0), row(400)]).timeline;
    assert.equal(monthly.period, "month");
    assert.deepEqual(monthly.labels, ["2026-03", "2027-04"]);
  });

  it("nothing to show is empty, not an error", () => {
    const t = reportTotals([]);
    assert.equal(t.median_time_to_approve_seconds, null);
    const c = chartData([]);
    assert.deepEqual(c.timeline, { period: "day", labels: [], series: [] });
  });
});
