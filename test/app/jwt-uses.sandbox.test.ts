/**
 * Uses of a JWT grant as relying services report them through POST /breakglass/introspect: kept in
 * the ledger, counted on the status comment and the dashboard while the grant is live, announced once
 * ("first use"), shown on the review issue after revocation, and a revoked token presented again is
 * recorded as a refused use. Real app, real Action run, real HTTP.
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { collectAudit } from "../../src/audit/collect.ts";
import { formatCsv } from "../../src/audit/format-csv.ts";
import { STATUS_MARKER } from "../../src/core/render-status.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import { sandboxHelpers, withoutStepUp } from "../support/sandbox-helpers.ts";

let sb: Sandbox;
const { openRequest, say, stateOf, appTexts, issueOf } = sandboxHelpers(() => sb);
before(async () => {
  sb = await startSandbox();
  withoutStepUp(sb); // this suite is about jwt uses, not step-up
});
after(() => sb.close());

async function introspectAs(service: string, token: string, scopes: string[]) {
  const res = await fetch(`${sb.app.url}/breakglass/introspect`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token, service, scopes }),
  });
  assert.equal(res.status, 200);
  return (await res.json()) as { active: boolean };
}
const statusComment = async (n: number) => (await appTexts(n)).find((b) => b.startsWith(STATUS_MARKER)) ?? "";

it("introspections are counted on the status comment and the dashboard while live, reviewed after, and a revoked token's use is recorded as refused", async () => {
  const n = await openRequest("erin", {
    resource: "model-guardrail-override",
    role: "override",
    duration: "30m",
    severity: "critical",
  });
  await say("grace", n, "/approve");
  const action = await sb.runs.find((r) => r.issue === n)!.result;
  assert.equal(action.exitCode, 0, action.stderr);
  const token = action.env.BREAKGLASS_TOKEN ?? "";
  assert.match(await statusComment(n), /\| Uses \| no use recorded \|/);
  const notifiedBefore = sb.notifier.sent.filter((s) => s.notification.event === "first_use").length;

  assert.equal((await introspectAs("guardrail-api", token, ["override"])).active, true);
  assert.equal((await introspectAs("guardrail-api", token, ["override", "audit"])).active, true);
  assert.match(await statusComment(n), /\| Uses \| 2 uses \(2 introspections\), last /);
  const firstUse = sb.notifier.sent.filter((s) => s.notification.event === "first_use");
  assert.equal(firstUse.length - notifiedBefore, 1, "one first-use notification, not one a use");
  assert.match(firstUse.at(-1)!.notification.summary, /first use of .* by guardrail-api/);

  const dashboard = await (await fetch(`${sb.app.url}/breakglass`)).text();
  const row = dashboard.split("<tr>").find((r) => r.includes(`#${n}<`) || r.includes(`/issues/${n}"`)) ?? "";
  assert.match(row, /<span class="uses">2<\/span>/, "the dashboard's active row counts the uses");

  const kept = await sb.app.portFor("acme", "ops").then((p) => p!.ledger.uses(n));
  assert.deepEqual(
    kept.map((u) => [u.kind, u.source, u.scopes, u.result]),
    [
      ["introspection", "guardrail-api", ["override"], "active"],
      ["introspection", "guardrail-api", ["override", "audit"], "active"],
    ],
  );
  assert.ok(!JSON.stringify(kept).includes(token), "the token itself is never kept");

  await say("grace", n, "/revoke incident over");
  const state = await stateOf(n);
  assert.equal(state.status, "revoked");
  const review = await issueOf(state.review_issue!);
  const body = review.body ?? "";
  assert.ok(
    body.indexOf("### Activity during the grant") > body.indexOf("- [ ]"),
    "the activity sits after the checklist",
  );
  assert.match(body, /\*\*2 uses \(2 introspections\)\*\*, first .*, last /);
  assert.match(body, /\| 2 \| `introspect by guardrail-api` \|/);
  assert.match(body, /without introspection, is not seen/);

  assert.equal((await introspectAs("guardrail-api", token, ["override"])).active, false);
  assert.match(await statusComment(n), /\| Uses \| 3 uses \(3 introspections, 1 refused\)/);
  const last = (await sb.app.portFor("acme", "ops").then((p) => p!.ledger.uses(n))).at(-1)!;
  assert.equal(last.result, "inactive: revoked");

  // The audit export carries the full list (JSON) and the count (CSV).
  const exported = await collectAudit((await sb.app.portFor("acme", "ops"))!, {
    appLogin: sb.appLogin,
    jwks: sb.app.deps.jwks,
  });
  const exportedRow = exported.rows.find((r) => r.issue === n)!;
  assert.deepEqual(
    exportedRow.uses.map((u) => u.result),
    ["active", "active", "inactive: revoked"],
  );
  // Counted from the end, so commas quoted in the free-text columns before it do not shift it.
  const [csvHeader, csvRow] = formatCsv(exported)
    .split("\r\n")
    .map((line) => line.split(","));
  const fromEnd = csvHeader!.indexOf("uses") - csvHeader!.length;
  assert.equal(csvRow!.at(fromEnd), "3", "the CSV's uses column counts them");
});

it("a forged token naming a request is not recorded as its use (only the app's signature counts)", async () => {
  const n = await openRequest("erin", {
    resource: "model-guardrail-override",
    role: "override",
    duration: "30m",
    severity: "critical",
  });
  await say("grace", n, "/approve");
  assert.equal((await sb.runs.find((r) => r.issue === n)!.result).exitCode, 0);
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const forged = `${b64({ alg: "ES256", typ: "JWT" })}.${b64({ bg_repo: "acme/ops", bg_issue: n, jti: (await stateOf(n)).grant!.credential_id })}.${b64({ sig: 1 })}`;
  assert.equal((await introspectAs("guardrail-api", forged, [])).active, false);
  assert.deepEqual(await sb.app.portFor("acme", "ops").then((p) => p!.ledger.uses(n)), []);
  assert.match(await statusComment(n), /\| Uses \| no use recorded \|/);
});
