import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readHistory } from "../../src/github/issue-records.ts";
import { requestFormBody } from "../../src/sandbox/request-body.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";

// Fault injection through the emulator's hooks. After each scenario the invariants must hold: the
// audit chain is complete and verifies, no issue is closed while its credential lives, and every
// ended grant has exactly one review issue.

let sb: Sandbox;
const owner = "acme";
const repo = "ops";
const MIN = 60_000;

before(async () => {
  sb = await startSandbox();
});
after(async () => sb.close());

async function open(author = "dave"): Promise<number> {
  const { data } = await sb.as(author).rest.issues.create({
    owner,
    repo,
    title: "[breakglass] model-guardrail-override override",
    labels: ["breakglass"],
    body: requestFormBody({
      resource: "model-guardrail-override",
      role: "override",
      duration: "30m",
      severity: "critical",
    }),
  });
  await sb.settle();
  return data.number;
}

async function history(issue: number) {
  const port = await sb.app.portFor(owner, repo);
  return readHistory(port!, issue, sb.app.deps.identity, sb.app.deps.jwks);
}

async function assertInvariants(issue: number): Promise<void> {
  const h = await history(issue);
  assert.deepEqual(h.problems, [], "the chain is complete and verifies");
  const { data } = await sb.as("sam").rest.issues.get({ owner, repo, issue_number: issue });
  if (data.state === "closed" && h.state.grant)
    assert.ok(h.state.grant.ended, "no issue closed with a live credential");
  const reviews = (
    await sb.as("sam").paginate(sb.as("sam").rest.issues.listForRepo, {
      owner,
      repo,
      labels: "breakglass:audit",
      state: "all",
      per_page: 100,
    })
  ).filter((i) => i.title.includes(`Review #${issue} `));
  assert.equal(reviews.length, h.state.grant?.ended ? 1 : 0, "exactly one review per ended grant");
}

test("a 502 from GitHub in the middle of handling an approval is retried by Octokit: one approval, one grant", async () => {
  const issue = await open();
  // Only the app writes the ledger, so the fault hits the app's request: the approval's ledger write, before the dispatch.
  const fault = sb.emulator.faults.add({
    method: "PUT",
    route: "/repos/{owner}/{repo}/contents/{path}",
    status: 502,
    times: 1,
  });
  await sb.approveSigned("grace", issue);
  assert.equal(fault.hits, 1);
  const h = await history(issue);
  assert.equal(h.state.status, "active");
  assert.equal(h.events.filter((e) => e.type === "approved").length, 1);
  assert.equal(h.events.filter((e) => e.type === "granted").length, 1);
  await assertInvariants(issue);
});

test("dropped webhooks lose nothing once redelivered", async () => {
  sb.emulator.faults.dropWebhooks((w) => w.event === "issue_comment");
  // One requester per test: the policy allows one live grant per person.
  const issue = await open("mallory");
  await sb.approveSigned("grace", issue);
  assert.equal((await history(issue)).state.status, "requested", "the approval was not seen yet");
  sb.emulator.faults.clear();
  const dropped = sb.emulator.deliveries.filter(
    (d) => d.event === "issue_comment" && d.action === "created" && d.status === null,
  );
  assert.ok(dropped.length > 0, "the emulator recorded the dropped delivery");
  for (const d of dropped) await sb.emulator.redeliver(d.guid);
  await sb.settle();
  assert.equal((await history(issue)).state.status, "active");
  await assertInvariants(issue);
});

test("duplicated deliveries of an approval record once", async () => {
  const issue = await open("rita");
  sb.emulator.faults.duplicateWebhooks(3);
  await sb.approveSigned("grace", issue);
  sb.emulator.faults.clear();
  const h = await history(issue);
  assert.equal(h.events.filter((e) => e.type === "approved").length, 1);
  assert.equal(h.events.filter((e) => e.type === "granted").length, 1);
  await assertInvariants(issue);
});

test("a clock jump of a day revokes every overdue grant once, closes each, one review each", async () => {
  const a = await open("erin");
  await sb.approveSigned("grace", a);
  const b = await open("olga");
  await sb.approveSigned("heidi", b);
  await sb.advance(24 * 60 * MIN);
  await sb.app.reconcileAll();
  await sb.settle();
  for (const issue of [a, b]) {
    const h = await history(issue);
    assert.equal(h.state.status, "expired", JSON.stringify(h.state.grant));
    assert.equal(h.events.filter((e) => e.type === "revoked").length, 1);
    await assertInvariants(issue);
  }
});

test("a pending request is escalated at half its approval timeout and times out at the end, by the app's own timers", async () => {
  const issue = await open("ivan");
  await sb.advance(16 * MIN); // model-guardrail-override: timeout 30m
  let h = await history(issue);
  assert.equal(h.state.status, "requested");
  assert.ok(h.state.escalated, "escalated at half the timeout");
  assert.ok(
    sb.notifier.sent.some((s) => s.notification.event === "escalated" && s.notification.issue === issue) ||
      h.events.some((e) => e.type === "escalated"),
  );
  await sb.advance(15 * MIN);
  h = await history(issue);
  assert.equal(h.state.status, "timed_out");
  const { data } = await sb.as("sam").rest.issues.get({ owner, repo, issue_number: issue });
  assert.equal(data.state, "closed");
  assert.equal(data.state_reason, "not_planned");
});
