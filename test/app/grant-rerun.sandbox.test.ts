/**
 * GitHub's "Re-run jobs" on the grant workflow, by people with write access: the same run id gets its
 * next attempt on the same commit and ref, with the same `actor` (GitHub runs it with the first
 * starter's privileges) and OIDC claims that differ only in `run_attempt`; who asked for it is the
 * run's `triggering_actor`. The rule: a request is granted once, whatever attempt asks; and an attempt
 * counts only if whoever re-ran it may start a grant run for the request at all (the app, or an
 * approver who is not the requester), so a re-run is never a way around who may start one.
 * Every attempt below runs the real Action against the real app, as the emulator's runner does.
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { readHistory } from "../../src/github/issue-records.ts";
import type { WorkflowRun } from "../../src/sandbox/github/state.ts";
import {
  SANDBOX_OWNER as owner,
  SANDBOX_REPO as repo,
  startSandbox,
  type Sandbox,
} from "../../src/sandbox/start-sandbox.ts";
import { sandboxHelpers } from "../support/sandbox-helpers.ts";

let sb: Sandbox;
const { approve, openRequest } = sandboxHelpers(() => sb);
before(async () => {
  sb = await startSandbox();
});
after(() => sb.close());

const history = async (n: number) =>
  readHistory((await sb.app.portFor(owner, repo))!, n, sb.app.deps.identity, sb.app.deps.jwks);
function appRun(n: number): WorkflowRun {
  const run = [...sb.emulator.state.repository.runs.values()].find(
    (r) =>
      r.path.endsWith("/breakglass-grant.yml") &&
      r.inputs.issue === String(n) &&
      r.actor.login === sb.appLogin,
  );
  assert.ok(run, `the app dispatched a grant run for #${n}`);
  return run;
}
/** `who` presses "Re-run all jobs"; resolves with what the Action printed for that attempt. */
async function rerun(who: string, run: WorkflowRun) {
  const before = sb.runs.length;
  const { status } = await sb
    .as(who)
    .request("POST /repos/{owner}/{repo}/actions/runs/{run_id}/rerun", { owner, repo, run_id: run.id });
  assert.equal(status, 201);
  await sb.settle();
  assert.equal(sb.runs.length, before + 1, "the attempt's job ran");
  const done = await sb.runs.at(-1)!.result;
  await sb.settle();
  return done;
}

it("A172: a writer re-runs the app's grant run after it collected: attempt 2 (same claims but run_attempt) gets nothing, the request stays granted once", async () => {
  const n = await openRequest("erin", {
    resource: "model-guardrail-override",
    role: "override",
    duration: "30m",
    severity: "critical",
  });
  await approve("grace", n);
  const first = await sb.runs.at(-1)!.result;
  assert.equal(first.exitCode, 0, first.stdout);
  const run = appRun(n);
  assert.equal(run.status, "completed");
  const attempt2 = await rerun("mallory", run);
  assert.equal(run.run_attempt, 2);
  assert.equal(run.triggering_actor.login, "mallory");
  assert.equal(run.actor.login, sb.appLogin, "GitHub keeps the first starter as the actor");
  assert.notEqual(attempt2.exitCode, 0, "the re-run got no credentials");
  assert.match(attempt2.stdout + attempt2.stderr, /already_granted|already granted/);
  const approverRerun = await rerun("grace", run);
  assert.notEqual(approverRerun.exitCode, 0, "not even an approver's re-run collects twice");
  const h = await history(n);
  assert.deepEqual(h.problems, []);
  assert.equal(h.events.filter((e) => e.type === "granted").length, 1);
  assert.equal(h.state.grant?.run_id, `${run.id}/1`);
});

it("A173: the first attempt never collected: a re-run by a writer who is no approver, or by the requester, is refused and recorded; an approver's re-run collects, once", async () => {
  // The first attempt cannot reach the app (a runner without network): it fails before exchanging.
  sb.routeActionsTo("http://127.0.0.1:9");
  const n = await openRequest("ivan", {
    resource: "model-guardrail-override",
    role: "override",
    duration: "30m",
    severity: "critical",
  });
  await approve("grace", n);
  const first = await sb.runs.at(-1)!.result;
  await sb.settle();
  sb.routeActionsTo(sb.app.url);
  assert.notEqual(first.exitCode, 0);
  const run = appRun(n);
  assert.equal(run.conclusion, "failure");
  assert.equal((await history(n)).state.status, "approved", "nothing was granted");

  for (const who of ["mallory", "ivan"]) {
    const attempt = await rerun(who, run);
    assert.notEqual(attempt.exitCode, 0, `${who}'s re-run got no credentials`);
    assert.equal(run.triggering_actor.login, who);
  }
  let h = await history(n);
  assert.equal(h.state.status, "approved");
  const refused = h.events.filter((e) => e.type === "exchange_refused");
  assert.deepEqual(
    refused.map((e) => e.type === "exchange_refused" && [e.run_id, e.code]),
    [
      [`${run.id}/2`, "unknown_run"],
      [`${run.id}/3`, "unknown_run"],
    ],
    "each refused attempt is recorded with its reason",
  );
  assert.ok(refused.every((e) => e.type === "exchange_refused" && /re-run/.test(e.message)));

  const byApprover = await rerun("heidi", run);
  assert.equal(byApprover.exitCode, 0, byApprover.stdout + byApprover.stderr);
  h = await history(n);
  assert.equal(h.state.status, "active");
  assert.equal(h.state.grant?.run_id, `${run.id}/4`);

  const again = await rerun("heidi", run);
  assert.notEqual(again.exitCode, 0, "a second collection by a later attempt is refused");
  h = await history(n);
  assert.deepEqual(h.problems, []);
  assert.equal(h.events.filter((e) => e.type === "granted").length, 1, "granted once");
});

it("A174: a token of an earlier attempt, replayed once the run was re-run, is refused: only the run's current attempt counts", async () => {
  sb.routeActionsTo("http://127.0.0.1:9");
  const n = await openRequest("dave", {
    resource: "model-guardrail-override",
    role: "override",
    duration: "30m",
    severity: "critical",
  });
  await approve("grace", n);
  await sb.runs.at(-1)!.result;
  await sb.settle();
  const run = appRun(n);
  await rerun("grace", run); // attempt 2 cannot reach the app either
  sb.routeActionsTo(sb.app.url);
  assert.equal(run.run_attempt, 2);
  // Attempt 1's job, its claims exactly as GitHub gave them (run_attempt 1), asks now.
  const stale = await sb.runGrantWorkflow(n, { run_id: String(run.id), run_attempt: "1" });
  await sb.settle();
  assert.notEqual(stale.exitCode, 0);
  const h = await history(n);
  assert.equal(h.state.status, "approved");
  const refusal = h.events.find((e) => e.type === "exchange_refused");
  assert.ok(
    refusal &&
      refusal.type === "exchange_refused" &&
      refusal.code === "unknown_run" &&
      /attempt 1 .* at attempt 2/.test(refusal.message),
    JSON.stringify(refusal),
  );
});
