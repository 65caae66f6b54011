/**
 * Workflow runs started by issue events, as GitHub starts them: a workflow-level concurrency group
 * holds one running and one pending run (a newer queued run cancels the pending one, even with
 * cancel-in-progress: false), and events made with a GITHUB_TOKEN start no run (dispatches do).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Octokit } from "@octokit/rest";
import type { WorkflowRun } from "../../../src/sandbox/github/emulator.ts";
import { concurrencyOf, evaluateExpression } from "../../../src/sandbox/github/workflow-concurrency.ts";
import { startTestEmulator, type TestEmulator } from "./helpers.ts";

const APP_WORKFLOW = [
  "name: breakglass-app",
  "on:",
  "  issues:",
  "    types: [opened, edited]",
  "  issue_comment:",
  "    types: [created]",
  "  workflow_dispatch:",
  "    inputs:",
  "      issue: { required: false, default: '' }",
  "concurrency:",
  "  group: breakglass-app-${{ github.event.issue.number || inputs.issue || 'sweep' }}",
  "  cancel-in-progress: false",
  "jobs: { app: { runs-on: ubuntu-latest, steps: [ { run: 'true' } ] } }",
  "",
].join("\n");

describe("Actions: runs started by issue events", () => {
  let t: TestEmulator;
  const started: WorkflowRun[] = [];
  before(async () => {
    t = await startTestEmulator({
      files: {
        ".github/workflows/breakglass-app.yml": APP_WORKFLOW,
        ".github/workflows/on-close.yml": "name: on-close\non:\n  issues:\n    types: [closed]\njobs: {}\n",
        ".github/workflows/cancelling.yml":
          "name: cancelling\non: issue_comment\nconcurrency:\n  group: Cancel-${{ github.event.issue.number }}\n  cancel-in-progress: true\njobs: {}\n",
      },
    });
    t.emulator.onRunStarted((run) => void started.push(run));
  });
  after(() => t.emulator.close());
  const runsOf = (path: string, issue: number) =>
    [...t.emulator.state.repository.runs.values()].filter(
      (r) => r.path === path && (r.payload?.issue as { number?: number } | undefined)?.number === issue,
    );

  it("evaluates concurrency groups as GitHub does (|| picks the first truthy value; names compare case-insensitively)", () => {
    assert.equal(
      evaluateExpression("github.event.issue.number || 'sweep'", {
        github: { event: { issue: { number: 7 } } },
        inputs: {},
      }),
      7,
    );
    assert.equal(
      evaluateExpression("github.event.issue.number || inputs.issue || 'sweep'", {
        github: { event: {} },
        inputs: { issue: "" },
      }),
      "sweep",
    );
    assert.equal(
      evaluateExpression("github.event.issue.number || inputs.issue || 'sweep'", {
        github: { event: {} },
        inputs: { issue: "12" },
      }),
      "12",
    );
    assert.deepEqual(
      concurrencyOf(APP_WORKFLOW, { github: { event: { issue: { number: 3 } } }, inputs: {} }),
      { group: "breakglass-app-3", cancelInProgress: false },
    );
    assert.equal(concurrencyOf("on: push\n", { github: {}, inputs: {} }), null);
    assert.throws(() => evaluateExpression("secrets.X", { github: {}, inputs: {} }), /does not evaluate/);
  });

  it("a comment starts one run per matching workflow and activity type, as the commenter", async () => {
    const dave = t.emulator.octokitFor("dave");
    const { data: issue } = await dave.rest.issues.create({ owner: "acme", repo: "ops", title: "one" });
    const opened = runsOf(".github/workflows/breakglass-app.yml", issue.number);
    assert.equal(opened.length, 1, "issues.opened is in the types");
    assert.deepEqual(
      [opened[0]!.event, opened[0]!.actor.login, opened[0]!.status, opened[0]!.concurrency_group],
      ["issues", "dave", "in_progress", `breakglass-app-${issue.number}`],
    );
    assert.equal(
      (opened[0]!.payload as { action: string }).action,
      "opened",
      "the run carries the event's payload",
    );
    assert.equal(runsOf(".github/workflows/on-close.yml", issue.number).length, 0, "closed is not opened");
    await dave.rest.issues.update({
      owner: "acme",
      repo: "ops",
      issue_number: issue.number,
      state: "closed",
    });
    assert.equal(runsOf(".github/workflows/on-close.yml", issue.number).length, 1);
    assert.equal(
      runsOf(".github/workflows/breakglass-app.yml", issue.number).length,
      1,
      "closed is not in breakglass-app's types",
    );
    await t.emulator.waitForIdle();
    assert.ok(
      started.some((r) => r.id === opened[0]!.id),
      "run-start handlers hear of it",
    );
  });

  it("one running and one pending: the third quick event cancels the second, even with cancel-in-progress: false", async () => {
    const dave = t.emulator.octokitFor("dave");
    const { data: issue } = await dave.rest.issues.create({
      owner: "acme",
      repo: "ops",
      title: "three quick events",
    });
    const [first] = runsOf(".github/workflows/breakglass-app.yml", issue.number);
    for (const body of ["/approve", "second", "third"])
      await dave.rest.issues.createComment({ owner: "acme", repo: "ops", issue_number: issue.number, body });
    const runs = runsOf(".github/workflows/breakglass-app.yml", issue.number);
    assert.equal(runs.length, 4);
    assert.equal(runs[0]!.id, first!.id);
    assert.deepEqual(
      runs.map((r) => [r.status, r.conclusion]),
      [
        ["in_progress", null],
        ["completed", "cancelled"],
        ["completed", "cancelled"],
        ["pending", null],
      ],
    );
    const { data } = await dave.rest.actions.getWorkflowRun({
      owner: "acme",
      repo: "ops",
      run_id: runs[1]!.id,
    });
    assert.deepEqual([data.status, data.conclusion], ["completed", "cancelled"]);

    const heard = started.length;
    t.emulator.completeRun(first!.id);
    await t.emulator.waitForIdle();
    assert.deepEqual(
      [runs[3]!.status, runs[0]!.status],
      ["in_progress", "completed"],
      "the pending run starts when the running one ends",
    );
    assert.ok(started.slice(heard).some((r) => r.id === runs[3]!.id));
    const other = await dave.rest.issues.create({
      owner: "acme",
      repo: "ops",
      title: "another issue, another group",
    });
    assert.equal(runsOf(".github/workflows/breakglass-app.yml", other.data.number)[0]!.status, "in_progress");
  });

  it("cancel-in-progress: true cancels the running run too (groups compare case-insensitively)", async () => {
    const dave = t.emulator.octokitFor("dave");
    const { data: issue } = await dave.rest.issues.create({
      owner: "acme",
      repo: "ops",
      title: "cancelling",
    });
    await dave.rest.issues.createComment({
      owner: "acme",
      repo: "ops",
      issue_number: issue.number,
      body: "a",
    });
    await dave.rest.issues.createComment({
      owner: "acme",
      repo: "ops",
      issue_number: issue.number,
      body: "b",
    });
    const runs = runsOf(".github/workflows/cancelling.yml", issue.number);
    assert.deepEqual(
      runs.map((r) => [r.status, r.conclusion, r.concurrency_group]),
      [
        ["completed", "cancelled", `cancel-${issue.number}`],
        ["in_progress", null, `cancel-${issue.number}`],
      ],
    );
  });

  it("events made with the GITHUB_TOKEN start no run; its workflow dispatches do, and an app installation token's events do", async () => {
    const viaGithubToken = new Octokit({
      auth: t.emulator.actionsToken({ permissions: { issues: "write", actions: "write", metadata: "read" } }),
      baseUrl: t.emulator.apiUrl,
    });
    const { data: issue } = await viaGithubToken.rest.issues.create({
      owner: "acme",
      repo: "ops",
      title: "opened by a workflow",
    });
    assert.equal(issue.user?.login, "github-actions[bot]");
    await viaGithubToken.rest.issues.createComment({
      owner: "acme",
      repo: "ops",
      issue_number: issue.number,
      body: "/status",
    });
    assert.equal(
      runsOf(".github/workflows/breakglass-app.yml", issue.number).length,
      0,
      "no run for the GITHUB_TOKEN's issue or comment",
    );

    await viaGithubToken.rest.actions.createWorkflowDispatch({
      owner: "acme",
      repo: "ops",
      workflow_id: "breakglass-app.yml",
      ref: "main",
      inputs: { issue: String(issue.number) },
    });
    const dispatched = [...t.emulator.state.repository.runs.values()].filter(
      (r) => r.path === ".github/workflows/breakglass-app.yml" && r.inputs.issue === String(issue.number),
    );
    assert.equal(dispatched.length, 1, "a dispatch with the GITHUB_TOKEN does start a run");
    assert.equal(
      dispatched[0]!.concurrency_group,
      `breakglass-app-${issue.number}`,
      "in the issue's own group",
    );

    const app = new Octokit({ auth: t.emulator.installationToken(), baseUrl: t.emulator.apiUrl });
    await app.rest.issues.createComment({
      owner: "acme",
      repo: "ops",
      issue_number: issue.number,
      body: "the app's status",
    });
    assert.equal(
      runsOf(".github/workflows/breakglass-app.yml", issue.number).length,
      1,
      "an app's comment starts a run",
    );
  });
});
