/**
 * The custom deployment protection rule: a `breakglass-*` environment's waiting job is approved by
 * the app only when the exchange would hand it credentials — the default branch's grant workflow,
 * dispatched, in the request's policy environment, for an approved request, as a run the app started
 * (or an approver started by hand). Real webhook (`deployment_protection_rule.requested`, which names
 * the run only in its callback URL), real review call to the emulator.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import {
  SANDBOX_OWNER as owner,
  SANDBOX_REPO as repo,
  startSandbox,
  type Sandbox,
} from "../../src/sandbox/start-sandbox.ts";
import type { WorkflowRun } from "../../src/sandbox/github/emulator.ts";
import { sandboxHelpers } from "../support/sandbox-helpers.ts";

let sb: Sandbox;
const { openRequest, say } = sandboxHelpers(() => sb);
const ENV = "breakglass-model-rollback";
const CANARY_ENV = "breakglass-model-canary";

before(async () => {
  // The model-rollback policy, with a GitHub environment for its grant job.
  const policy = `${readFileSync("policies/model-rollback.yml", "utf8")}\nenvironment: ${ENV}\n`;
  // A second resource of the same owners, in its own environment, for requests naming both.
  const canary =
    `${readFileSync("policies/model-rollback.yml", "utf8")}\nenvironment: ${CANARY_ENV}\n`.replace(
      /^description: .*$/m,
      "description: Canary traffic shift of a production model",
    );
  sb = await startSandbox({
    runWorkflows: false,
    files: { "policies/model-rollback.yml": policy, "policies/model-canary.yml": canary },
  });
});
after(async () => sb.close());

function runsOf(workflow: string, issue?: number): WorkflowRun[] {
  return [...sb.emulator.state.workflowRuns.values()].filter(
    (r) => r.path.endsWith(workflow) && (issue === undefined || r.inputs.issue === String(issue)),
  );
}
async function gate(
  run: WorkflowRun,
  environment = ENV,
): Promise<{ state: string | null; comment: string | null; by: string }> {
  const before = run.protectionReviews.length;
  sb.emulator.requestDeploymentProtection(run.id, environment);
  await sb.settle();
  assert.equal(run.protectionReviews.length, before + 1, "the app answered the protection rule exactly once");
  return run.protectionReviews.at(-1)!;
}
async function dispatchByHand(
  who: string,
  workflow: string,
  issue?: number,
  ref = "main",
): Promise<WorkflowRun> {
  const inputs =
    issue === undefined
      ? {}
      : { issue: String(issue), ...(workflow === "breakglass-grant.yml" ? { environment: ENV } : {}) };
  await sb.as(who).rest.actions.createWorkflowDispatch({ owner, repo, workflow_id: workflow, ref, inputs });
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
    assert.equal(
      runsOf("breakglass-grant.yml", n).length,
      1,
      "the request is approved and its grant run dispatched",
    );
    const run = await dispatchByHand("bob", "breakglass-sweep.yml");
    const review = await gate(run);
    assert.equal(review.state, "rejected");
    assert.match(
      review.comment ?? "",
      /Only acme\/ops\/\.github\/workflows\/breakglass-grant\.yml@refs\/heads\/main may do this.*wrong_workflow/,
    );
  });

  it("A90 rejects the grant workflow dispatched on a writer's branch (its changed copy) for an approved request", async () => {
    const n = await openRequest("dave", { resource: "model-rollback", role: "rollback", duration: "30m" });
    await say("grace", n, "/approve");
    sb.emulator.pushBranch("mallory", "evil", {
      ".github/workflows/breakglass-grant.yml": readFileSync(
        ".github/workflows/breakglass-grant.yml",
        "utf8",
      ).replace("Get break-glass credentials", "Get them and post them somewhere"),
    });
    const run = await dispatchByHand("mallory", "breakglass-grant.yml", n, "evil");
    assert.equal(run.head_branch, "evil", "GitHub runs the branch's copy");
    const review = await gate(run);
    assert.equal(review.state, "rejected");
    assert.match(review.comment ?? "", /Only the main branch's copy .*refs\/heads\/evil.*wrong_ref/);
    assert.equal(run.conclusion, "failure");
  });

  it("A91 rejects a grant run on main started by a writer who is not an approver, for someone else's approved request", async () => {
    const n = await openRequest("rita", { resource: "model-rollback", role: "rollback", duration: "30m" });
    await say("grace", n, "/approve");
    const run = await dispatchByHand("mallory", "breakglass-grant.yml", n);
    const review = await gate(run);
    assert.equal(review.state, "rejected");
    assert.match(review.comment ?? "", /did not start run .*not an approver.*unknown_run/);
  });

  it("A92 accepts a grant run an approver started by hand, but not one the requester started", async () => {
    const n = await openRequest("ivan", { resource: "model-rollback", role: "rollback", duration: "30m" });
    await say("grace", n, "/approve");
    const byApprover = await dispatchByHand("heidi", "breakglass-grant.yml", n);
    assert.equal((await gate(byApprover)).state, "approved");
    const byRequester = await dispatchByHand("ivan", "breakglass-grant.yml", n);
    const review = await gate(byRequester);
    assert.equal(review.state, "rejected");
    assert.match(review.comment ?? "", /is the requester/);
  });

  it("A93 rejects the app's own grant run when it asks for another environment than the request's policy names", async () => {
    const n = await openRequest("olga", { resource: "model-rollback", role: "rollback", duration: "30m" });
    await say("grace", n, "/approve");
    const run = runsOf("breakglass-grant.yml", n).at(-1)!;
    sb.emulator.requestDeploymentProtection(run.id, "breakglass-prod-database");
    await sb.settle();
    const review = run.protectionReviews.at(-1)!;
    assert.equal(review.state, "rejected");
    assert.match(
      review.comment ?? "",
      /requires the job to run in the "breakglass-model-rollback" environment.*wrong_environment/,
    );
  });

  it("A94 rejects a grant run whose title names a drill request (drills use the drill workflow only)", async () => {
    const n = await openRequest("carol", {
      resource: "drill",
      role: "drill",
      duration: "5m",
      severity: "low",
      drill: true,
    });
    const run = await dispatchByHand("sam", "breakglass-grant.yml", n);
    const review = await gate(run);
    assert.equal(review.state, "rejected");
    assert.match(review.comment ?? "", /is a drill/);
  });

  it("leaves environments that are not Breakglass's to their own rules", async () => {
    const n = await openRequest("dave", { resource: "model-rollback", role: "rollback", duration: "30m" });
    const run = await dispatchByHand("bob", "breakglass-grant.yml", n);
    sb.emulator.requestDeploymentProtection(run.id, "production");
    await sb.settle();
    assert.deepEqual(run.protectionReviews, []);
    assert.equal(run.status, "waiting");
  });

  it("judges each resource's run of a request naming several by that resource's records and environment", async () => {
    const n = await openRequest("rita", {
      resource: "model-rollback",
      role: "rollback",
      duration: "30m",
      more: ["model-canary rollback 20m"],
    });
    await say("grace", n, "/approve");
    const rollback = runsOf("breakglass-grant.yml", n).find((r) => r.inputs.resource === "model-rollback");
    const canary = runsOf("breakglass-grant.yml", n).find((r) => r.inputs.resource === "model-canary");
    assert.ok(rollback && canary, "one run dispatched per resource");
    const first = await gate(rollback);
    assert.equal(first.state, "approved", first.comment ?? "");
    assert.match(first.comment ?? "", new RegExp(`#${n} \\(model-rollback\\) is approved`));
    const second = await gate(canary, CANARY_ENV);
    assert.equal(second.state, "approved", second.comment ?? "");
    assert.match(second.comment ?? "", new RegExp(`#${n} \\(model-canary\\) is approved`));
  });

  it("rejects one resource's run asking for the other resource's environment", async () => {
    const n = await openRequest("tina", {
      resource: "model-rollback",
      role: "rollback",
      duration: "30m",
      more: ["model-canary rollback 20m"],
    });
    await say("grace", n, "/approve");
    const canary = runsOf("breakglass-grant.yml", n).find((r) => r.inputs.resource === "model-canary")!;
    const review = await gate(canary, ENV);
    assert.equal(review.state, "rejected");
    assert.match(review.comment ?? "", /"breakglass-model-canary" environment.*wrong_environment/);
  });
});
