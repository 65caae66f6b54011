import { test } from "node:test";
import assert from "node:assert/strict";
import {
  checkLimits,
  decideApproval,
  decideBreakGlass,
  decideCancellation,
  decideDenial,
  decideExtensionApproval,
  decideExtensionRequest,
  decideRevocation,
  matchAutoApproveRule,
  type Actor,
} from "../../src/core/approval-rules.ts";
import { resolveApprovers, teamsAmong } from "../../src/core/approvers.ts";
import { foldEvents, type RequestState } from "../../src/core/lifecycle.ts";
import type { TimedEvent } from "../../src/core/lifecycle-events.ts";
import type { AccessRequest, Policy } from "../../src/core/types.ts";

const at = "2026-11-24T09:00:00.000Z";
const request: AccessRequest = {
  resource: "prod-database",
  role: "read",
  duration_seconds: 3600,
  severity: "high",
  justification: "Orders table corrupted by the migration.",
  incident: null,
  drill: false,
};
const policy: Policy = {
  resource: "prod-database",
  path: "policies/prod-database.yml",
  description: "db",
  roles: { read: { provider: "postgres", settings: {} }, write: { provider: "postgres", settings: {} } },
  max_duration_seconds: 4 * 3600,
  default_duration_seconds: 3600,
  approvals: { required: 2, from: "codeowners", timeout_seconds: 1800, collect_within_seconds: 3600 },
  requesters: { min_permission: "write" },
  commands_via_apps: [],
  auto_approve: [
    { name: "drills", drill_only: true },
    { name: "read-low", roles: ["read"], severities: ["low"], max_duration_seconds: 3600 },
    { name: "on-call", on_call_team: "@acme/OnCall", max_duration_seconds: 1800 },
  ],
  break_glass: { allowed: true },
  extend: { requires_approval: true },
  incident: { require_open_issue: false, revoke_on_close: false },
  limits: { max_active_grants_per_user: 1, max_requests_per_user_per_day: 3 },
  notify: [],
  audit_checklist: [],
  keep_alive_after_job: false,
  drill: { enabled: false, targets: { time_to_grant_seconds: 120, time_to_revoke_seconds: 300 } },
};

const fold = (events: Array<Record<string, unknown>>): RequestState => {
  const r = foldEvents(events.map((e) => ({ at, ...e }) as TimedEvent));
  assert.ok(r.ok, JSON.stringify(r));
  return r.state;
};
const requested = () =>
  fold([{ type: "requested", actor: "dave", request, hash: "h1", required_approvals: 2 }]);
const active = () =>
  fold([
    { type: "requested", actor: "dave", request, hash: "h1", required_approvals: 1 },
    { type: "approved", actor: "bob", hash: "h1", via: "codeowner" },
    {
      type: "granted",
      actor: "run",
      grant_id: "g",
      run_id: "1/1",
      provider: "postgres",
      credential_id: "bg_1",
      expires_at: "2026-11-24T10:00:00.000Z",
    },
  ]);
const person = (login: string, over: Partial<Actor> = {}): Actor => ({
  login,
  type: "User",
  permission: "write",
  eligibility: { via: "codeowner" },
  ...over,
});

test("decideApproval: every refusal has its code, and a good approval binds to the current hash", () => {
  const s = requested();
  const code = (actor: Actor, state = s) => {
    const r = decideApproval(state, actor);
    return r.ok ? "ok" : r.error.code;
  };
  assert.equal(code(person("dave")), "self_approval");
  assert.equal(code(person("DAVE")), "self_approval");
  assert.equal(code(person("ci", { type: "Bot" })), "bot_approver");
  assert.equal(code(person("renovate[bot]")), "bot_approver");
  assert.equal(code(person("mallory", { eligibility: null })), "not_codeowner");
  assert.equal(code(person("bob", { permission: "read" })), "insufficient_permission");
  assert.equal(code(person("bob", { permission: "triage" })), "insufficient_permission");
  assert.equal(
    code(person("bob"), fold([{ type: "invalid", actor: "dave", errors: [] }])),
    "invalid_request",
  );
  assert.equal(code(person("bob"), fold([])), "not_pending");
  const once = fold([
    { type: "requested", actor: "dave", request, hash: "h1", required_approvals: 2 },
    { type: "approved", actor: "bob", hash: "h1", via: "codeowner" },
  ]);
  assert.equal(code(person("BOB"), once), "duplicate_approval");
  const ok = decideApproval(
    s,
    person("carol", { eligibility: { via: "team", team: "@acme/dba" } }),
    "looks right",
  );
  assert.deepEqual(ok, {
    ok: true,
    value: {
      type: "approved",
      actor: "carol",
      hash: "h1",
      via: "team",
      team: "@acme/dba",
      note: "looks right",
    },
  });
});

test("deny, cancel and revoke: who may, and when", () => {
  const s = requested();
  assert.equal(decideDenial(s, person("bob"), "no").ok, true);
  assert.equal(
    (decideDenial(s, person("dave"), "no") as { error: { code: string } }).error.code,
    "self_approval",
  );
  assert.equal(
    (decideDenial(active(), person("bob"), "no") as { error: { code: string } }).error.code,
    "not_pending",
  );
  assert.equal(decideCancellation(s, person("dave")).ok, true);
  assert.equal(
    (decideCancellation(s, person("bob")) as { error: { code: string } }).error.code,
    "not_requester",
  );
  const live = decideCancellation(active(), person("dave"));
  assert.ok(!live.ok && /use \/revoke/.test(live.error.message));
  assert.equal(decideRevocation(active(), person("dave", { eligibility: null })).ok, true, "requester");
  assert.equal(
    decideRevocation(active(), person("bob", { eligibility: null })).ok,
    true,
    "approver on record",
  );
  assert.equal(decideRevocation(active(), person("carol")).ok, true, "eligible owner");
  assert.equal(
    (decideRevocation(active(), person("mallory", { eligibility: null })) as { error: { code: string } })
      .error.code,
    "not_allowed_to_revoke",
  );
  assert.equal(
    (decideRevocation(active(), person("x[bot]")) as { error: { code: string } }).error.code,
    "not_allowed_to_revoke",
  );
  assert.equal((decideRevocation(s, person("dave")) as { error: { code: string } }).error.code, "not_active");
});

test("break-glass: requester only, where the policy allows, with a real reason", () => {
  const s = requested();
  assert.equal(decideBreakGlass(s, policy, person("dave"), "primary is down, nobody answers").ok, true);
  assert.equal(
    (
      decideBreakGlass(s, policy, person("bob"), "primary is down, nobody answers") as {
        error: { code: string };
      }
    ).error.code,
    "not_requester",
  );
  assert.equal(
    (
      decideBreakGlass(
        s,
        { ...policy, break_glass: { allowed: false } },
        person("dave"),
        "primary is down, nobody answers",
      ) as { error: { code: string } }
    ).error.code,
    "break_glass_not_allowed",
  );
  assert.equal(
    (decideBreakGlass(s, policy, person("dave"), "urgent") as { error: { code: string } }).error.code,
    "invalid_command",
  );
  assert.equal(
    (
      decideBreakGlass(active(), policy, person("dave"), "primary is down, nobody answers") as {
        error: { code: string };
      }
    ).error.code,
    "not_pending",
  );
});

test("extensions stay within the policy's maximum and need a different approver", () => {
  const s = active();
  const ask = decideExtensionRequest(s, policy, person("dave"), 3600, "still repairing", "x1");
  assert.deepEqual(ask, {
    ok: true,
    value: {
      type: "extension_requested",
      actor: "dave",
      seconds: 3600,
      reason: "still repairing",
      hash: "x1",
    },
  });
  const tooLong = decideExtensionRequest(s, policy, person("dave"), 4 * 3600, "more", "x2");
  assert.ok(
    !tooLong.ok &&
      tooLong.error.code === "extension_too_long" &&
      /5h/.test(tooLong.error.message) &&
      /4h/.test(tooLong.error.message),
  );
  assert.equal(
    (decideExtensionRequest(s, policy, person("bob"), 60, "r", "x3") as { error: { code: string } }).error
      .code,
    "not_requester",
  );
  assert.equal(
    (
      decideExtensionRequest(requested(), policy, person("dave"), 60, "r", "x4") as {
        error: { code: string };
      }
    ).error.code,
    "not_active",
  );
  const pending = fold([
    { type: "requested", actor: "dave", request, hash: "h1", required_approvals: 1 },
    { type: "approved", actor: "bob", hash: "h1", via: "codeowner" },
    {
      type: "granted",
      actor: "run",
      grant_id: "g",
      run_id: "1/1",
      provider: "postgres",
      credential_id: "bg_1",
      expires_at: "2026-11-24T10:00:00.000Z",
    },
    { type: "extension_requested", actor: "dave", seconds: 600, reason: "r", hash: "x1" },
  ]);
  assert.equal(
    (decideExtensionRequest(pending, policy, person("dave"), 60, "r", "x5") as { error: { code: string } })
      .error.code,
    "extension_pending",
  );
  assert.deepEqual(decideExtensionApproval(pending, person("carol")), {
    ok: true,
    value: { type: "extension_approved", actor: "carol", hash: "x1" },
  });
  assert.equal(
    (decideExtensionApproval(pending, person("dave")) as { error: { code: string } }).error.code,
    "self_approval",
  );
  assert.equal(
    (decideExtensionApproval(s, person("carol")) as { error: { code: string } }).error.code,
    "no_extension_pending",
  );
});

test("auto-approval: the first rule whose every condition holds", () => {
  assert.equal(matchAutoApproveRule(policy, request, new Set()), null, "high severity read: no rule");
  assert.equal(matchAutoApproveRule(policy, { ...request, severity: "low" }, new Set()), "read-low");
  assert.equal(
    matchAutoApproveRule(policy, { ...request, severity: "low", duration_seconds: 7200 }, new Set()),
    null,
    "too long for read-low",
  );
  assert.equal(matchAutoApproveRule(policy, { ...request, drill: true }, new Set()), "drills");
  assert.equal(
    matchAutoApproveRule(
      policy,
      { ...request, role: "write", duration_seconds: 1800 },
      new Set(["@acme/oncall"]),
    ),
    "on-call",
    "team names compare lower-cased",
  );
  assert.equal(
    matchAutoApproveRule(
      policy,
      { ...request, role: "write", duration_seconds: 1800 },
      new Set(["@acme/sre"]),
    ),
    null,
  );
});

test("limits: requests per day at request time, live grants at both", () => {
  assert.equal(checkLimits(policy, { activeGrants: 0, requestsToday: 3 }, "request").ok, true);
  const day = checkLimits(policy, { activeGrants: 0, requestsToday: 4 }, "request");
  assert.ok(!day.ok && day.error.code === "limit_requests_per_day" && /at most 3/.test(day.error.message));
  assert.equal(checkLimits(policy, { activeGrants: 0, requestsToday: 99 }, "grant").ok, true);
  const live = checkLimits(policy, { activeGrants: 1, requestsToday: 1 }, "grant");
  assert.ok(!live.ok && live.error.code === "limit_active_grants");
});

test("approvers: CODEOWNERS users and expanded teams, emails skipped, explicit lists marked listed", () => {
  const eligible = resolveApprovers(
    policy,
    ["@Bob", "@acme/dba", "dba@example.com"],
    new Map([["@acme/dba", ["Carol", "bob"]]]),
  );
  assert.deepEqual(
    [...eligible],
    [
      ["bob", { via: "codeowner" }],
      ["carol", { via: "team", team: "@acme/dba" }],
    ],
  );
  const listed = resolveApprovers(
    { approvals: { ...policy.approvals, from: ["@erin", "@acme/sre"] } },
    ["@ignored"],
    new Map([["@acme/sre", ["ivan"]]]),
  );
  assert.deepEqual(
    [...listed],
    [
      ["erin", { via: "listed" }],
      ["ivan", { via: "listed", team: "@acme/sre" }],
    ],
  );
  assert.deepEqual(teamsAmong(["@bob", "@acme/dba", "x@y.z", "@a/b/c"]), ["@acme/dba"]);
});
