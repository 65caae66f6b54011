/**
 * The pure decisions behind "approvals only for what the approver saw, and only while they hold":
 * comment timing against the content record, the policy digest, the re-check of approvers and
 * rules, requester eligibility, the collect deadline, and the lifecycle events they record.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { approvalPostdatesRecord } from "../../src/core/approval-freshness.ts";
import { approvalExpired, collectDeadline } from "../../src/core/approval-expiry.ts";
import { ownersWithWritableTeams, type Eligibility, type Permission } from "../../src/core/approvers.ts";
import { applyEvent, foldEvents, type RequestState } from "../../src/core/lifecycle.ts";
import type { TimedEvent } from "../../src/core/lifecycle-events.ts";
import { approvalPolicyDigest } from "../../src/core/policy-digest.ts";
import { parsePolicy } from "../../src/core/policy.ts";
import { recheckApprovals, type ApprovalFacts } from "../../src/core/recheck-approvals.ts";
import { checkRequester } from "../../src/core/requester-eligibility.ts";
import type { AccessRequest, Policy } from "../../src/core/types.ts";

const at = "2026-11-24T09:00:00.000Z";
const request: AccessRequest = {
  resource: "prod-database",
  role: "read",
  duration_seconds: 3600,
  severity: "low",
  justification: "Orders table corrupted by the migration.",
  incident: null,
  drill: false,
};
const policy: Policy = {
  resource: "prod-database",
  path: "policies/prod-database.yml",
  description: "db",
  roles: {
    read: { provider: "postgres", settings: { grant_role: "ro" } },
    write: { provider: "postgres", settings: { grant_role: "rw" } },
  },
  max_duration_seconds: 4 * 3600,
  default_duration_seconds: 3600,
  approvals: { required: 2, from: "codeowners", timeout_seconds: 1800, collect_within_seconds: 3600 },
  requesters: { min_permission: "write" },
  commands_via_apps: [],
  auto_approve: [{ name: "read-low", roles: ["read"], severities: ["low"] }],
  break_glass: { allowed: true },
  extend: { requires_approval: true },
  incident: { require_open_issue: false, revoke_on_close: false },
  limits: { max_active_grants_per_user: 1, max_requests_per_user_per_day: 3 },
  notify: [],
  audit_checklist: ["Review"],
  keep_alive_after_job: false,
  drill: { enabled: false, targets: { time_to_grant_seconds: 120, time_to_revoke_seconds: 300 } },
};
const digest = approvalPolicyDigest(policy, "read");

const fold = (events: Array<Record<string, unknown>>): RequestState => {
  const r = foldEvents(events.map((e) => ({ at, ...e }) as TimedEvent));
  assert.ok(r.ok, JSON.stringify(r));
  return r.state;
};
const requested = { type: "requested", actor: "dave", request, hash: "h1", required_approvals: 2 };
const byBob = {
  type: "approved",
  actor: "bob",
  hash: "h1",
  via: "team",
  team: "@acme/dba",
  comment_id: 11,
  policy_digest: digest,
};
const byCarol = {
  type: "approved",
  actor: "carol",
  hash: "h1",
  via: "codeowner",
  comment_id: 12,
  policy_digest: digest,
};

const facts = (over: Partial<ApprovalFacts> = {}): ApprovalFacts => ({
  policyDigest: digest,
  eligible: new Map<string, Eligibility>([
    ["bob", { via: "team", team: "@acme/dba" }],
    ["carol", { via: "codeowner" }],
  ]),
  permissions: new Map<string, Permission>([
    ["bob", "write"],
    ["carol", "admin"],
  ]),
  teamPermissions: new Map<string, Permission>([["@acme/dba", "write"]]),
  requesterPermission: "write",
  requesterTeams: new Set(),
  ...over,
});

test("approvalPostdatesRecord: counts only a comment both created no earlier and numbered after the content record", () => {
  const record = { id: 100, created_at: "2026-11-24T09:00:05Z" };
  const code = (approval: { id: number; created_at: string }, rec: typeof record | null = record) => {
    const r = approvalPostdatesRecord(approval, rec, "abcdef0123456789abcd");
    return r.ok ? "ok" : r.error.code;
  };
  assert.equal(code({ id: 101, created_at: "2026-11-24T09:00:06Z" }), "ok");
  assert.equal(
    code({ id: 101, created_at: "2026-11-24T09:00:05Z" }),
    "ok",
    "same second, later id: written after",
  );
  assert.equal(
    code({ id: 99, created_at: "2026-11-24T09:00:05Z" }),
    "approval_predates_request",
    "same second, earlier id",
  );
  assert.equal(
    code({ id: 99, created_at: "2026-11-24T09:00:01Z" }),
    "approval_predates_request",
    "written before the edit, delivered after it",
  );
  assert.equal(
    code({ id: 100, created_at: "2026-11-24T09:00:05Z" }),
    "approval_predates_request",
    "a full tie is not after",
  );
  assert.equal(
    code({ id: 150, created_at: "2026-11-24T09:00:01Z" }),
    "approval_predates_request",
    "facts that disagree do not count",
  );
  assert.equal(code({ id: 150, created_at: "not a date" }), "approval_predates_request");
  assert.equal(
    code({ id: 150, created_at: "2026-11-24T09:00:09Z" }, null),
    "approval_predates_request",
    "no record to compare with",
  );
  const refused = approvalPostdatesRecord(
    { id: 1, created_at: "2026-11-24T09:00:01Z" },
    record,
    "abcdef0123456789abcd",
  );
  assert.ok(!refused.ok);
  assert.match(refused.error.message, /abcdef0123456789/);
  assert.match(refused.error.message, /approve again in a new comment/);
});

test("approvalPolicyDigest: widening terms change it, texts that decide nothing do not", () => {
  const changed = (edit: (p: Policy) => Policy, role = "read") =>
    approvalPolicyDigest(edit(structuredClone(policy)), role) !== digest;
  assert.equal(
    changed((p) => ({ ...p, max_duration_seconds: 8 * 3600 })),
    true,
    "longer maximum",
  );
  assert.equal(
    changed((p) => ({ ...p, approvals: { ...p.approvals, required: 1 } })),
    true,
    "fewer approvals",
  );
  assert.equal(
    changed((p) => ({
      ...p,
      roles: { ...p.roles, read: { provider: "postgres", settings: { grant_role: "superuser" } } },
    })),
    true,
    "new role settings",
  );
  assert.equal(
    changed((p) => ({ ...p, auto_approve: [] })),
    true,
  );
  assert.equal(
    changed((p) => ({ ...p, environment: "prod" })),
    true,
  );
  assert.equal(
    changed((p) => ({ ...p, requesters: { min_permission: "read" } })),
    true,
  );
  assert.equal(
    changed((p) => ({
      ...p,
      description: "another text",
      notify: [{ type: "slack", url_env: "X" }],
      audit_checklist: ["other"],
    })),
    false,
  );
  assert.equal(
    changed((p) => ({
      ...p,
      roles: { ...p.roles, write: { provider: "postgres", settings: { grant_role: "superuser" } } },
    })),
    false,
    "another role's settings",
  );
  assert.notEqual(approvalPolicyDigest(policy, "write"), digest, "bound to the requested role");
  assert.match(digest, /^[0-9a-f]{64}$/);
});

test("recheckApprovals: approvals that still hold stay, and each stale one is named with its reason", () => {
  const state = fold([requested, byBob, byCarol]);
  assert.equal(state.status, "approved");
  assert.deepEqual(recheckApprovals(state, policy, facts()), {
    voided: [],
    required: 2,
    complete: true,
    requester: null,
  });
  const reasons = (f: ApprovalFacts, p = policy, s = state) =>
    recheckApprovals(s, p, f).voided.map((v) => `${v.actor}:${v.reason}`);
  assert.deepEqual(reasons(facts({ eligible: new Map([["carol", { via: "codeowner" }]]) })), [
    "bob:not_codeowner",
  ]);
  assert.deepEqual(
    reasons(
      facts({
        eligible: new Map([["carol", { via: "codeowner" }]]),
        teamPermissions: new Map([["@acme/dba", "read"]]),
      }),
    ),
    ["bob:team_without_write"],
  );
  assert.deepEqual(
    reasons(
      facts({
        permissions: new Map([
          ["bob", "write"],
          ["carol", "read"],
        ]),
      }),
    ),
    ["carol:insufficient_permission"],
  );
  assert.deepEqual(reasons(facts({ policyDigest: "other" })), ["bob:policy_changed", "carol:policy_changed"]);
  const legacy = fold([requested, { ...byBob, policy_digest: undefined }, byCarol]);
  assert.deepEqual(
    reasons(facts(), policy, legacy),
    ["bob:policy_changed"],
    "a record without a digest cannot show what it agreed to",
  );
  const stale = recheckApprovals(
    state,
    policy,
    facts({ eligible: new Map([["carol", { via: "codeowner" }]]) }),
  );
  assert.equal(stale.complete, false, "one of two left");
});

test("recheckApprovals: a tightened count, a dropped or no longer matching rule, and break-glass no longer allowed", () => {
  const state = fold([requested, byBob, byCarol]);
  const tighter = recheckApprovals(
    state,
    { ...policy, approvals: { ...policy.approvals, required: 3 } },
    facts(),
  );
  assert.deepEqual([tighter.voided, tighter.required, tighter.complete], [[], 3, false]);
  const auto = fold([
    requested,
    { type: "auto_approved", actor: "breakglass[bot]", hash: "h1", rule: "read-low", policy_digest: digest },
  ]);
  assert.equal(auto.status, "approved");
  assert.equal(recheckApprovals(auto, policy, facts()).complete, true);
  const renamed = { ...policy, auto_approve: [{ name: "other", roles: ["read"] }] };
  assert.deepEqual(recheckApprovals(auto, renamed, facts({ policyDigest: digest })).voided, [
    { actor: "breakglass[bot]", reason: "rule_no_longer_matches" },
  ]);
  const glass = fold([
    requested,
    {
      type: "break_glass",
      actor: "dave",
      hash: "h1",
      reason: "pager storm, nobody answers",
      policy_digest: digest,
    },
  ]);
  assert.deepEqual(recheckApprovals(glass, { ...policy, break_glass: { allowed: false } }, facts()).voided, [
    { actor: "dave", reason: "break_glass_not_allowed" },
  ]);
});

test("recheckApprovals: a requester the policy no longer admits voids every approval", () => {
  const state = fold([requested, byBob, byCarol]);
  const r = recheckApprovals(state, policy, facts({ requesterPermission: "read" }));
  assert.equal(r.complete, false);
  assert.equal(r.requester?.code, "requester_not_allowed");
  assert.deepEqual(
    r.voided.map((v) => v.reason),
    ["requester_not_allowed", "requester_not_allowed"],
  );
});

test("checkRequester: minimum permission (default write) and, when listed, team membership", () => {
  const code = (
    permission: Permission,
    teams: string[] = [],
    p: Pick<Policy, "resource" | "requesters"> = policy,
  ) => {
    const r = checkRequester(p, "oscar", permission, new Set(teams));
    return r.ok ? "ok" : r.error.code;
  };
  assert.equal(code("write"), "ok");
  assert.equal(code("admin"), "ok");
  assert.equal(code("triage"), "requester_not_allowed");
  assert.equal(code("read"), "requester_not_allowed");
  assert.equal(code("none"), "requester_not_allowed");
  const loose = { resource: "x", requesters: { min_permission: "read" as const } };
  assert.equal(code("read", [], loose), "ok");
  const teams = { resource: "x", requesters: { min_permission: "write" as const, teams: ["@acme/SRE"] } };
  assert.equal(code("write", [], teams), "requester_not_allowed");
  assert.equal(code("write", ["@acme/sre"], teams), "ok");
  assert.equal(
    checkRequester(policy, "github-actions[bot]", "none", new Set(), true).ok,
    true,
    "the drill workflow's bot may open drills",
  );
  assert.equal(
    checkRequester(policy, "github-actions[bot]", "none", new Set(), false).ok,
    false,
    "but nothing else",
  );
  assert.equal(
    checkRequester(policy, "oscar", "read", new Set(), true).ok,
    false,
    "a drill flag does not admit a person",
  );
  const r = checkRequester(policy, "oscar", "read", new Set());
  assert.ok(!r.ok);
  assert.match(r.error.message, /at least write access/);
  assert.match(r.error.message, /oscar has read/);
});

test("ownersWithWritableTeams: a team owns a path only with write access of its own; people are kept", () => {
  const owners = ["@acme/dba", "@acme/readers", "@carol"];
  assert.deepEqual(
    ownersWithWritableTeams(
      owners,
      new Map([
        ["@acme/dba", "maintain"],
        ["@acme/readers", "read"],
      ]),
    ),
    ["@acme/dba", "@carol"],
  );
  assert.deepEqual(
    ownersWithWritableTeams(owners, new Map()),
    ["@carol"],
    "a team with no access owns nothing",
  );
});

test("collect deadline: approved and not granted, policy-bound; none otherwise", () => {
  const approved = fold([requested, byBob, byCarol]);
  const deadline = Date.parse(at) + 3600_000;
  assert.equal(collectDeadline(approved, policy), deadline);
  assert.equal(approvalExpired(approved, policy, deadline - 1), false);
  assert.equal(approvalExpired(approved, policy, deadline), true);
  assert.equal(collectDeadline(fold([requested, byBob]), policy), null, "still waiting for approval");
  const granted = fold([
    requested,
    byBob,
    byCarol,
    {
      type: "granted",
      actor: "run",
      grant_id: "g",
      run_id: "1/1",
      provider: "postgres",
      credential_id: "c",
      expires_at: "2026-11-24T10:00:00.000Z",
    },
  ]);
  assert.equal(collectDeadline(granted, policy), null);
});

test("lifecycle: approvals_voided sends an approved request back to waiting; approval_expired ends it; edit_refused changes nothing", () => {
  const approved = fold([requested, byBob, byCarol]);
  const voided = applyEvent(approved, {
    type: "approvals_voided",
    actor: "app",
    voided: [{ actor: "BOB", reason: "not_codeowner" }],
    required_approvals: 2,
    at,
  });
  assert.ok(voided.ok);
  assert.equal(voided.value.status, "requested");
  assert.deepEqual(
    voided.value.approvals.map((a) => a.actor),
    ["carol"],
  );
  assert.deepEqual(
    voided.value.voided_approvals.map((a) => a.actor),
    ["bob"],
  );
  assert.equal(voided.value.approved_at, null);
  const lowered = applyEvent(fold([requested, byBob]), {
    type: "approvals_voided",
    actor: "app",
    voided: [],
    required_approvals: 1,
    at,
  });
  assert.ok(lowered.ok);
  assert.equal(lowered.value.required_approvals, 1);
  assert.equal(
    applyEvent(approved, { type: "approvals_voided", actor: "app", voided: [], required_approvals: 2, at })
      .ok,
    false,
    "a void that voids nothing is not recorded",
  );
  const expired = applyEvent(approved, {
    type: "approval_expired",
    actor: "app",
    collect_within_seconds: 3600,
    at,
  });
  assert.ok(expired.ok);
  assert.equal(expired.value.status, "timed_out");
  assert.equal(
    applyEvent(fold([requested]), {
      type: "approval_expired",
      actor: "app",
      collect_within_seconds: 3600,
      at,
    }).ok,
    false,
  );
  const refused = applyEvent(approved, {
    type: "edit_refused",
    actor: "mallory",
    requester: "dave",
    hash: "h2",
    at,
  });
  assert.ok(refused.ok);
  assert.deepEqual(
    { ...refused.value, eventCount: approved.eventCount },
    approved,
    "the recorded request, approvals and status stand",
  );
});

test("policy fields: approvals.collect_within, requesters and commands_via_apps, with their defaults", () => {
  const base = "description: x\nroles:\n  read: { provider: jwt }\nmax_duration: 1h\n";
  const plain = parsePolicy("policies/x.yml", base);
  assert.ok(plain.ok, JSON.stringify(plain));
  assert.equal(plain.value.approvals.collect_within_seconds, 3600);
  assert.deepEqual(plain.value.requesters, { min_permission: "write" });
  assert.deepEqual(plain.value.commands_via_apps, []);
  const set = parsePolicy(
    "policies/x.yml",
    `${base}approvals:\n  collect_within: 15m\nrequesters:\n  min_permission: maintain\n  teams: ["@acme/sre"]\ncommands_via_apps: [chatops]\n`,
  );
  assert.ok(set.ok, JSON.stringify(set));
  assert.equal(set.value.approvals.collect_within_seconds, 900);
  assert.deepEqual(set.value.requesters, { min_permission: "maintain", teams: ["@acme/sre"] });
  assert.deepEqual(set.value.commands_via_apps, ["chatops"]);
  const bad = parsePolicy(
    "policies/x.yml",
    `${base}approvals:\n  collect_within: forever\nrequesters:\n  min_permission: owner\n`,
  );
  assert.ok(!bad.ok);
  const messages = bad.error.map((e) => e.message).join("\n");
  assert.match(messages, /collect_within/);
  assert.match(messages, /min_permission/);
});
