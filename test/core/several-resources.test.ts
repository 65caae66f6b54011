import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseRequestBody, type RequestFields } from "../../src/core/request-form.ts";
import { changesRecordedRequest, MAX_PARTS, validateRequests } from "../../src/core/request-pairs.ts";
import { requestHash } from "../../src/core/request-hash.ts";
import { foldEvents, partsOf, partsStatus, type RequestState } from "../../src/core/lifecycle.ts";
import type { LifecycleEvent, TimedEvent } from "../../src/core/lifecycle-events.ts";
import type { AccessRequest } from "../../src/core/types.ts";
import { requestFormBody } from "../../src/sandbox/request-body.ts";
import { policy } from "../support/policy-fixture.ts";

const HOUR = 3600;
const FORM = readFileSync(".github/ISSUE_TEMPLATE/breakglass-request.yml", "utf8");

const POLICIES = new Map(
  ["prod-database", "aws-production", "github-admin", "model-rollback", "drill", "cache"].map((r) => [
    r,
    policy(r, r === "aws-production" ? { max_duration_seconds: HOUR } : {}),
  ]),
);

function fields(
  more: string[] | undefined,
  extra: Partial<Parameters<typeof requestFormBody>[0]> = {},
): RequestFields {
  const parsed = parseRequestBody(
    requestFormBody({
      resource: "prod-database",
      role: "read",
      duration: "2h",
      ...(more ? { more } : {}),
      ...extra,
    }),
    FORM,
  );
  assert.ok(parsed.ok, JSON.stringify(parsed));
  return parsed.value;
}

describe("several resources in one request: the form and its checks", () => {
  test("a request without More resources is one request, as before", () => {
    const checked = validateRequests(fields(undefined), POLICIES);
    assert.ok(checked.ok);
    assert.deepEqual(
      checked.value.map((r) => [r.resource, r.role, r.duration_seconds]),
      [["prod-database", "read", 2 * HOUR]],
    );
  });

  test("each line of More resources is one more request sharing severity, justification and incident", () => {
    const checked = validateRequests(
      fields(["aws-production read 30m", "- github-admin admin"], { severity: "critical", incident: "#7" }),
      POLICIES,
    );
    assert.ok(checked.ok, JSON.stringify(checked));
    assert.deepEqual(
      checked.value.map((r) => [r.resource, r.role, r.duration_seconds, r.severity, r.incident]),
      [
        ["prod-database", "read", 2 * HOUR, "critical", "#7"],
        ["aws-production", "read", 30 * 60, "critical", "#7"],
        ["github-admin", "admin", HOUR, "critical", "#7"],
      ],
    );
    assert.equal(new Set(checked.value.map((r) => r.justification)).size, 1);
  });

  test("a line's problem names its line and is checked against that resource's own policy", () => {
    const checked = validateRequests(
      fields(["aws-production read 3h", "nosuch read", "github-admin superuser", "just-one-word"]),
      POLICIES,
    );
    assert.ok(!checked.ok);
    const messages = checked.error.map((e) => `${e.field}: ${e.message}`);
    assert.ok(
      messages.every((m) => m.startsWith("more: ")),
      messages.join("\n"),
    );
    assert.ok(
      messages.some(
        (m) => m.includes("Line 1") && m.includes("aws-production") && /duration|longer|at most/i.test(m),
      ),
      messages.join("\n"),
    );
    assert.ok(
      messages.some((m) => m.includes("Line 2") && m.includes("nosuch")),
      messages.join("\n"),
    );
    assert.ok(
      messages.some((m) => m.includes("Line 3") && m.includes("superuser")),
      messages.join("\n"),
    );
    assert.ok(
      messages.some((m) => m.includes("Line 4") && m.includes("<resource> <role>")),
      messages.join("\n"),
    );
  });

  test("a resource named twice, or the form's own resource again, is refused: one role per resource", () => {
    const checked = validateRequests(fields(["prod-database admin", "cache read", "CACHE admin"]), POLICIES);
    assert.ok(!checked.ok);
    const text = checked.error.map((e) => e.message).join("\n");
    assert.match(text, /Line 1 .*prod-database.*the Resource above/);
    assert.match(text, /Line 3 .*CACHE.*line 2 names it/);
  });

  test(`at most ${MAX_PARTS} resources in one request`, () => {
    const checked = validateRequests(
      fields(["aws-production read", "github-admin read", "model-rollback read", "cache read", "drill read"]),
      POLICIES,
    );
    assert.ok(!checked.ok);
    assert.match(
      checked.error.map((e) => e.message).join("\n"),
      new RegExp(`at most ${MAX_PARTS} resources`),
    );
  });

  test("a retroactive record cannot name several resources", () => {
    const now = Date.parse("2026-12-03T12:00:00Z");
    const checked = validateRequests(
      fields(["cache read"], { retroactive: { started: "2026-12-03T08:00Z", ended: "2026-12-03T09:00Z" } }),
      POLICIES,
      [],
      now,
    );
    assert.ok(!checked.ok);
    assert.match(checked.error.map((e) => e.message).join("\n"), /retroactive record names one resource/);
  });

  test("a shared field's problem is reported once, not once per line", () => {
    const checked = validateRequests(
      fields(["cache read", "github-admin read"], { severity: "apocalyptic" }),
      POLICIES,
    );
    assert.ok(!checked.ok);
    assert.equal(checked.error.filter((e) => e.field === "severity").length, 1);
    assert.equal(checked.error.filter((e) => e.field === "more").length, 0);
  });
});

const AT = "2026-12-03T10:00:00.000Z";
function req(resource: string, role = "read"): AccessRequest {
  return {
    resource,
    role,
    duration_seconds: HOUR,
    severity: "high",
    justification: "Replication is broken and we need to look now.",
    incident: null,
    drill: false,
  };
}
type Ev = LifecycleEvent & { part?: string };
function fold(events: Ev[]) {
  return foldEvents(
    events.map((e, i) => ({ at: new Date(Date.parse(AT) + i * 1000).toISOString(), ...e }) as TimedEvent),
  );
}
const requested = (part: string, actor = "ana", hash = `h-${part}`): Ev => ({
  type: "requested",
  actor,
  part,
  request: req(part),
  hash,
  required_approvals: 1,
});
const approved = (part: string, actor: string, hash = `h-${part}`): Ev => ({
  type: "approved",
  actor,
  part,
  hash,
  via: "codeowner",
});
const granted = (part: string): Ev => ({
  type: "granted",
  actor: "app",
  part,
  grant_id: `g-${part}`,
  run_id: `r-${part}`,
  provider: "postgres",
  credential_id: `c-${part}`,
  expires_at: "2026-12-03T11:00:00.000Z",
});
const revoked = (part: string, reason: "expired" | "revoked" = "revoked"): Ev => ({
  type: "revoked",
  actor: "app",
  part,
  grant_id: `g-${part}`,
  reason,
  evidence: "verified",
});

function state(events: Ev[]): RequestState {
  const r = fold(events);
  assert.ok(r.ok, JSON.stringify(r));
  return r.state;
}

describe("several resources in one request: one state per part", () => {
  test("each part is approved by its own approver and granted on its own", () => {
    const s = state([
      requested("prod-database"),
      requested("aws-production"),
      approved("prod-database", "dba"),
    ]);
    assert.equal(s.parts!["prod-database"]!.status, "approved");
    assert.equal(s.parts!["aws-production"]!.status, "requested");
    assert.equal(s.status, "requested", "the request is still being decided while one part is");
    assert.equal(s.requester, "ana");
    const live = state([
      requested("prod-database"),
      requested("aws-production"),
      approved("prod-database", "dba"),
      granted("prod-database"),
    ]);
    assert.equal(live.status, "active", "a live grant in any part makes the request live");
    assert.equal(live.parts!["prod-database"]!.grant?.credential_id, "c-prod-database");
    assert.equal(live.parts!["aws-production"]!.grant, null);
    assert.deepEqual(
      partsOf(live).map((p) => [p.part, p.state.status]),
      [
        ["prod-database", "active"],
        ["aws-production", "requested"],
      ],
    );
  });

  test("an approval binds to its part's hash: another part's hash is stale", () => {
    const r = fold([
      requested("prod-database"),
      requested("aws-production"),
      approved("aws-production", "ops", "h-prod-database"),
    ]);
    assert.ok(!r.ok);
    assert.equal(r.refusal.code, "stale_request");
  });

  test("the request ends when every part has ended, and one grant ending makes it a reviewed grant", () => {
    const s = state([
      requested("prod-database"),
      requested("aws-production"),
      approved("prod-database", "dba"),
      granted("prod-database"),
      { type: "denied", actor: "ops", part: "aws-production", reason: "not needed" },
    ]);
    assert.equal(s.status, "active");
    const ended = state([
      requested("prod-database"),
      requested("aws-production"),
      approved("prod-database", "dba"),
      granted("prod-database"),
      { type: "denied", actor: "ops", part: "aws-production", reason: "not needed" },
      revoked("prod-database", "expired"),
      { type: "closed", actor: "app" },
    ]);
    assert.equal(ended.status, "expired");
    assert.ok(ended.closed);
    assert.ok(ended.ended_at);
  });

  test("closing is the issue's and needs every part ended", () => {
    const r = fold([
      requested("prod-database"),
      requested("aws-production"),
      approved("prod-database", "dba"),
      granted("prod-database"),
      revoked("prod-database"),
      { type: "closed", actor: "app" },
    ]);
    assert.ok(!r.ok, "aws-production is still requested");
    assert.equal(r.refusal.code, "invalid_transition");
  });

  test("an event of a several-resource request must name its part, and a one-resource request never takes parts", () => {
    const noPart = fold([requested("prod-database"), { type: "denied", actor: "ops", reason: "no" }]);
    assert.ok(!noPart.ok);
    assert.equal(noPart.refusal.code, "part_required");
    const single = fold([
      { type: "requested", actor: "ana", request: req("prod-database"), hash: "h", required_approvals: 1 },
      requested("aws-production"),
    ]);
    assert.ok(!single.ok);
    assert.equal(single.refusal.code, "not_several");
  });

  test("only the requester adds a part, only with its own resource, and not once anything was granted", () => {
    const other = fold([requested("prod-database"), requested("aws-production", "mallory")]);
    assert.ok(!other.ok);
    assert.equal(other.refusal.code, "not_requester");
    const wrong = fold([
      requested("prod-database"),
      {
        ...(requested("aws-production") as Extract<Ev, { type: "requested" }>),
        request: req("github-admin"),
      },
    ]);
    assert.ok(!wrong.ok);
    assert.equal(wrong.refusal.code, "wrong_part");
    const late = fold([
      requested("prod-database"),
      approved("prod-database", "dba"),
      granted("prod-database"),
      requested("aws-production"),
    ]);
    assert.ok(!late.ok);
    assert.equal(late.refusal.code, "not_editable");
    const unknown = fold([requested("prod-database"), approved("cache", "dba")]);
    assert.ok(!unknown.ok);
    assert.equal(unknown.refusal.code, "unknown_part");
  });

  test("a request first recorded as unreadable can become one of several resources", () => {
    const s = state([
      { type: "invalid", actor: "ana", errors: [{ field: "role", message: "x" }] },
      requested("prod-database"),
      requested("aws-production"),
    ]);
    assert.equal(s.status, "requested");
    assert.deepEqual(Object.keys(s.parts!), ["prod-database", "aws-production"]);
  });

  test("partsStatus ranks a live credential over decisions, and decisions over endings", () => {
    assert.equal(partsStatus({ a: { status: "revoked" }, b: { status: "revoke_failed" } }), "revoke_failed");
    assert.equal(partsStatus({ a: { status: "approved" }, b: { status: "requested" } }), "requested");
    assert.equal(partsStatus({ a: { status: "approved" }, b: { status: "denied" } }), "approved");
    assert.equal(partsStatus({ a: { status: "cancelled" }, b: { status: "expired" } }), "expired");
    assert.equal(partsStatus({ a: { status: "cancelled" }, b: { status: "denied" } }), "denied");
  });
});

describe("several resources in one request: edits once a part is decided", () => {
  const withHashes = (events: Ev[], requests: AccessRequest[]) =>
    events.map((e) =>
      e.type === "requested"
        ? {
            ...e,
            request: requests.find((r) => r.resource === e.part)!,
            hash: requestHash(requests.find((r) => r.resource === e.part)!),
          }
        : e.type === "approved"
          ? { ...e, hash: requestHash(requests.find((r) => r.resource === e.part)!) }
          : e,
    );
  const asked = [req("prod-database"), req("aws-production")];
  const live = state(
    withHashes(
      [
        requested("prod-database"),
        requested("aws-production"),
        approved("prod-database", "dba"),
        granted("prod-database"),
      ],
      asked,
    ),
  );

  test("a body that asks what the records still decide changes nothing, whatever a granted part's line says", () => {
    assert.equal(changesRecordedRequest(live, asked), false);
    assert.equal(changesRecordedRequest(live, [req("prod-database", "admin"), req("aws-production")]), false);
    assert.equal(
      changesRecordedRequest(live, [req("aws-production"), req("prod-database")]),
      false,
      "line order",
    );
  });

  test("a waiting part's line changed, dropped or swapped for another resource is a change", () => {
    assert.equal(changesRecordedRequest(live, [req("prod-database"), req("aws-production", "admin")]), true);
    assert.equal(changesRecordedRequest(live, [req("prod-database")]), true);
    assert.equal(changesRecordedRequest(live, [req("prod-database"), req("github-admin")]), true);
  });

  test("an edit can be refused (and recorded) while any part is being decided, not once all have ended", () => {
    const refused: Ev = { type: "edit_refused", actor: "ana", requester: "ana", hash: "x" };
    const events = withHashes(
      [
        requested("prod-database"),
        requested("aws-production"),
        approved("prod-database", "dba"),
        granted("prod-database"),
      ],
      asked,
    );
    assert.ok(fold([...events, refused]).ok, "one part live, the other waiting");
    const ended = fold([
      ...events,
      { type: "cancelled", actor: "ana", part: "aws-production" },
      revoked("prod-database"),
      refused,
    ]);
    assert.ok(!ended.ok);
    assert.equal(ended.refusal.code, "invalid_transition");
  });
});
