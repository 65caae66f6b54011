/**
 * Attack catalogue, forged state: text that imitates the app (status comments, hidden record
 * markers, "approved by" lines, even byte-exact copies of the app's real signed records from
 * another issue) written by someone other than the app must change nothing.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { requestFormBody } from "../../src/sandbox/request-body.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import {
  approve,
  appTexts,
  assertNothingGranted,
  guardrail,
  historyOf,
  openRequest,
  say,
} from "./attack-kit.ts";

let sb: Sandbox;
let credential = "";
let granted: number;
let realApproval = "";
let realGranted = "";

before(async () => {
  sb = await startSandbox({
    holdJob: async (env) => {
      credential = env.BREAKGLASS_TOKEN ?? credential;
    },
  });
  // One genuine grant, so the attacks below can copy the app's real, validly signed comments.
  granted = await openRequest(sb, "erin", guardrail);
  await approve(sb, "grace", granted);
  const run = sb.runs.find((r) => r.issue === granted);
  assert.ok(run, "the genuine request was dispatched");
  assert.equal((await run.result).exitCode, 0);
  await sb.settle();
  assert.equal((await historyOf(sb, granted)).state.status, "active");
  const texts = await appTexts(sb, granted);
  realApproval = texts.find((t) => t.startsWith("✅ @grace"))!;
  realGranted = texts.find((t) => t.includes("🔓 **Granted**"))!;
  assert.ok(
    realApproval && realGranted && credential,
    "the genuine grant left an approval comment, a grant comment and a credential",
  );
});
after(() => sb.close());

test("A16 a fake status comment, hidden record marker and 'approved by' text in the issue body change nothing", async () => {
  const record = /<!-- breakglass:record ([^ ]+) -->/.exec(realApproval)![1];
  const n = await openRequest(sb, "dave", {
    ...guardrail,
    justification: `Approved by @grace — 1 of 1 ✅ <!-- breakglass:status --> <!-- breakglass:record ${record} --> State: active`,
  });
  const h = await assertNothingGranted(sb, n);
  assert.equal(h.state.status, "requested");
  assert.equal(h.state.approvals.length, 0);
  for (const t of await appTexts(sb, n)) {
    assert.ok(
      !t.includes(`<!-- breakglass:record ${record}`),
      "the app never re-publishes a user's marker as a real one",
    );
    assert.ok(!t.includes("@grace —"), "the quoted 'approved by @grace' is not a live mention");
  }
});

test("A17 a user comment imitating the app's status comment changes nothing", async () => {
  const n = await openRequest(sb, "rita", guardrail);
  const status = (await appTexts(sb, granted)).find((t) => t.startsWith("<!-- breakglass:status"))!;
  await say(sb, "mallory", n, status.replaceAll(`#${granted}`, `#${n}`));
  await say(sb, "mallory", n, "✅ @grace (via @acme/ai-governance) approved request — 1 of 1.");
  const h = await assertNothingGranted(sb, n);
  assert.equal(h.state.status, "requested");
  assert.equal(h.state.approvals.length, 0);
  assert.ok(h.problems.length === 0, "user comments are not even considered as records");
});

test("A18 byte-exact copies of the app's real approval and grant comments (valid signatures) posted by a user change nothing", async () => {
  const n = await openRequest(sb, "ivan", guardrail);
  await say(sb, "mallory", n, realApproval);
  await say(sb, "mallory", n, realGranted);
  const h = await assertNothingGranted(sb, n);
  assert.equal(h.state.status, "requested");
  assert.equal(h.state.approvals.length, 0);
});

test("A19 a real record copied into the issue body by the requester changes nothing", async () => {
  const n = await openRequest(sb, "sam", guardrail);
  const body = `${requestFormBody(guardrail)}\n${realApproval}\n${realGranted}`;
  await sb.as("sam").rest.issues.update({ owner: "acme", repo: "ops", issue_number: n, body });
  await sb.settle();
  const h = await assertNothingGranted(sb, n);
  assert.notEqual(h.state.status, "approved");
  assert.equal(h.state.approvals.length, 0);
});

test("A60 the credential never appears in any comment, the issue, a notification or the Action's plain output", async () => {
  assert.ok(credential.length > 20);
  const texts = (await appTexts(sb, granted)).join("\n");
  assert.ok(!texts.includes(credential), "no app comment carries the credential");
  const { data: issue } = await sb
    .as("dave")
    .rest.issues.get({ owner: "acme", repo: "ops", issue_number: granted });
  assert.ok(!(issue.body ?? "").includes(credential));
  assert.ok(!JSON.stringify(sb.notifier.sent).includes(credential), "no notification carries the credential");
  const run = await sb.runs.find((r) => r.issue === granted)!.result;
  assert.ok(run.masked.includes(credential), "the Action masks the credential");
  const printed = `${run.stdout}\n${run.stderr}`.split("\n").filter((l) => !l.startsWith("::add-mask::"));
  assert.ok(
    !printed.some((l) => l.includes(credential)),
    "the credential is printed only inside ::add-mask::",
  );
  // A refused exchange never echoes the token it was sent.
  const res = await fetch(`${sb.app.url}/breakglass/exchange`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token: credential, issue: granted }),
  });
  const answer = await res.text();
  assert.equal(res.status, 401);
  assert.ok(!answer.includes(credential), "the error does not echo the token");
});
