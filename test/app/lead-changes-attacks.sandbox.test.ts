/**
 * Attacks on the lead's changes of one day (A292-): an issue's one timer at the earliest time due,
 * with a request naming two resources of different durations whose first revocation fails and is
 * retried while the second grant is live.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, it } from "node:test";
import type { CredentialProvider } from "../../src/providers/provider.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import { sandboxHelpers, withoutStepUp } from "../support/sandbox-helpers.ts";

const MIN = 60_000;
const COPY = "model-extendable";
// A second keep-alive resource (its grant outlives its job), owned by the same owners, without step-up.
const copyPolicy = readFileSync("policies/model-guardrail-override.yml", "utf8")
  .replace("provider: jwt", "provider: postgres")
  .replace(/settings:\n(?: {6}.*\n)+/, "settings:\n      grant_role: bg_model_ops\n")
  .replace(/^[ \t]*step_up:.*\n/gm, "");

let sb: Sandbox;
const h = sandboxHelpers(() => sb);
let failuresLeft = 0;
let revokeCalls = 0;
const live = new Set<string>();

before(async () => {
  const postgres: CredentialProvider = {
    name: "postgres",
    async mint(request) {
      const id = `pg_${request.issue}`;
      live.add(id);
      return { credentialId: id, expiresAt: request.expiresAt, secrets: { PG_SECRET: id }, outputs: {} };
    },
    async revoke(ref) {
      live.delete(ref.credentialId);
    },
    async verifyRevoked(ref) {
      return { revoked: !live.has(ref.credentialId), evidence: live.has(ref.credentialId) ? "live" : "gone" };
    },
  };
  sb = await startSandbox({ files: { [`policies/${COPY}.yml`]: copyPolicy }, providers: { postgres } });
  withoutStepUp(sb);
  // The app's own jwt provider (its tokens are what introspection knows), whose revocation can fail.
  const providers = sb.app.deps.providers as Record<string, CredentialProvider>;
  const real = providers.jwt!;
  providers.jwt = {
    ...real,
    name: "jwt",
    async revoke(ref) {
      revokeCalls++;
      if (failuresLeft > 0) {
        failuresLeft--;
        throw new Error("gateway unreachable: ECONNREFUSED 10.0.0.7:443");
      }
      return real.revoke(ref);
    },
  };
});
after(() => sb.close());

/** What the app's one timer for #n holds now: nothing may be due at once (a timer re-armed in the past is a busy loop). */
function dueNow(n: number): number[] {
  return sb.app.deps
    .scheduler!.due(sb.clock.now())
    .map((d) => d.issue)
    .filter((i) => i === n);
}

it("A292: two resources of different durations: the shorter expires on time, its failed revocation is retried on its backoff while the longer one is live (not held up to the longer one's expiry), no timer re-arms in the past, and the longer one expires on time", async () => {
  const n = await h.openRequest("dave", {
    resource: "model-guardrail-override",
    role: "override",
    duration: "10m",
    severity: "critical",
    more: [`${COPY} override 30m`],
  });
  await h.say("grace", n, "/approve");
  await sb.settle();
  let token = "";
  for (const run of sb.runs.filter((r) => r.issue === n)) {
    const action = await run.result;
    assert.equal(action.exitCode, 0, `${action.stdout}\n${action.stderr}`);
    token ||= action.env.BREAKGLASS_TOKEN ?? "";
  }
  assert.ok(token, "the jwt resource's token went to its run");
  assert.equal((await sb.app.deps.introspect!(token)).active, true);
  let s = await h.stateOf(n);
  assert.equal(s.parts!["model-guardrail-override"]!.status, "active", JSON.stringify(s.parts));
  assert.equal(s.parts![COPY]!.status, "active");

  failuresLeft = 2;
  await sb.advance(11 * MIN);
  s = await h.stateOf(n);
  assert.equal(
    s.parts!["model-guardrail-override"]!.status,
    "revoke_failed",
    "expired on time, revocation failed",
  );
  assert.equal(s.parts![COPY]!.status, "active");
  assert.deepEqual(dueNow(n), [], "no timer re-armed at a time already past");
  // Its token, not revoked at the provider (the revocation failed), is inactive: its own grant ended,
  // though the request holds another live grant (A293).
  assert.equal((await sb.app.deps.introspect!(token)).active, false);
  assert.equal(revokeCalls, 1);
  // The retry is due after the base backoff, well before the other grant's expiry (20 minutes on).
  await sb.advance(61_000);
  assert.equal(revokeCalls, 2, "retried on its backoff");
  await sb.advance(5 * MIN);
  s = await h.stateOf(n);
  assert.equal(revokeCalls, 3);
  assert.equal(s.parts!["model-guardrail-override"]!.status, "expired", "the second retry revoked it");
  assert.equal(s.parts![COPY]!.status, "active", "the other is still live");
  assert.equal((await h.issueOf(n)).state, "open");
  assert.deepEqual(dueNow(n), []);
  // The other grant's expiry was not dropped while the retries held the timer.
  await sb.advance(14 * MIN);
  s = await h.stateOf(n);
  assert.equal(s.parts![COPY]!.status, "expired", "expired on time (30 minutes after the grant)");
  assert.equal(live.size, 0, "revoked at its provider");
  assert.equal((await h.issueOf(n)).state, "closed");
  assert.equal(revokeCalls, 3, "nothing revoked twice");
});
