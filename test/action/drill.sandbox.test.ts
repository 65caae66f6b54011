import { test } from "node:test";
import assert from "node:assert/strict";
import { startSandbox } from "../../src/sandbox/start-sandbox.ts";

test("a drill runs the whole lifecycle end to end and reports its timings", async () => {
  const sb = await startSandbox();
  try {
    const run = await sb.runDrillWorkflow();
    await sb.settle();
    assert.equal(run.exitCode, 0, `${run.stdout}\n${run.stderr}`);
    const report = JSON.parse(run.outputs["drill-report"] ?? "{}") as {
      ok: boolean;
      issue: number;
      steps: Array<{ name: string; ok: boolean; detail: string }>;
      timings: Record<string, number | null>;
    };
    assert.equal(report.ok, true, JSON.stringify(report.steps, null, 1));
    const names = report.steps.map((s) => s.name);
    for (const step of [
      "request opened",
      "request acknowledged",
      "approved",
      "granted",
      "credential works",
      "revoked",
      "credential no longer works",
      "issue closed",
      "review issue opened",
      "audit chain verifies",
    ]) {
      assert.ok(names.includes(step), `missing step ${step}`);
    }
    for (const t of [
      "time_to_acknowledge_seconds",
      "time_to_approval_seconds",
      "time_to_grant_seconds",
      "time_to_revoke_seconds",
    ]) {
      assert.equal(typeof report.timings[t], "number", t);
    }
    assert.match(run.summary, /Break-glass drill passed/);
    assert.match(run.summary, /time to grant/);
    const [owner, repo] = sb.repository.split("/") as [string, string];
    const { data: issue } = await sb.as("sam").rest.issues.get({ owner, repo, issue_number: report.issue });
    assert.equal(issue.state, "closed");
    assert.ok(issue.labels.some((l) => (typeof l === "string" ? l : l.name) === "breakglass:drill"));
    for (const [k, v] of Object.entries(report.timings)) console.log(`drill ${k}: ${v}`);
  } finally {
    await sb.close();
  }
});

test("a failing drill fails the workflow with the reason", async () => {
  // Without the drill policy's auto-approval the request is never approved: the drill must fail, not hang.
  const sb = await startSandbox({
    files: {
      "policies/drill.yml":
        "description: Drill without auto-approval\nroles:\n  drill:\n    provider: jwt\n    settings: {}\nmax_duration: 10m\ndrill:\n  enabled: true\n",
    },
  });
  try {
    const run = await sb.runDrillWorkflow("3s");
    assert.equal(run.exitCode, 1);
    assert.match(run.stdout, /::error::The drill failed: approved/);
    assert.match(run.summary, /drill FAILED/);
  } finally {
    await sb.close();
  }
});
