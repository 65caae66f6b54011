import assert from "node:assert/strict";
import { test } from "node:test";
import type { AuditRow } from "../../src/audit/audit-row.ts";
import {
  monthBounds,
  monthlyMetrics,
  previousMonth,
  renderMetricsIssue,
} from "../../src/audit/monthly-metrics.ts";

const row = (over: Partial<AuditRow>): AuditRow =>
  ({
    issue: 1,
    status: "revoked",
    drill: false,
    drill_result: null,
    break_glass: false,
    incident: "https://x/1",
    granted_at: "2026-11-03T10:00:00.000Z",
    ended_at: "2026-11-03T11:00:00.000Z",
    requested_at: "2026-11-03T09:55:00.000Z",
    checklist_status: "closed",
    time_to_approve_seconds: 60,
    time_to_revoke_seconds: 5,
    flags: [],
    approvals: [],
    uses: [],
    chain_entries: 3,
    chain_status: "verified",
    ...over,
  }) as AuditRow;

test("months are UTC calendar months, and the previous one crosses the year", () => {
  assert.equal(previousMonth(Date.parse("2026-12-01T00:00:00Z")), "2026-11");
  assert.equal(previousMonth(Date.parse("2027-01-15T12:00:00Z")), "2026-12");
  assert.deepEqual(monthBounds("2026-12"), {
    since: "2026-12-01T00:00:00.000Z",
    until: "2027-01-01T00:00:00.000Z",
  });
  assert.throws(() => monthBounds("2026-13x"), /not a month/);
});

test("figures count only the month's requests; drills apart; overdue reviews and grants without incidents are named", () => {
  const now = Date.parse("2026-12-02T00:00:00Z");
  const rows = [
    row({ issue: 1 }),
    row({
      issue: 2,
      break_glass: true,
      incident: null,
      checklist_status: "open",
      ended_at: "2026-11-20T00:00:00.000Z",
    }),
    row({ issue: 3, checklist_status: "open", ended_at: "2026-11-30T00:00:00.000Z" }), // open, but not 7 days yet
    row({ issue: 4, status: "denied", granted_at: null, ended_at: null, time_to_approve_seconds: null }),
    row({ issue: 5, drill: true, drill_result: "passed" }),
    row({ issue: 6, requested_at: "2026-10-31T23:59:59.000Z" }), // October
    row({ issue: 7, status: "revoke_failed", checklist_status: "missing" }),
  ];
  const m = monthlyMetrics(rows, "2026-11", now);
  assert.equal(m.requests, 5);
  assert.equal(m.granted, 4);
  assert.equal(m.break_glass, 1);
  assert.equal(m.break_glass_share, 0.25);
  assert.deepEqual(m.granted_without_incident, [2]);
  assert.deepEqual(m.overdue_reviews, [2, 7]);
  assert.deepEqual(m.revoke_failed, [7]);
  assert.equal(m.denied, 1);
  assert.deepEqual(m.drills, { total: 1, passed: 1, failed: 0 });
  const { title, body } = renderMetricsIssue(m, "acme/ops");
  assert.equal(title, "[breakglass metrics] 2026-11");
  assert.match(body, /\| Reviews overdue \(open 7 days after the grant ended, or missing\) \| 2: #2, #7 \|/);
  assert.match(body, /Failing revocations: someone may still hold access/);
  assert.doesNotMatch(body, /No drill this month/);
});

test("a repository name cannot inject Markdown or mentions into the issue", () => {
  const m = monthlyMetrics([], "2026-11", Date.parse("2026-12-02T00:00:00Z"));
  const { body } = renderMetricsIssue(m, "acme/ops @everyone [x](https://evil)");
  assert.doesNotMatch(body, /(^|[^\u200b])@everyone/);
  assert.doesNotMatch(body, /\]\(https:\/\/evil\)/);
});

test("the Markdown export has the same figures month by month", async () => {
  const { formatMarkdown } = await import("../../src/audit/format-md.ts");
  const rows = [
    row({ issue: 1 }),
    row({ issue: 2, break_glass: true, incident: null }),
    row({ issue: 3, requested_at: "2026-10-10T00:00:00.000Z", checklist_status: "missing" }),
  ];
  const md = formatMarkdown({
    repository: "acme/ops",
    generated_at: "2026-12-02T00:00:00.000Z",
    filters: { since: null, until: null, resource: null },
    verified: true,
    rows,
    records: [],
  });
  assert.match(md, /## Month by month/);
  assert.match(md, /\| 2026-10 \| 1 \| 1 \| 0 % \| .* \| 0 \| 1 \| 0 \| 0 \|/);
  assert.match(md, /\| 2026-11 \| 2 \| 2 \| 50 % \| .* \| 1 \| 0 \| 0 \| 0 \|/);
});

test("a request naming several resources is one request and names its issue once; each resource's grant counts", () => {
  const m = monthlyMetrics(
    [
      row({ issue: 1, resource: "a", incident: null, checklist_status: "missing" }),
      row({ issue: 1, resource: "b", incident: null, checklist_status: "missing", break_glass: true }),
      row({ issue: 2 }),
    ],
    "2026-11",
    Date.parse("2026-12-02T00:00:00Z"),
  );
  assert.equal(m.requests, 2);
  assert.equal(m.resources, 3);
  assert.equal(m.granted, 3);
  assert.equal(m.break_glass, 1);
  assert.deepEqual(m.granted_without_incident, [1]);
  assert.deepEqual(m.overdue_reviews, [1]);
  const { body } = renderMetricsIssue(m, "acme/ops");
  assert.match(body, /\| Requests \(drills apart\) \| 2 \(3 resources\) \|/);
  assert.match(body, /\| Grants without an incident link \| 1: #1 \|/);
});

test("an issue that only carries the request label (no record of the app) is not counted", () => {
  const m = monthlyMetrics(
    [row({ issue: 1 }), row({ issue: 9, chain_entries: 0, status: "new", granted_at: null })],
    "2026-11",
    Date.parse("2026-12-02T00:00:00Z"),
  );
  assert.equal(m.requests, 1);
});
