import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { parseDuration } from "../../src/core/duration.ts";
import { parseRequestBody } from "../../src/core/request-form.ts";
import { parsePolicy } from "../../src/core/policy.ts";
import { compileCodeowners } from "../../src/core/codeowners.ts";
import { parseCommand } from "../../src/core/commands.ts";
import { applyEvent, initialState } from "../../src/core/lifecycle.ts";
import type { TimedEvent } from "../../src/core/lifecycle-events.ts";

// Bounded: a few hundred runs each, so the suite stays fast; failures print a shrunk counterexample.
// A fixed seed keeps CI reproducible; set FUZZ_SEED to explore other inputs.
const seed = Number(process.env.FUZZ_SEED ?? 20261124);
fc.configureGlobal({ seed });
const RUNS = { numRuns: 300 };
const form = readFileSync(".github/ISSUE_TEMPLATE/breakglass-request.yml", "utf8");
const policyText = readFileSync("policies/prod-database.yml", "utf8");
const messy = fc.oneof(
  fc.string(),
  fc.string({ unit: "grapheme" }),
  fc.constantFrom(
    "### Role",
    "\n",
    "```",
    "<!--",
    "-->",
    "- [x] ",
    "_No response_",
    "### Resource\n\nprod-database\n",
  ),
);
const messyText = fc.array(messy, { maxLength: 30 }).map((parts) => parts.join(""));

test("parseDuration never throws and every refusal has a message", () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.string(), fc.string({ unit: "grapheme" }), fc.stringMatching(/^[0-9dhmsPTDHMS.+-]{0,12}$/)),
      (input) => {
        const r = parseDuration(input);
        if (r.ok) assert.ok(Number.isInteger(r.value) && r.value > 0 && r.value <= 7 * 86400);
        else assert.ok(r.error.length > 10);
      },
    ),
    RUNS,
  );
});

test("parseRequestBody never throws on arbitrary bodies; errors name a field and say what to do", () => {
  fc.assert(
    fc.property(messyText, (body) => {
      const r = parseRequestBody(body, form);
      if (!r.ok) for (const e of r.error) assert.ok(e.field.length > 0 && e.message.length > 10);
    }),
    RUNS,
  );
});

test("parsePolicy never throws on mutated policies; every error has a file and a message", () => {
  const mutated = fc
    .tuple(fc.nat(policyText.length), fc.nat(40), messy)
    .map(([at, cut, insert]) => policyText.slice(0, at) + insert + policyText.slice(at + cut));
  fc.assert(
    fc.property(fc.oneof(mutated, messyText), (text) => {
      const r = parsePolicy("policies/fuzz.yml", text);
      if (!r.ok) for (const e of r.error) assert.ok(e.file === "policies/fuzz.yml" && e.message.length > 5);
    }),
    { numRuns: 200 },
  );
});

test("CODEOWNERS parsing and matching never throw", () => {
  const line = fc
    .tuple(
      fc.stringMatching(/^[\w*/.!#[\]\\-]{0,20}$/),
      fc.array(fc.stringMatching(/^@?[\w/.@-]{0,12}$/), { maxLength: 3 }),
    )
    .map(([p, o]) => `${p} ${o.join(" ")}`);
  fc.assert(
    fc.property(
      fc.array(line, { maxLength: 20 }),
      fc.array(fc.stringMatching(/^[\w/.-]{1,30}$/), { maxLength: 5 }),
      (lines, paths) => {
        const compiled = compileCodeowners(lines.join("\n"));
        for (const e of compiled.errors) assert.ok(e.line >= 1 && e.message.length > 5);
        for (const p of paths) {
          const m = compiled.ownersOf(p);
          assert.ok(Array.isArray(m.owners));
          if (m.line !== null) assert.ok(compiled.rules.some((r) => r.line === m.line));
        }
      },
    ),
    RUNS,
  );
});

test("parseCommand never throws; invalid commands say what to write", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        messyText,
        fc.string().map((s) => `/${s}`),
        fc.constantFrom("/approve", "/deny", "/extend", "/break-glass x"),
      ),
      (body) => {
        const c = parseCommand(body);
        if (c?.kind === "invalid") assert.ok(c.message.length > 10);
      },
    ),
    RUNS,
  );
});

test("the lifecycle fold never throws: each event is applied or refused with a reason code", () => {
  const actor = fc.constantFrom("dave", "bob", "carol", "breakglass[bot]");
  const hash = fc.constantFrom("h1", "h2");
  const request = {
    resource: "prod-database",
    role: "read",
    duration_seconds: 3600,
    severity: "high" as const,
    justification: "x".repeat(30),
    incident: null,
    drill: false,
  };
  const event: fc.Arbitrary<TimedEvent> = fc
    .oneof(
      fc.record({
        type: fc.constant("requested" as const),
        actor,
        request: fc.constant(request),
        hash,
        required_approvals: fc.integer({ min: 1, max: 3 }),
      }),
      fc.record({
        type: fc.constant("approved" as const),
        actor,
        hash,
        via: fc.constant("codeowner" as const),
        comment_id: fc.integer({ min: 1, max: 5 }),
      }),
      fc.record({
        type: fc.constant("approval_withdrawn" as const),
        actor,
        comment_id: fc.integer({ min: 1, max: 5 }),
        reason: fc.constant("comment_deleted" as const),
      }),
      fc.record({ type: fc.constant("denied" as const), actor, reason: fc.constant("no") }),
      fc.record({
        type: fc.constant("granted" as const),
        actor,
        grant_id: fc.constant("g1"),
        run_id: fc.constant("1/1"),
        provider: fc.constant("jwt"),
        credential_id: fc.constant("c"),
        expires_at: fc.constant("2026-11-24T10:00:00.000Z"),
      }),
      fc.record({
        type: fc.constant("revocation_failed" as const),
        actor,
        grant_id: fc.constant("g1"),
        error: fc.constant("boom"),
        attempt: fc.integer({ min: 1, max: 3 }),
      }),
      fc.record({
        type: fc.constant("revoked" as const),
        actor,
        grant_id: fc.constant("g1"),
        reason: fc.constantFrom("expired" as const, "revoked" as const),
        evidence: fc.constant("ok"),
      }),
      fc.record({ type: fc.constant("closed" as const), actor }),
      fc.record({ type: fc.constant("checklist_opened" as const), actor, issue: fc.constant(9) }),
    )
    .map((e) => ({ ...e, at: "2026-11-24T09:00:00.000Z" }) as TimedEvent);
  fc.assert(
    fc.property(fc.array(event, { maxLength: 25 }), (events) => {
      let state = initialState();
      for (const e of events) {
        const r = applyEvent(state, e);
        if (r.ok) state = r.value;
        else assert.ok(r.error.code.length > 0 && r.error.message.length > 10);
      }
      // Invariants: a closed request has ended; an active one has a grant; approvals are distinct people.
      if (state.closed)
        assert.ok(["expired", "revoked", "denied", "cancelled", "timed_out"].includes(state.status));
      if (state.status === "active") assert.ok(state.grant);
      assert.equal(new Set(state.approvals.map((a) => a.actor)).size, state.approvals.length);
    }),
    RUNS,
  );
});
