/**
 * Attack catalogue, grant requests for issues that must not be granted: a genuine token of the
 * genuine grant workflow (only the issue is wrong), POSTed to the exchange route.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import {
  approve,
  assertNothingGranted,
  assertRefusedExchange,
  exchange,
  grantClaims,
  historyOf,
  openRequest,
  owner,
  repo,
  say,
  guardrail,
} from "./attack-kit.ts";

let sb: Sandbox;

before(async () => {
  sb = await startSandbox({ runWorkflows: false });
});
after(() => sb.close());

async function genuineExchange(issue: number, repository?: string) {
  return exchange(sb, await sb.issuer.mint(grantClaims(sb, {}, issue)), issue, repository);
}

test("A40 a grant for a denied request is refused", async () => {
  const n = await openRequest(sb, "dave", guardrail);
  await say(sb, "grace", n, "/deny roll the model back instead");
  assert.equal((await historyOf(sb, n)).state.status, "denied");
  const answer = await genuineExchange(n);
  assertRefusedExchange(answer, 409, "not_approved");
  assert.match(answer.body.message!, /is denied, not approved/);
  await assertNothingGranted(sb, n);
});

test("A41 a grant for a cancelled request is refused", async () => {
  const n = await openRequest(sb, "rita", guardrail);
  await say(sb, "rita", n, "/cancel fixed without it");
  assert.equal((await historyOf(sb, n)).state.status, "cancelled");
  const answer = await genuineExchange(n);
  assertRefusedExchange(answer, 409, "not_approved");
  assert.match(answer.body.message!, /cancelled/);
  await assertNothingGranted(sb, n);
});

test("A42 a grant for a request that timed out waiting for approval is refused", async () => {
  const n = await openRequest(sb, "erin", guardrail);
  await sb.advance(31 * 60 * 1000);
  // The app's own timer times it out; the scheduled sweep (run here as the sweep workflow would) is the backstop.
  const sweepRef = `${sb.repository}/.github/workflows/breakglass-sweep.yml@refs/heads/main`;
  const sweepToken = await sb.issuer.mint(
    grantClaims(sb, { job_workflow_ref: sweepRef, workflow_ref: sweepRef, event_name: "schedule" }),
  );
  const res = await fetch(`${sb.app.url}/breakglass/sweep`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token: sweepToken, repository: sb.repository }),
  });
  const report = (await res.json()) as { timed_out?: number[] };
  assert.equal(res.status, 200, JSON.stringify(report));
  assert.ok(Array.isArray(report.timed_out), JSON.stringify(report));
  await sb.settle();
  const status = (await historyOf(sb, n)).state.status;
  assert.equal(status, "timed_out", `status after the approval timeout: ${status}`);
  const answer = await genuineExchange(n);
  assertRefusedExchange(answer, 409, "request_expired");
  await assertNothingGranted(sb, n);
});

test("A43 a grant for a request still waiting for approval is refused", async () => {
  const n = await openRequest(sb, "ivan", guardrail);
  const answer = await genuineExchange(n);
  assertRefusedExchange(answer, 409, "not_approved");
  assert.match(answer.body.message!, /is requested, not approved/);
  await assertNothingGranted(sb, n);
});

test("A44 a grant for an invalid request is refused", async () => {
  const n = await openRequest(sb, "sam", { ...guardrail, role: "" });
  const answer = await genuineExchange(n);
  assertRefusedExchange(answer, 409, "not_approved");
  await assertNothingGranted(sb, n);
});

test("A45 a grant for an issue that is not a break-glass request is refused", async () => {
  const { data } = await sb.as("mallory").rest.issues.create({
    owner,
    repo,
    title: "[breakglass] drill drill",
    body: "### Resource\n\ndrill\n\n### Role\n\ndrill\n",
  });
  await sb.settle();
  const answer = await genuineExchange(data.number);
  assertRefusedExchange(answer, 404, "not_a_request");
  assert.match(answer.body.message!, /not a break-glass request/);
  await assertNothingGranted(sb, data.number);
});

test("A46 a grant for an issue that does not exist, or a malformed issue number, is refused", async () => {
  assertRefusedExchange(await genuineExchange(999_999), 404, "not_a_request");
  for (const issue of [0, -1, 1.5, "1; DROP TABLE", 2 ** 60]) {
    const answer = await exchange(sb, await sb.issuer.mint(grantClaims(sb)), issue as number);
    assertRefusedExchange(answer, 400, "bad_issue");
  }
});

test("A47 a grant for another repository (where the app is not installed) is refused", async () => {
  const n = await openRequest(sb, "bob", guardrail);
  await approve(sb, "heidi", n);
  assert.equal((await historyOf(sb, n)).state.status, "approved");
  const answer = await genuineExchange(n, "evil/ops");
  assertRefusedExchange(answer, 404, "not_installed");
  const traversal = await genuineExchange(n, "acme/../evil");
  assert.ok([400, 404].includes(traversal.status), JSON.stringify(traversal.body));
  assert.equal(traversal.body.secrets, undefined);
  await assertNothingGranted(sb, n);
});

test("A48 a grant for an approved request whose issue was closed is refused", async () => {
  const n = await openRequest(sb, "carol", guardrail);
  await approve(sb, "heidi", n);
  assert.equal((await historyOf(sb, n)).state.status, "approved");
  await sb.as("carol").rest.issues.update({ owner, repo, issue_number: n, state: "closed" });
  await sb.settle();
  const answer = await genuineExchange(n);
  assert.equal(answer.status, 409, JSON.stringify(answer.body));
  assert.ok(
    ["not_approved", "request_expired"].includes(answer.body.error ?? ""),
    JSON.stringify(answer.body),
  );
  assertRefusedExchange(answer, 409, answer.body.error!);
  await assertNothingGranted(sb, n);
});

test("A49 the drill workflow cannot fetch a grant for a real (non-drill) request", async () => {
  const n = await openRequest(sb, "heidi", { ...guardrail, duration: "10m" });
  await approve(sb, "grace", n);
  assert.equal((await historyOf(sb, n)).state.status, "approved");
  const drillRef = `${sb.repository}/.github/workflows/breakglass-drill.yml@refs/heads/main`;
  const token = await sb.issuer.mint(
    grantClaims(sb, { job_workflow_ref: drillRef, workflow_ref: drillRef, event_name: "schedule" }),
  );
  const answer = await exchange(sb, token, n);
  assertRefusedExchange(answer, 403, "wrong_workflow");
  assert.match(answer.body.message!, /drill requests/);
  await assertNothingGranted(sb, n);
});
