/**
 * Serverless mode under GitHub's real workflow rules, as the emulator now enforces them: every run of
 * breakglass-app.yml is the entry point as a real process (test/support/serverless-runner.ts), runs of
 * one issue share a concurrency group (one running, one pending, a newer run cancels the pending one),
 * and events made with the GITHUB_TOKEN start no run. Webhooks to the app server are off: the server
 * only answers the Action's exchange and release, as serverless mode's docs say it must.
 */
import { withoutStepUp } from "../support/sandbox-helpers.ts";
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { readHistory } from "../../src/github/issue-records.ts";
import { requestFormBody } from "../../src/sandbox/request-body.ts";
import {
  SANDBOX_OWNER as owner,
  SANDBOX_REPO as repo,
  startSandbox,
  type Sandbox,
} from "../../src/sandbox/start-sandbox.ts";
import { startServerlessRunner, type ServerlessRunner } from "../support/serverless-runner.ts";

describe("serverless mode loses nothing under GitHub's concurrency and GITHUB_TOKEN rules", () => {
  let sb: Sandbox;
  let runner: ServerlessRunner;
  before(async () => {
    sb = await startSandbox({ runWorkflows: false });
    withoutStepUp(sb); // this suite is about serverless catch up, not step-up
    sb.emulator.setWebhookUrl(null);
    runner = await startServerlessRunner(sb);
  });
  afterEach(() => runner.release());
  after(async () => {
    await runner.stop();
    await sb.close();
  });
  // Each run is a fresh Node process (seconds each on a busy machine), several per issue.
  const idle = () => sb.emulator.waitForIdle({ timeoutMs: 240_000 });
  const history = async (n: number) =>
    readHistory((await sb.app.portFor(owner, repo))!, n, sb.app.deps.identity, sb.app.deps.jwks);
  const appRuns = (issue: number) =>
    [...sb.emulator.state.repository.runs.values()].filter(
      (r) =>
        r.path.endsWith("/breakglass-app.yml") &&
        (r.payload?.issue as { number?: number } | undefined)?.number === issue,
    );

  it("three quick comments on one issue: GitHub cancels the middle one's run, and both approvals still count", async () => {
    const { data: issue } = await sb.as("dave").rest.issues.create({
      owner,
      repo,
      title: "[breakglass] prod-database read",
      labels: ["breakglass"],
      body: requestFormBody({ resource: "prod-database", role: "read", duration: "30m", severity: "high" }),
    });
    await idle();
    assert.equal(
      (await history(issue.number)).state.status,
      "requested",
      "intake ran in the issues.opened run",
    );

    // A runner is slow to start: the first comment's run is in progress while the next two queue.
    runner.hold();
    await sb
      .as("bob")
      .rest.issues.createComment({ owner, repo, issue_number: issue.number, body: "/approve" });
    await sb
      .as("carol")
      .rest.issues.createComment({ owner, repo, issue_number: issue.number, body: "/approve looks right" });
    await sb
      .as("dave")
      .rest.issues.createComment({ owner, repo, issue_number: issue.number, body: "thanks, waiting" });
    const queued = appRuns(issue.number).slice(-3);
    assert.deepEqual(
      queued.map((r) => [r.status, r.conclusion]),
      [
        ["in_progress", null],
        ["completed", "cancelled"],
        ["pending", null],
      ],
      "carol's comment's run was cancelled by GitHub's rule",
    );
    runner.release();
    await idle();

    const h = await history(issue.number);
    assert.deepEqual(h.problems, []);
    assert.equal(h.state.status, "approved", "carol's approval was caught up by another run");
    assert.deepEqual(h.state.approvals.map((a) => a.actor).sort(), ["bob", "carol"]);
    const grants = [...sb.emulator.state.workflowRuns.values()].filter(
      (r) => r.path.endsWith("/breakglass-grant.yml") && r.inputs.issue === String(issue.number),
    );
    assert.equal(grants.length, 1, "dispatched once");
    for (const { result } of runner.finished) assert.equal(result.code, 0, result.out);
    const { data: reactions } = await sb.as("carol").rest.reactions.listForIssueComment({
      owner,
      repo,
      comment_id: (
        await sb.as("carol").rest.issues.listComments({ owner, repo, issue_number: issue.number })
      ).data.find((c) => c.user?.login === "carol")!.id,
    });
    assert.deepEqual(
      reactions
        .filter((r) => r.user?.login === sb.appLogin)
        .map((r) => r.content)
        .sort(),
      ["eyes", "rocket"],
      "handled once: one 👀, one 🚀",
    );
  });

  it("a comment edited into a command is not replayed with its new body: not by its author, not by a writer (an edit can only withdraw)", async () => {
    const { data: issue } = await sb.as("dave").rest.issues.create({
      owner,
      repo,
      title: "[breakglass] prod-database read",
      labels: ["breakglass"],
      body: requestFormBody({ resource: "prod-database", role: "read", duration: "30m", severity: "high" }),
    });
    await idle();
    // An old remark of an approver, handled long ago (no command, so no reaction), that a writer rewrites.
    const { data: remark } = await sb.as("carol").rest.issues.createComment({
      owner,
      repo,
      issue_number: issue.number,
      body: "I will look at this after lunch",
    });
    await idle();
    sb.clock.advance(60_000);
    await sb
      .as("mallory")
      .rest.issues.updateComment({ owner, repo, comment_id: remark.id, body: "/approve" });
    // The author's own edit of a comment no run has seen yet (timestamps have GitHub's 1-second grain).
    runner.hold();
    const { data: note } = await sb
      .as("bob")
      .rest.issues.createComment({ owner, repo, issue_number: issue.number, body: "/status" });
    sb.clock.advance(5_000);
    await sb.as("bob").rest.issues.updateComment({ owner, repo, comment_id: note.id, body: "/approve" });
    await sb.as("dave").rest.issues.createComment({ owner, repo, issue_number: issue.number, body: "ping" });
    runner.release();
    await idle();
    const h = await history(issue.number);
    assert.equal(h.state.status, "requested");
    assert.deepEqual(h.state.approvals, [], "neither edit approved");
    assert.ok(
      runner.finished.some(({ result }) => /edited before handling 2/.test(result.out)),
      "both reported as left alone",
    );
  });

  it("the drill opens its issue with the GITHUB_TOKEN (no run starts): it dispatches the app's workflow and passes", async () => {
    const before = runner.finished.length;
    const run = await sb.runDrillWorkflow("3m", { "drill-app-workflow": "breakglass-app.yml" });
    await idle();
    const report = JSON.parse(run.outputs["drill-report"] ?? "{}") as {
      ok: boolean;
      issue: number;
      steps: Array<{ name: string; ok: boolean; detail: string }>;
    };
    assert.equal(run.exitCode, 0, `${run.stdout}\n${run.stderr}\n${JSON.stringify(report.steps, null, 1)}`);
    assert.equal(report.ok, true);
    assert.ok(report.steps.some((s) => s.name === "app workflow dispatched" && s.ok));
    assert.equal(
      appRuns(report.issue).filter((r) => r.event === "issues" && r.actor.login === "github-actions[bot]")
        .length,
      0,
      "the drill's own issue started no run",
    );
    const dispatched = runner.finished
      .slice(before)
      .filter(({ run: r }) => r.event === "workflow_dispatch" && r.inputs.issue === String(report.issue));
    assert.equal(dispatched.length, 1);
    assert.match(
      dispatched[0]!.result.out,
      new RegExp(
        `handled workflow_dispatch for #${report.issue} in Actions mode; caught up #${report.issue}: intake yes`,
      ),
    );
  });

  it("without the dispatch the drill is never acknowledged: GitHub starts no run for a GITHUB_TOKEN's issue", async () => {
    const run = await sb.runDrillWorkflow("4s");
    await idle();
    assert.equal(run.exitCode, 1);
    assert.match(run.stdout, /::error::The drill failed: request acknowledged \(not seen within/);
  });
});
