import assert from "node:assert/strict";
import { it } from "node:test";
import { describeApproval } from "../../src/audit/row-text.ts";

it("says how each approval was given", () => {
  const at = "2026-03-02T09:00:00.000Z";
  assert.equal(describeApproval({ login: "bob", via: "codeowner", detail: null, at }), "bob (codeowner)");
  assert.equal(
    describeApproval({ login: "carol", via: "team", detail: "@acme/dba", at }),
    "carol (team @acme/dba)",
  );
  assert.equal(describeApproval({ login: "carol", via: "team", detail: null, at }), "carol (team)");
  assert.equal(describeApproval({ login: "erin", via: "listed", detail: null, at }), "erin (listed)");
  assert.equal(
    describeApproval({ login: "breakglass[bot]", via: "auto", detail: "oncall", at }),
    "breakglass[bot] (auto: oncall)",
  );
  assert.equal(
    describeApproval({ login: "olga", via: "break_glass", detail: "down", at }),
    "olga (break-glass)",
  );
});

it("says how long access was used and how far the review got", async () => {
  const { describeUse, describeChecklist } = await import("../../src/audit/row-text.ts");
  const row = {
    duration_requested_seconds: 3600,
    duration_extended_seconds: 1800,
    duration_used_seconds: 3660,
    ended_at: "x",
    granted_at: "y",
    checklist_issue: null,
    checklist_status: null,
    checklist_checked: null,
    checklist_total: null,
  } as unknown as Parameters<typeof describeUse>[0];
  assert.equal(describeUse(row), "1h1m of 1h30m");
  assert.equal(describeUse({ ...row, ended_at: null }), "1h1m+ of 1h30m", "still alive");
  assert.equal(describeUse({ ...row, duration_used_seconds: null, granted_at: null }), "— of 1h30m");
  assert.equal(
    describeUse({ ...row, duration_used_seconds: null, duration_requested_seconds: null }),
    "— of —",
  );
  assert.equal(describeChecklist(row), "");
  assert.equal(
    describeChecklist({
      ...row,
      checklist_issue: 20,
      checklist_status: "open",
      checklist_checked: 1,
      checklist_total: 3,
    }),
    "#20 1 of 3 checked (open)",
  );
  assert.equal(
    describeChecklist({
      ...row,
      checklist_issue: 20,
      checklist_status: "missing",
      checklist_checked: 0,
      checklist_total: 0,
    }),
    "#20 missing",
  );
});
