/**
 * A grant run an approver started by hand has no record until an exchange accepts it (trusted-run.ts),
 * so two replicas that receive its exchange at the same moment both check it with GitHub and both try
 * to record it. The ledger decides: exactly one grant, one acceptance record, the other refused.
 * Both exchanges are the real Action's, each sent to its own replica through a load balancer.
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { readHistory } from "../../src/github/issue-records.ts";
import type { RunningServer } from "../../src/app/server.ts";
import {
  SANDBOX_OWNER as owner,
  SANDBOX_REPO as repo,
  startSandbox,
  type Sandbox,
} from "../../src/sandbox/start-sandbox.ts";
import { startLoadBalancer, type Answer } from "../support/load-balancer.ts";
import { ledgerConflicts, sandboxHelpers, slowLedgerWrites } from "../support/sandbox-helpers.ts";

let sb: Sandbox;
let b: RunningServer;
let lb: Awaited<ReturnType<typeof startLoadBalancer>>;
let turn = 0;
const answers: Answer[] = [];
const { approve, openRequest } = sandboxHelpers(() => sb);
before(async () => {
  sb = await startSandbox({ runWorkflows: false });
  b = await sb.startReplica();
  // Webhooks to the main replica; the Action's calls alternate between the two.
  lb = await startLoadBalancer(
    sb,
    (webhook) => (webhook ? [sb.app.url] : [[sb.app.url, b.url][turn++ % 2]!]),
    (a) => answers.push(a),
  );
});
after(async () => {
  await lb.close();
  await sb.close();
});

it("A175: two replicas accept the same hand-started run at once: one acceptance record, exactly one grant", async () => {
  const n = await openRequest("erin", {
    resource: "model-guardrail-override",
    role: "override",
    duration: "30m",
    severity: "critical",
  });
  await approve("grace", n);
  // The app's own run never got a runner; it is cancelled, and an approver starts one by hand.
  const appRun = [...sb.emulator.state.repository.runs.values()].find(
    (r) => r.inputs.issue === String(n) && r.actor.login === sb.appLogin,
  )!;
  sb.emulator.completeRun(appRun.id, "cancelled");
  await sb.as("heidi").rest.actions.createWorkflowDispatch({
    owner,
    repo,
    workflow_id: "breakglass-grant.yml",
    ref: "main",
    inputs: { issue: String(n) },
  });
  const byHand = [...sb.emulator.state.repository.runs.values()].find(
    (r) => r.inputs.issue === String(n) && r.actor.login === "heidi",
  )!;
  assert.equal(byHand.status, "in_progress");
  // Slow ledger writes, so both replicas have checked the run with GitHub before either records it.
  const slow = slowLedgerWrites(sb, 300, 2);
  const before = answers.length;
  sb.emulator.resetApiRequestLog();
  const jobs = await Promise.all([sb.runJob(byHand.id), sb.runJob(byHand.id)]);
  slow.remove();
  await sb.settle();
  const exchanges = answers.slice(before).filter((a) => !a.webhook);
  assert.deepEqual(
    new Set(exchanges.slice(0, 2).map((a) => a.target)),
    new Set([sb.app.url, b.url]),
    "one exchange reached each replica",
  );
  assert.equal(
    jobs.filter((j) => j.exitCode === 0).length,
    1,
    jobs.map((j) => j.stdout + j.stderr).join("\n----\n"),
  );
  const h = await readHistory(
    (await sb.app.portFor(owner, repo))!,
    n,
    sb.app.deps.identity,
    sb.app.deps.jwks,
  );
  assert.deepEqual(h.problems, []);
  assert.equal(h.events.filter((e) => e.type === "granted").length, 1, "exactly one grant");
  assert.equal(
    h.events.filter((e) => e.type === "dispatched" && e.run_id === String(byHand.id)).length,
    1,
    "the hand-started run is accepted once",
  );
  assert.equal(h.state.grant?.run_id, `${byHand.id}/1`);
  // Both replicas got as far as writing (the race really happened): GitHub refused one ledger write.
  assert.ok(ledgerConflicts(sb) > 0, "one replica's ledger write lost");
  const refusedJob = jobs.find((j) => j.exitCode !== 0)!;
  assert.match(
    refusedJob.stdout + refusedJob.stderr,
    /token_replayed|already_granted|already granted|each run gets one grant/,
  );
});
