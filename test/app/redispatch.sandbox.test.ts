/**
 * An approved request whose grant workflow run never comes (lost dispatch, no runner, a cancelled
 * run) is dispatched again by the app's timers / the sweep, a bounded number of times, each recorded.
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { MAX_REDISPATCHES, REDISPATCH_AFTER_MS } from "../../src/app/grant/dispatch-grant.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import { sandboxHelpers } from "../support/sandbox-helpers.ts";

let sb: Sandbox;
const { approve, openRequest, appTexts, stateOf } = sandboxHelpers(() => sb);
before(async () => {
  sb = await startSandbox({ runWorkflows: false }); // runs are dispatched but no runner picks them up
});
after(() => sb.close());

const dispatches = (n: number) =>
  [...sb.emulator.state.workflowRuns.values()].filter(
    (r) => r.path.endsWith("breakglass-grant.yml") && r.inputs.issue === String(n),
  ).length;

it("no run after 10 minutes: dispatched again, recorded; a run that then comes is granted once", async () => {
  const n = await openRequest("erin", {
    resource: "model-guardrail-override",
    role: "override",
    duration: "30m",
    severity: "critical",
  });
  await approve("grace", n);
  assert.equal(dispatches(n), 1);
  await sb.advance(REDISPATCH_AFTER_MS - 60_000);
  assert.equal(dispatches(n), 1, "not before ten minutes");
  await sb.advance(60_000);
  assert.equal(dispatches(n), 2, "dispatched again by the app's own timer");
  assert.equal((await stateOf(n)).dispatch_retries, 1);
  assert.ok((await appTexts(n)).some((t) => t.startsWith("🔁") && t.includes("attempt 2")));
  const run = await sb.runGrantWorkflow(n);
  assert.equal(run.exitCode, 0, run.stderr);
  assert.equal((await stateOf(n)).status, "active");
  const late = await sb.runGrantWorkflow(n);
  assert.notEqual(late.exitCode, 0, "the first dispatch's run, arriving late, gets nothing: granted once");
  await sb.advance(REDISPATCH_AFTER_MS * 2);
  assert.equal(dispatches(n), 2, "an active grant is never re-dispatched");
});

it("gives up after the last automatic attempt and says how to run it by hand", async () => {
  const n = await openRequest("ivan", {
    resource: "model-guardrail-override",
    role: "override",
    duration: "30m",
    severity: "critical",
  });
  await approve("grace", n);
  for (let i = 0; i < MAX_REDISPATCHES + 2; i++) await sb.advance(REDISPATCH_AFTER_MS);
  assert.equal(dispatches(n), 1 + MAX_REDISPATCHES);
  const s = await stateOf(n);
  assert.equal(s.status, "approved");
  assert.equal(s.dispatch_retries, MAX_REDISPATCHES);
  assert.ok(
    (await appTexts(n)).some((t) => t.includes("last automatic attempt") && t.includes(`\`issue: ${n}\``)),
  );
});

it("the sweep re-dispatches too, when the app's timers were lost", async () => {
  const n = await openRequest("olga", {
    resource: "model-guardrail-override",
    role: "override",
    duration: "30m",
    severity: "critical",
  });
  await approve("grace", n);
  sb.app.scheduler.stop();
  sb.clock.advance(REDISPATCH_AFTER_MS + 1000);
  const reports = await sb.app.reconcileAll();
  await sb.settle();
  assert.ok(
    reports.some((r) => r.redispatched.includes(n)),
    JSON.stringify(reports),
  );
  assert.equal(dispatches(n), 2);
});
