import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AuditRow } from "../../src/audit/audit-row.ts";
import { flagRepeatBreakGlass, GRACE_SECONDS, requestFlags } from "../../src/audit/overuse-flags.ts";
import type { TimedEvent } from "../../src/core/lifecycle-events.ts";

const base: AuditRow = {
  repository: "acme/ops",
  issue: 1,
  url: "https://github.com/acme/ops/issues/1",
  status: "expired",
  requester: "dave",
  resource: "db",
  role: "read",
  severity: "high",
  drill: false,
  drill_result: null,
  justification: "x",
  incident: null,
  incident_issue_state: null,
  approvals: [],
  break_glass: false,
  break_glass_reason: null,
  requested_at: "2026-03-02T09:00:00.000Z",
  approved_at: null,
  granted_at: "2026-03-02T09:00:00.000Z",
  expires_at: "2026-03-02T10:00:00.000Z",
  ended_at: "2026-03-02T10:00:00.000Z",
  ended_reason: "expired",
  ended_by: null,
  ended_note: null,
  duration_requested_seconds: 3600,
  duration_extended_seconds: 0,
  duration_used_seconds: 3600,
  time_to_approve_seconds: null,
  time_to_grant_seconds: null,
  time_to_revoke_seconds: 0,
  provider: "jwt",
  credential_id: "c",
  revocation_failures: 0,
  last_revocation_error: null,
  checklist_issue: null,
  checklist_status: null,
  checklist_checked: null,
  checklist_total: null,
  flags: [],
  chain_entries: 3,
  chain_status: "verified",
  chain_problem: null,
  uses: [],
};

describe("requestFlags", () => {
  it("a request used as granted raises nothing", () => {
    assert.deepEqual(requestFlags(base, []), []);
  });

  it("outlived expiry only beyond the grace period", () => {
    assert.deepEqual(requestFlags({ ...base, duration_used_seconds: 3600 + GRACE_SECONDS }, []), []);
    assert.deepEqual(requestFlags({ ...base, duration_used_seconds: 3600 + GRACE_SECONDS + 1 }, []), [
      "outlived_expiry",
    ]);
  });

  it("a credential that lived longer than asked (and extended) is flagged", () => {
    const long = { ...base, expires_at: "2026-03-02T11:00:00.000Z" };
    assert.deepEqual(requestFlags(long, []), ["longer_than_requested"]);
    assert.deepEqual(
      requestFlags({ ...long, duration_extended_seconds: 3600 }, []),
      [],
      "an approved extension explains it",
    );
  });

  it("failed revocations, extensions, limit refusals, broken chains and break-glass", () => {
    const events = [
      { type: "extended", actor: "bot", grant_id: "g", expires_at: "x", at: "y" },
      { type: "invalid", actor: "dave", errors: [{ field: "limits", message: "too many" }], at: "y" },
    ] as TimedEvent[];
    const flags = requestFlags(
      { ...base, revocation_failures: 1, break_glass: true, chain_status: "broken" },
      events,
    );
    assert.deepEqual(flags, ["break_glass", "revoke_failed", "extended", "limit_refused", "chain_broken"]);
    const otherInvalid = [
      { type: "invalid", actor: "dave", errors: [{ field: "duration", message: "too long" }], at: "y" },
    ] as TimedEvent[];
    assert.deepEqual(requestFlags(base, otherInvalid), []);
  });
});

describe("flagRepeatBreakGlass", () => {
  it("flags a person's break-glass uses only when there is more than one, whatever the case of the login", () => {
    const rows = [
      { ...base, issue: 1, requester: "Olga", break_glass: true, flags: ["break_glass" as const] },
      { ...base, issue: 2, requester: "olga", break_glass: true, flags: ["break_glass" as const] },
      { ...base, issue: 3, requester: "olga", break_glass: false },
      { ...base, issue: 4, requester: "dave", break_glass: true, flags: ["break_glass" as const] },
    ];
    const out = flagRepeatBreakGlass(rows);
    assert.deepEqual(
      out.map((r) => r.flags),
      [["break_glass", "repeat_break_glass"], ["break_glass", "repeat_break_glass"], [], ["break_glass"]],
    );
    assert.deepEqual(
      flagRepeatBreakGlass(out).map((r) => r.flags),
      out.map((r) => r.flags),
      "idempotent",
    );
  });
});
