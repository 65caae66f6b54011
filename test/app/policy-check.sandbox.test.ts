/**
 * The policy pull-request check through the real app: a pull request that changes policies or
 * CODEOWNERS gets a "Breakglass policy" check run with `validate`'s problems annotated on their lines
 * and the before/after of effective access; it only reports (approvals still follow the default branch).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, it } from "node:test";
import {
  SANDBOX_OWNER as owner,
  SANDBOX_REPO as repo,
  startSandbox,
  type Sandbox,
} from "../../src/sandbox/start-sandbox.ts";
import { POLICY_CHECK_NAME } from "../../src/app/webhooks/handle-policy-pull-request.ts";
import { sandboxHelpers } from "../support/sandbox-helpers.ts";

let sb: Sandbox;
const { openRequest, say, stateOf } = sandboxHelpers(() => sb);
before(async () => {
  sb = await startSandbox();
});
after(() => sb.close());

const prodPolicy = readFileSync("policies/prod-database.yml", "utf8");
const codeowners = readFileSync(".github/CODEOWNERS", "utf8");

async function checkRunsOf(sha: string) {
  const { data } = await sb.as("dave").rest.checks.listForRef({ owner, repo, ref: sha });
  return data.check_runs;
}

async function openPull(login: string, branch: string, changes: Record<string, string | null>) {
  sb.emulator.pushBranch(login, branch, changes);
  const pr = sb.emulator.openPullRequest(login, { head: branch, title: `Change ${branch}` });
  await sb.settle();
  return pr;
}

it("a pull request that adds an approver and lengthens grants: the check shows who gains approval and the durations, before and after, and passes", async () => {
  const pr = await openPull("mallory", "widen-prod", {
    ".github/CODEOWNERS": codeowners.replace(
      "/policies/prod-database.yml         @acme/dba",
      "/policies/prod-database.yml         @acme/dba @mallory",
    ),
    "policies/prod-database.yml": prodPolicy
      .replace("max_duration: 4h", "max_duration: 8h")
      .replace(
        "break_glass:\n  # Nobody may approve their own write access to customer data.\n  allowed: false",
        "break_glass:\n  allowed: true",
      ),
  });
  const runs = await checkRunsOf(pr.head_sha);
  assert.equal(runs.length, 1);
  const run = runs[0]!;
  assert.equal(run.name, POLICY_CHECK_NAME);
  assert.equal(run.app?.slug, "breakglass", "posted by the Breakglass app itself");
  assert.deepEqual([run.status, run.conclusion], ["completed", "success"]);
  const summary = run.output.summary ?? "";
  assert.match(summary, /`prod-database` — changed/);
  assert.match(summary, /`\+ mallory \(CODEOWNERS\)`/, "the new approver is named");
  assert.match(
    summary,
    /\| Who may approve \| bob \(via @acme\/dba\); carol \(via @acme\/dba\) \| bob \(via @acme\/dba\); carol \(via @acme\/dba\); mallory \(CODEOWNERS\) \|/,
    "teams expanded into people",
  );
  assert.match(summary, /\| Max duration \| 4h \| 8h \|/);
  assert.match(summary, /\| Break-glass \| not allowed \| allowed \(self-approval\)/);
  assert.match(summary, /Unchanged: .*`aws-production`/);
});

it("insider: while that pull request is open, the approver it would add cannot approve — the app keeps deciding from the default branch", async () => {
  const n = await openRequest("dave", {
    resource: "prod-database",
    role: "write",
    duration: "1h",
    severity: "high",
  });
  await say("mallory", n, "/approve");
  assert.equal(
    (await stateOf(n)).status,
    "requested",
    "mallory's approval does not count: the check only reports",
  );
});

it("a broken policy fails the check with the problem annotated on its line of the file", async () => {
  const broken = prodPolicy.replace("max_duration: 4h", "max_duration: forever");
  const line = broken.split("\n").findIndex((l) => l.startsWith("max_duration:")) + 1;
  const pr = await openPull("dave", "break-prod", { "policies/prod-database.yml": broken });
  const run = (await checkRunsOf(pr.head_sha))[0]!;
  assert.deepEqual([run.status, run.conclusion], ["completed", "failure"]);
  const { data: annotations } = await sb
    .as("dave")
    .rest.checks.listAnnotations({ owner, repo, check_run_id: run.id });
  const mine = annotations.find((a) => a.path === "policies/prod-database.yml");
  assert.ok(mine, JSON.stringify(annotations));
  assert.equal(mine.start_line, line, "on the line of max_duration");
  assert.equal(mine.annotation_level, "failure");
  assert.match(mine.message ?? "", /max_duration/);

  // Fixing it on the same branch (synchronize) gives the new head its own, passing check.
  sb.emulator.pushBranch("dave", "break-prod", {
    "policies/prod-database.yml": prodPolicy.replace("max_duration: 4h", "max_duration: 2h"),
  });
  await sb.settle();
  const { data: pull } = await sb.as("dave").rest.pulls.get({ owner, repo, pull_number: pr.number });
  const fixed = (await checkRunsOf(pull.head.sha))[0]!;
  assert.equal(fixed.conclusion, "success");
  assert.match(fixed.output.summary ?? "", /\| Max duration \| 4h \| 2h \|/);
});

it("more than 50 problems: every one is annotated, 50 per request as the Checks API requires", async () => {
  const changes: Record<string, string> = {};
  for (let i = 0; i < 60; i++)
    changes[`policies/bad-${String(i).padStart(2, "0")}.yml`] = "description: 7\nroles: nope\n";
  const pr = await openPull("dave", "many-bad", changes);
  const run = (await checkRunsOf(pr.head_sha))[0]!;
  assert.equal(run.conclusion, "failure");
  assert.ok(run.output.annotations_count > 50, `annotations: ${run.output.annotations_count}`);
  const patches = sb.emulator.apiRequests.filter(
    (r) =>
      r.method === "PATCH" &&
      r.route === "/repos/{owner}/{repo}/check-runs/{check_run_id}" &&
      r.status === 200,
  );
  assert.ok(patches.length >= 2, "annotations were sent in several updates");
});

it("a pull request touching nothing Breakglass reads gets a passing check, so requiring the check blocks nothing else", async () => {
  const pr = await openPull("dave", "docs-only", { "docs/notes.md": "hello\n" });
  const run = (await checkRunsOf(pr.head_sha))[0]!;
  assert.deepEqual([run.conclusion, run.output.title], ["success", "No Breakglass files changed"]);
  // Closed and reopened: checked again (pull_request.reopened).
  sb.emulator.setPullRequestState("dave", pr.number, "closed");
  sb.emulator.setPullRequestState("dave", pr.number, "open");
  await sb.settle();
  assert.equal((await checkRunsOf(pr.head_sha)).length, 2);
});

it("insider: a workflow can post a check run with the same name, but it is GitHub Actions' check, not the app's — rulesets must pin the source app", async () => {
  const pr = await openPull("mallory", "forge-check", {
    "policies/prod-database.yml": prodPolicy.replace("required: 2", "required: 1"),
  });
  const forged = await fetch(`${sb.emulator.apiUrl}/repos/${owner}/${repo}/check-runs`, {
    method: "POST",
    headers: { authorization: `Bearer ${sb.emulator.actionsToken()}`, "content-type": "application/json" },
    body: JSON.stringify({
      name: POLICY_CHECK_NAME,
      head_sha: pr.head_sha,
      conclusion: "success",
      output: { title: "all good", summary: "trust me" },
    }),
  });
  assert.equal(forged.status, 201);
  const runs = await checkRunsOf(pr.head_sha);
  assert.deepEqual(runs.map((r) => r.app?.slug).sort(), ["breakglass", "github-actions"]);
  const real = runs.find((r) => r.app?.slug === "breakglass")!;
  assert.match(
    real.output.summary ?? "",
    /\| Approvals required \| 2 \| 1 \|/,
    "the app's own check shows the weakening",
  );
  // A user cannot write check runs at all.
  await assert.rejects(
    sb.as("mallory").rest.checks.create({
      owner,
      repo,
      name: POLICY_CHECK_NAME,
      head_sha: pr.head_sha,
      conclusion: "success",
    }),
    (e: { status?: number }) => e.status === 403,
  );
});

it("when GitHub fails while the check reads the pull request, the check is failed saying how to retry, never left in progress", async () => {
  const fault = sb.emulator.faults.add({
    method: "GET",
    route: "/repos/{owner}/{repo}/pulls/{pull_number}/files",
    status: 502,
  });
  let run: Awaited<ReturnType<typeof checkRunsOf>>[number] | undefined;
  try {
    const pr = await openPull("dave", "flaky", {
      "policies/prod-database.yml": prodPolicy.replace("max_duration: 4h", "max_duration: 3h"),
    });
    // The app's Octokit retries server errors with back-off, past the webhook's answer: wait for the check to finish.
    for (let i = 0; i < 60 && run?.status !== "completed"; i++) {
      run = (await checkRunsOf(pr.head_sha))[0];
      if (run?.status !== "completed") await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    fault.remove();
  }
  assert.ok(run);
  assert.deepEqual(
    [run.status, run.conclusion, run.output.title],
    ["completed", "failure", "Breakglass could not read the policies"],
  );
  assert.match(run.output.summary ?? "", /Push again/);
});

it("a policy whose only step-up is a passkey fails the check where it allows break-glass (a comment cannot carry a passkey), and hardware needs hardware_aaguids", async () => {
  const rollback = readFileSync("policies/model-rollback.yml", "utf8").replace(
    "  timeout: 15m\n",
    "  timeout: 15m\n  step_up: webauthn\n  require_hardware_key: true\n",
  );
  const pr = await openPull("dave", "passkey-only", { "policies/model-rollback.yml": rollback });
  const run = (await checkRunsOf(pr.head_sha))[0]!;
  assert.deepEqual([run.status, run.conclusion], ["completed", "failure"]);
  const { data: annotations } = await sb
    .as("dave")
    .rest.checks.listAnnotations({ owner, repo, check_run_id: run.id });
  const text = annotations
    .filter((a) => a.path === "policies/model-rollback.yml")
    .map((a) => `${a.start_line}: ${a.message}`)
    .join("\n");
  const lineOf = (prefix: string) => rollback.split("\n").findIndex((l) => l.startsWith(prefix)) + 1;
  assert.match(
    text,
    new RegExp(`^${lineOf("break_glass:")}: allows break-glass with \`webauthn\` as the only step-up`, "m"),
  );
  assert.match(text, /lists no `approvals.hardware_aaguids`, so no passkey counts as a hardware key/);
  // With an SSH signature beside the passkey, a hardware list, and no break-glass, it passes.
  sb.emulator.pushBranch("dave", "passkey-only", {
    "policies/model-rollback.yml": rollback
      .replace(
        "step_up: webauthn",
        "step_up: [webauthn, ssh-signature]\n  hardware_aaguids: [cb69481e-8ff7-4039-93ec-0a2729a154a8]",
      )
      .replace("break_glass:\n  allowed: true", "break_glass:\n  allowed: false"),
  });
  await sb.settle();
  const fixed = (await sb.as("dave").rest.pulls.get({ owner, repo, pull_number: pr.number })).data.head.sha;
  const again = (await checkRunsOf(fixed))[0]!;
  assert.equal(again.conclusion, "success", JSON.stringify(again.output));
});
