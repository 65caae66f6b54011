/**
 * The custom deployment protection rule: a `breakglass-*` environment's waiting job is approved by
 * the app only for a run of the grant workflow whose title names an approved request. Real webhook
 * (`deployment_protection_rule.requested`, which names the run only in its callback URL), real review
 * call to the emulator.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SANDBOX_OWNER as owner, SANDBOX_REPO as repo, startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import type { WorkflowRun } from "../../src/sandbox/github/emulator.ts";
import { sandboxHelpers } from "../support/sandbox-helpers.ts";

let sb: Sandbox;
const { openRequest, say } = sandboxHelpers(() => sb);
const ENV = "breakglass-model-rollback";

before(async () => {
  sb = await startSandbox({ runWorkflows: false });
});
after(async () => sb.close());

function runsOf(workflow: string, issue?: number): WorkflowRun[] {
  return [...sb.emulator.state.workflowRuns.values()].filter((r) => r.path.endsWith(workflow) && (issue === undefined || r.inputs.issue === String(issue)));
}
async function gate(run: WorkflowRun): Promise<{ state: string | null; comment: string | null; by: string }> {
  const before = run.protectionReviews.length;
  sb.emulator.requestDeploymentProtection(run.id, ENV);
  await sb.settle();
  assert.equal(run.protectionReviews.length, before + 1, "the app answered the protection rule exactly once");
  return run.protectionReviews.at(-1)!;
}
async function dispatchByHand(who: string, workflow: string, issue?: number): Promise<WorkflowRun> {
  const inputs = issue === undefined ? {} : { issue: String(issue) };
  await sb.as(who).rest.actions.createWorkflowDispatch({ owner, repo, workflow_id: workflow, ref: "main", inputs });
  await sb.settle();
  return runsOf(workflow, issue).at(-1)!;
}

describe("deployment protection rule", () => {
  it("approves the grant run the app dispatched for an approved request", async () => {
    const n = await openRequest("dave", { resource: "model-rollback", role: "rollback", duration: "30m" });
    await say("grace", n, "/approve");
    const run = runsOf("breakglass-grant.yml", n).at(-1);
    assert.ok(run, "the app dispatched the grant workflow");
    const review = await gate(run);
    assert.equal(review.state, "approved");
    assert.equal(review.by, sb.appLogin);
    assert.match(review.comment ?? "", new RegExp(`#${n} is approved`));
    assert.equal(run.status, "in_progress", "the waiting job was let through");
  });

  it("rejects a grant run started by hand for a request nobody approved", async () => {
    const n = await openRequest("dave", { resource: "model-rollback", role: "rollback", duration: "30m" });
    const run = await dispatchByHand("bob", "breakglass-grant.yml", n);
    const review = await gate(run);
    assert.equal(review.state, "rejected");
    assert.match(review.comment ?? "", /is requested, not approved/);
    assert.equal(run.conclusion, "failure", "the job never ran");
  });

  it("rejects another workflow that tries to use a breakglass environment while a request is approved", async () => {
    const n = await openRequest("dave", { resource: "model-rollback", role: "rollback", duration: "30m" });
    await say("grace", n, "/approve");
    assert.equal(runsOf("breakglass-grant.yml", n).length, 1, "the request is approved and its grant run dispatched");
    const run = await dispatchByHand("bob", "breakglass-sweep.yml");
    const review = await gate(run);
    assert.equal(review.state, "rejected");
    assert.match(review.comment ?? "", /Only the grant workflow/);
  });

  it("leaves environments that are not Breakglass's to their own rules", async () => {
    const n = await openRequest("dave", { resource: "model-rollback", role: "rollback", duration: "30m" });
    const run = await dispatchByHand("bob", "breakglass-grant.yml", n);
    sb.emulator.requestDeploymentProtection(run.id, "production");
    await sb.settle();
    assert.deepEqual(run.protectionReviews, []);
    assert.equal(run.status, "waiting");
  });
});
