/**
 * Introspection of the app's JWTs must not depend on the memory of the process that revoked them:
 * a restarted app, or a second replica, reads the grant's records. Real app, real HTTP route.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { decodeJwt } from "jose";
import { after, before, it } from "node:test";
import { introspectFromRecords } from "../../src/app/grant/introspect-from-records.ts";
import { introspect, memoryRevocationStore } from "../../src/providers/jwt.ts";
import { SANDBOX_JWT_ISSUER, startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import { sandboxHelpers } from "../support/sandbox-helpers.ts";

let sb: Sandbox;
const { approve, openRequest, say, stateOf } = sandboxHelpers(() => sb);
/** A guardrail override without step-up, for a second and third resource of one request. */
const copy = (what: string) =>
  readFileSync("policies/model-guardrail-override.yml", "utf8")
    .replace(/^description: .*$/m, `description: Override of the ${what} model guardrail`)
    .replace(/^[ \t]*step_up:.*\n/m, "");
before(async () => {
  sb = await startSandbox({
    files: {
      "policies/model-guardrail-staging.yml": copy("staging"),
      "policies/model-guardrail-canary.yml": copy("canary"),
    },
  });
});
after(() => sb.close());

/** What a freshly started replica answers: same keys and GitHub, an empty revocation list. */
function freshReplica() {
  const base = (token: string) =>
    introspect(token, {
      jwks: sb.app.deps.jwks,
      issuer: SANDBOX_JWT_ISSUER,
      revocations: memoryRevocationStore(sb.app.deps.now),
      now: sb.app.deps.now(),
    });
  return { base, withRecords: introspectFromRecords(sb.app.deps, sb.app.portFor, base) };
}
async function overHttp(token: string): Promise<{ active: boolean; reason?: string }> {
  const res = await fetch(`${sb.app.url}/breakglass/introspect`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token }),
  });
  assert.equal(res.status, 200);
  return (await res.json()) as { active: boolean; reason?: string };
}
async function grantedToken(who: string): Promise<{ n: number; token: string }> {
  const n = await openRequest(who, {
    resource: "model-guardrail-override",
    role: "override",
    duration: "30m",
    severity: "critical",
  });
  await approve("grace", n);
  const action = await sb.runs.find((r) => r.issue === n)!.result;
  assert.equal(action.exitCode, 0, action.stderr);
  return { n, token: action.env.BREAKGLASS_TOKEN ?? "" };
}

it("a live grant's token is active on the app and on a fresh replica", async () => {
  const { token } = await grantedToken("erin");
  assert.equal((await overHttp(token)).active, true);
  assert.equal((await freshReplica().withRecords(token)).active, true);
});

it("after /revoke, a fresh replica with an empty revocation list still answers revoked (from the records)", async () => {
  const { n, token } = await grantedToken("ivan");
  await say("grace", n, "/revoke incident over");
  assert.equal((await stateOf(n)).status, "revoked");
  assert.deepEqual(await overHttp(token), { active: false }, "RFC 7662: an inactive token gets no details");
  const replica = freshReplica();
  assert.equal(
    (await replica.base(token)).active,
    true,
    "the signature and exp alone still look valid: memory was what knew",
  );
  assert.deepEqual(await replica.withRecords(token), { active: false, reason: "revoked" });
});

it("revoking one grant leaves another live token active on a fresh replica, and only that one", async () => {
  const a = await grantedToken("heidi");
  const b = await grantedToken("olga");
  await say("grace", a.n, "/revoke done");
  // b's token is still live; a's token is revoked even though b's grant (a different credential) is active.
  assert.equal((await freshReplica().withRecords(b.token)).active, true);
  assert.equal((await freshReplica().withRecords(a.token)).active, false);
});

it("on a request naming several resources, each token is judged by its own resource's grant", async () => {
  const n = await openRequest("uma", {
    resource: "model-guardrail-staging",
    role: "override",
    duration: "10m",
    severity: "critical",
    more: ["model-guardrail-canary override 30m"],
  });
  await say("grace", n, "/approve");
  const granted = await stateOf(n);
  const tokens: Record<string, string> = {};
  for (const run of sb.runs.filter((r) => r.issue === n)) {
    const action = await run.result;
    assert.equal(action.exitCode, 0, action.stderr);
    const token = action.env.BREAKGLASS_TOKEN ?? "";
    const part = Object.entries(granted.parts ?? {}).find(
      ([, p]) => p.grant?.credential_id === decodeJwt(token).jti,
    );
    assert.ok(part, "each run's token is the credential of one resource's grant");
    tokens[part[0]] = token;
  }
  const staging = tokens["model-guardrail-staging"]!;
  const canary = tokens["model-guardrail-canary"]!;
  assert.ok(staging && canary && staging !== canary, "one token per resource");
  assert.equal((await freshReplica().withRecords(staging)).active, true);
  assert.equal((await freshReplica().withRecords(canary)).active, true);
  // The staging grant expires on time (and is revoked), though the canary's, granted later for longer, goes on.
  await sb.advance(11 * 60_000);
  const s = await stateOf(n);
  assert.equal(s.parts!["model-guardrail-staging"]!.status, "expired");
  assert.equal(s.parts!["model-guardrail-canary"]!.status, "active");
  assert.equal((await freshReplica().withRecords(staging)).active, false);
  assert.equal((await freshReplica().withRecords(canary)).active, true);
  // Each introspection is a use of that resource's credential, recorded with it.
  const uses = await sb.app.portFor("acme", "ops").then((p) => p!.ledger.uses(n));
  const jti = (t: string) => decodeJwt(t).jti;
  assert.equal(uses.filter((u) => u.credential_id === jti(canary) && u.kind === "introspection").length, 2);
  assert.equal(uses.filter((u) => u.credential_id === jti(staging) && u.kind === "introspection").length, 2);
  await say("grace", n, "/revoke done");
});
