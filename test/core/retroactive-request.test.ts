import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { checkRequestBody } from "../../src/core/check-request.ts";
import { applyEvent, initialState, needsReview, type RequestState } from "../../src/core/lifecycle.ts";
import { loadPolicies } from "../../src/core/policy.ts";
import { requestHash } from "../../src/core/request-hash.ts";
import { requestFormBody } from "../../src/sandbox/request-body.ts";

const FORM = readFileSync(".github/ISSUE_TEMPLATE/breakglass-request.yml", "utf8");
/** The form as repositories had it before retroactive records: no retroactive, started or ended field. */
const OLD_FORM = FORM.slice(0, FORM.indexOf("  - type: checkboxes\n    id: retroactive"));
const { policies } = loadPolicies([
  { path: "policies/model-rollback.yml", text: readFileSync("policies/model-rollback.yml", "utf8") },
]);
const NOW = Date.parse("2026-11-24T09:00:00Z");
const base = {
  resource: "model-rollback",
  role: "rollback",
  severity: "critical",
  justification: "GitHub was down; rolled the model back by hand with the sealed key.",
};
/** The one request of a body naming one resource (checkRequestBody returns one per resource). */
const check = (body: string, form = FORM) => {
  const r = checkRequestBody(body, form, policies, [], NOW);
  if (r.ok) assert.equal(r.value.length, 1);
  return r.ok ? { ok: true as const, value: r.value[0]! } : r;
};

describe("retroactive records in the request form", () => {
  it("a ticked box with zoned times gives a retroactive request, its duration the time it covers", () => {
    const r = check(
      requestFormBody({
        ...base,
        retroactive: { started: "2026-11-24T06:10Z", ended: "2026-11-24T08:10+01:00" },
      }),
    );
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.value.retroactive, {
      started_at: "2026-11-24T06:10:00.000Z",
      ended_at: "2026-11-24T07:10:00.000Z",
    });
    assert.equal(r.value.duration_seconds, 3600);
    const { retroactive: _r, ...plain } = r.value;
    assert.notEqual(
      requestHash(r.value),
      requestHash(plain),
      "the record's times are part of what is approved",
    );
  });
  it("a normal request parses with the new form and with a form that has no retroactive field", () => {
    for (const form of [FORM, OLD_FORM]) {
      const r = check(requestFormBody({ ...base, duration: "30m" }), form);
      assert.ok(r.ok, JSON.stringify(r));
      assert.equal(r.value.retroactive, undefined);
    }
  });
  it("refuses times without the box, a drill, times without a zone, out of order or in the future", () => {
    const codes = (body: string) => {
      const r = check(body);
      return r.ok ? [] : r.error.map((e) => e.field);
    };
    const withTimes = requestFormBody({
      ...base,
      retroactive: { started: "2026-11-24T06:10Z", ended: "2026-11-24T07:10Z" },
    }).replace("- [x] This records", "- [ ] This records");
    assert.deepEqual(codes(withTimes), ["started"]);
    assert.deepEqual(
      codes(
        requestFormBody({
          ...base,
          drill: true,
          retroactive: { started: "2026-11-24T06:10Z", ended: "2026-11-24T07:10Z" },
        }),
      ).includes("retroactive"),
      true,
    );
    assert.deepEqual(
      codes(
        requestFormBody({
          ...base,
          retroactive: { started: "2026-11-24 06:10", ended: "2026-11-24T07:10Z" },
        }),
      ),
      ["started"],
    );
    assert.deepEqual(
      codes(
        requestFormBody({
          ...base,
          retroactive: { started: "2026-11-24T07:10Z", ended: "2026-11-24T06:10Z" },
        }),
      ),
      ["ended"],
    );
    assert.deepEqual(
      codes(
        requestFormBody({
          ...base,
          retroactive: { started: "2026-11-24T06:10Z", ended: "2026-11-24T10:10Z" },
        }),
      ),
      ["ended"],
    );
    assert.deepEqual(
      codes(
        requestFormBody({
          ...base,
          retroactive: { started: "2026-07-01T06:10Z", ended: "2026-07-01T07:10Z" },
        }),
      ),
      ["started"],
    );
  });
});

describe("the lifecycle of a retroactive record", () => {
  const requested = (): RequestState => {
    const r = check(
      requestFormBody({ ...base, retroactive: { started: "2026-11-24T06:10Z", ended: "2026-11-24T07:10Z" } }),
    );
    assert.ok(r.ok);
    const s = applyEvent(initialState(), {
      at: "2026-11-24T09:00:00Z",
      type: "requested",
      actor: "dave",
      request: r.value,
      hash: requestHash(r.value),
      required_approvals: 1,
    });
    assert.ok(s.ok);
    return s.value;
  };
  it("its approval records it (recorded, ended, reviewed), never approved for a grant", () => {
    const s = requested();
    const approved = applyEvent(s, {
      at: "2026-11-24T09:05:00Z",
      type: "approved",
      actor: "grace",
      hash: s.hash!,
      via: "team",
    });
    assert.ok(approved.ok);
    assert.equal(approved.value.status, "recorded");
    assert.ok(needsReview(approved.value));
    const granted = applyEvent(approved.value, {
      at: "2026-11-24T09:06:00Z",
      type: "granted",
      actor: "app",
      grant_id: "g",
      run_id: "1/1",
      provider: "jwt",
      credential_id: "c",
      expires_at: "2026-11-24T10:00:00Z",
    } as never);
    assert.equal(granted.ok, false);
  });
  it("refuses auto-approval and break-glass; a denied one is reviewed too", () => {
    const s = requested();
    assert.equal(
      applyEvent(s, {
        at: "2026-11-24T09:01:00Z",
        type: "auto_approved",
        actor: "app",
        hash: s.hash!,
        rule: "r",
      }).ok,
      false,
    );
    assert.equal(
      applyEvent(s, {
        at: "2026-11-24T09:01:00Z",
        type: "break_glass",
        actor: "dave",
        hash: s.hash!,
        reason: "nobody around at all",
      }).ok,
      false,
    );
    const denied = applyEvent(s, {
      at: "2026-11-24T09:01:00Z",
      type: "denied",
      actor: "grace",
      reason: "no",
    });
    assert.ok(denied.ok && needsReview(denied.value));
  });
});
