import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildAuditRow, type RowInput } from "../../src/audit/audit-row.ts";
import { foldEvents, initialState } from "../../src/core/lifecycle.ts";
import type { TimedEvent } from "../../src/core/lifecycle-events.ts";
import { request } from "./history-fixtures.ts";

const t = (minutes: number) =>
  new Date(Date.parse("2026-03-02T09:00:00.000Z") + minutes * 60_000).toISOString();
const drill = request({ drill: true });
const input = (events: TimedEvent[], now = t(1000)): RowInput => {
  const folded = foldEvents(events);
  assert.ok(folded.ok, JSON.stringify(folded));
  return {
    repository: "acme/ops",
    issue: { number: 5, html_url: "https://github.com/acme/ops/issues/5" },
    state: folded.state,
    events,
    chain: { entries: events.length, status: "verified", problem: null },
    checklist: null,
    now: Date.parse(now),
  };
};
const opened: TimedEvent[] = [
  { type: "requested", actor: "sam", request: drill, hash: "h", required_approvals: 1, at: t(0) },
  { type: "auto_approved", actor: "bot", hash: "h", rule: "drills", at: t(0) },
  {
    type: "granted",
    actor: "bot",
    grant_id: "g",
    run_id: "r",
    provider: "jwt",
    credential_id: "j",
    expires_at: t(60),
    at: t(1),
  },
];

describe("buildAuditRow", () => {
  it("a drill still running is in progress, and its use so far is counted up to the export", () => {
    const row = buildAuditRow(input(opened, t(31)));
    assert.equal(row.drill_result, "in_progress");
    assert.equal(row.status, "active");
    assert.equal(row.duration_used_seconds, 30 * 60);
    assert.equal(row.ended_reason, null);
  });

  it("a drill whose revocation failed once failed, even when a retry then revoked it", () => {
    const events: TimedEvent[] = [
      ...opened,
      { type: "revocation_failed", actor: "bot", grant_id: "g", error: "timeout", attempt: 1, at: t(61) },
      { type: "revoked", actor: "bot", grant_id: "g", reason: "expired", evidence: "ok", at: t(64) },
    ];
    const row = buildAuditRow(input(events));
    assert.equal(row.drill_result, "failed");
    assert.equal(row.time_to_revoke_seconds, 4 * 60, "measured from the expiry");
    assert.equal(row.revocation_failures, 1);
  });

  it("a manual revocation after failures is timed from the first failure", () => {
    const events: TimedEvent[] = [
      ...opened,
      { type: "revocation_failed", actor: "bot", grant_id: "g", error: "timeout", attempt: 1, at: t(10) },
      { type: "revoked", actor: "bob", grant_id: "g", reason: "revoked", evidence: "ok", at: t(12) },
    ];
    assert.equal(buildAuditRow(input(events)).time_to_revoke_seconds, 120);
  });

  it("a drill that was denied failed; a non-drill has no drill result", () => {
    const denied = buildAuditRow(
      input([opened[0]!, { type: "denied", actor: "bob", reason: "no", at: t(2) }]),
    );
    assert.equal(denied.drill_result, "failed");
    const plain = buildAuditRow({ ...input(opened), state: { ...input(opened).state, request: request() } });
    assert.equal(plain.drill_result, null);
  });

  it("never trusts the shape of unverified state", () => {
    const hostile = {
      ...initialState(),
      status: "requested" as const,
      requester: 42 as unknown as string,
      request: {
        resource: ["x"],
        role: null,
        duration_seconds: "1h",
        severity: {},
        justification: 7,
        incident: 8,
        drill: "yes",
      } as unknown as typeof drill,
    };
    const row = buildAuditRow({ ...input(opened), state: hostile, events: [] });
    assert.deepEqual(
      [
        row.requester,
        row.resource,
        row.role,
        row.duration_requested_seconds,
        row.severity,
        row.justification,
        row.incident,
        row.drill,
      ],
      [null, null, null, null, null, null, null, false],
    );
  });
});
