import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { WorkflowRun } from "../../../../src/sandbox/github/emulator.ts";
import { assertWebhookSchema } from "../openapi-schema.ts";
import { startReceiver, startTestEmulator, type TestEmulator } from "../helpers.ts";

describe("Actions: workflow dispatch, runs, deployment protection rules", () => {
  let t: TestEmulator;
  let appToken: string;
  before(async () => {
    t = await startTestEmulator();
    appToken = t.emulator.installationToken();
  });
  after(() => t.emulator.close());

  const dispatch = (body: unknown, workflow = "breakglass-grant.yml", token = appToken) =>
    t.api("POST", `/repos/acme/ops/actions/workflows/${workflow}/dispatches`, token, body);

  it("creates a run and calls the dispatch handlers after answering 204, once the run starts", async () => {
    const seen: WorkflowRun[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const unsubscribe = t.emulator.onWorkflowDispatch(async (run) => {
      seen.push(structuredClone(run));
      await held;
      t.emulator.updateRun(run.id, { status: "completed", conclusion: "success" });
    });
    const res = await dispatch({ ref: "main", inputs: { issue: "7" } });
    assert.equal(res.status, 204);
    assert.equal(res.json, null);
    let idle = false;
    const waiting = t.emulator.waitForIdle().then(() => (idle = true));
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(idle, false, "waitForIdle waits for a handler's promise");
    release();
    await waiting;
    unsubscribe();
    assert.equal(seen.length, 1);
    const run = seen[0]!;
    assert.equal(run.workflow_id, "breakglass-grant.yml");
    assert.deepEqual(run.inputs, { issue: "7", mode: "grant" }, "defaults are filled in");
    assert.equal(
      run.status,
      "in_progress",
      "a runner picked it up: its concurrency group had no run in progress",
    );
    assert.equal(run.actor.login, "breakglass[bot]");
    assert.equal(run.ref, "refs/heads/main");
    const { data } = await t.emulator
      .octokitFor("dave")
      .rest.actions.getWorkflowRun({ owner: "acme", repo: "ops", run_id: run.id });
    assert.deepEqual(
      [data.status, data.conclusion, data.event, data.display_title],
      ["completed", "success", "workflow_dispatch", "Break-glass grant for #7"],
    );
  });

  it("refuses dispatches GitHub refuses", async () => {
    const cases: Array<[string, Promise<{ status: number; json: unknown }>, number, RegExp]> = [
      ["no ref", dispatch({ inputs: { issue: "1" } }), 422, /"ref" wasn't supplied/],
      ["unknown ref", dispatch({ ref: "nope", inputs: { issue: "1" } }), 422, /No ref found for: nope/],
      ["missing workflow", dispatch({ ref: "main" }, "missing.yml"), 404, /Not Found/],
      [
        "no workflow_dispatch trigger",
        dispatch({ ref: "main" }, "push-only.yml"),
        422,
        /does not have 'workflow_dispatch' trigger/,
      ],
      [
        "unexpected input",
        dispatch({ ref: "main", inputs: { issue: "1", token: "x" } }),
        422,
        /Unexpected inputs provided: \["token"\]/,
      ],
      [
        "required input missing",
        dispatch({ ref: "main", inputs: {} }),
        422,
        /Required input 'issue' not provided/,
      ],
      [
        "choice outside options",
        dispatch({ ref: "main", inputs: { issue: "1", mode: "root" } }),
        422,
        /not in the list of allowed values/,
      ],
      [
        "too many inputs",
        dispatch({
          ref: "main",
          inputs: Object.fromEntries(Array.from({ length: 26 }, (_, i) => [`k${i}`, "v"])),
        }),
        422,
        /No more than 25/,
      ],
    ];
    const before = t.emulator.state.workflowRuns.size;
    for (const [name, call, status, expected] of cases) {
      const res = await call;
      assert.equal(res.status, status, name);
      assert.match((res.json as { message: string }).message, expected, name);
    }
    assert.equal(t.emulator.state.workflowRuns.size, before, "no run was created");
  });

  it("lists workflows and runs, and dispatches by numeric workflow id", async () => {
    const dave = t.emulator.octokitFor("dave");
    const { data: workflows } = await dave.rest.actions.listRepoWorkflows({ owner: "acme", repo: "ops" });
    const grant = workflows.workflows.find((w) => w.path === ".github/workflows/breakglass-grant.yml")!;
    assert.equal(grant.name, "breakglass-grant");
    assert.equal(
      (await dispatch({ ref: "refs/heads/main", inputs: { issue: "8" } }, String(grant.id))).status,
      204,
    );
    const { data: runs } = await dave.rest.actions.listWorkflowRunsForRepo({ owner: "acme", repo: "ops" });
    assert.equal(runs.total_count, 2);
    assert.deepEqual(
      runs.workflow_runs.map((r) => r.run_number),
      [2, 1],
      "newest first, numbered per workflow",
    );
    const { data: byWorkflow } = await dave.rest.actions.listWorkflowRuns({
      owner: "acme",
      repo: "ops",
      workflow_id: "breakglass-grant.yml",
      status: "completed",
    });
    assert.equal(byWorkflow.total_count, 1);
    await t.emulator.waitForIdle();
  });

  it("holds a run for a deployment protection rule and records the app's review", async () => {
    const receiver = await startReceiver();
    t.emulator.setWebhookUrl(receiver.url);
    try {
      await dispatch({ ref: "main", inputs: { issue: "9" } });
      const run = [...t.emulator.state.workflowRuns.values()].at(-1)!;
      const delivery = t.emulator.requestDeploymentProtection(run.id, "breakglass-prod-database");
      await t.emulator.waitForIdle();
      assert.equal(delivery.event, "deployment_protection_rule");
      assert.equal(delivery.status, 200);
      const payload = JSON.parse(receiver.received.at(-1)!.body) as Record<string, unknown>;
      assert.equal(receiver.received.at(-1)!.headers["x-github-event"], "deployment_protection_rule");
      assertWebhookSchema("deployment_protection_rule", "requested", payload);
      assert.equal(payload.environment, "breakglass-prod-database");
      assert.equal(
        payload.deployment_callback_url,
        `${t.emulator.apiUrl}/repos/acme/ops/actions/runs/${run.id}/deployment_protection_rule`,
      );
      assert.equal(run.status, "waiting");

      const review = (token: string, body: unknown) =>
        t.api("POST", `/repos/acme/ops/actions/runs/${run.id}/deployment_protection_rule`, token, body);
      assert.equal(
        (
          await review(t.emulator.userToken("bob"), {
            environment_name: "breakglass-prod-database",
            state: "approved",
          })
        ).status,
        403,
        "only the app reviews its rule",
      );
      assert.equal(
        (await review(appToken, { environment_name: "other-env", state: "approved" })).status,
        422,
      );
      assert.equal(
        (await review(appToken, { environment_name: "breakglass-prod-database", state: "maybe" })).status,
        422,
      );
      assert.equal(
        (
          await review(appToken, {
            environment_name: "breakglass-prod-database",
            comment: "checking the request",
          })
        ).status,
        204,
      );
      assert.equal(run.status, "waiting", "a comment alone decides nothing");
      assert.equal(
        (
          await review(appToken, {
            environment_name: "breakglass-prod-database",
            state: "approved",
            comment: "Request #9 approved by bob",
          })
        ).status,
        204,
      );
      assert.equal(run.status, "in_progress");
      assert.deepEqual(
        run.protectionReviews.map((r) => [r.state, r.by]),
        [
          [null, "breakglass[bot]"],
          ["approved", "breakglass[bot]"],
        ],
      );
      assert.equal(
        (await review(appToken, { environment_name: "breakglass-prod-database", state: "approved" })).status,
        422,
        "nothing is pending any more",
      );

      await dispatch({ ref: "main", inputs: { issue: "10" } });
      const second = [...t.emulator.state.workflowRuns.values()].at(-1)!;
      t.emulator.requestDeploymentProtection(second.id, "breakglass-prod-database");
      await t.emulator.waitForIdle();
      assert.equal(
        (
          await t.api(
            "POST",
            `/repos/acme/ops/actions/runs/${second.id}/deployment_protection_rule`,
            appToken,
            { environment_name: "breakglass-prod-database", state: "rejected", comment: "denied" },
          )
        ).status,
        204,
      );
      assert.deepEqual([second.status, second.conclusion], ["completed", "failure"]);
      assert.throws(() => t.emulator.requestDeploymentProtection(123, "x"), /no workflow run 123/);
    } finally {
      t.emulator.setWebhookUrl(null);
      await receiver.close();
    }
  });

  it("gives workflows a GITHUB_TOKEN acting as github-actions[bot] on the repository only", async () => {
    const token = t.emulator.actionsToken();
    const res = await t.api("POST", "/repos/acme/ops/issues", token, { title: "drill" });
    assert.equal(res.status, 201);
    const issue = res.json as {
      user: { login: string; type: string };
      performed_via_github_app: { slug: string };
    };
    assert.deepEqual(
      [issue.user.login, issue.user.type, issue.performed_via_github_app.slug],
      ["github-actions[bot]", "Bot", "github-actions"],
    );
    const readOnly = t.emulator.actionsToken({ permissions: { issues: "read" } });
    assert.equal((await t.api("POST", "/repos/acme/ops/issues", readOnly, { title: "no" })).status, 403);
  });
  it("re-runs a completed run as its next attempt, with the re-runner as triggering_actor; refuses what GitHub refuses", async () => {
    const started: WorkflowRun[] = [];
    const unsubscribe = t.emulator.onWorkflowDispatch((run) => void started.push(structuredClone(run)));
    assert.equal((await dispatch({ ref: "main", inputs: { issue: "41" } })).status, 204);
    await t.emulator.waitForIdle();
    const run = [...t.emulator.state.workflowRuns.values()].find((r) => r.inputs.issue === "41")!;
    const rerun = (who: string) =>
      t.api("POST", `/repos/acme/ops/actions/runs/${run.id}/rerun`, t.emulator.userToken(who), {});
    const running = await rerun("carol");
    assert.equal(running.status, 403);
    assert.match(JSON.stringify(running.json), /already running/);
    t.emulator.completeRun(run.id, "failure");
    assert.equal(
      (await rerun("mallory")).status,
      403,
      "re-running needs write access (mallory reads only here)",
    );
    const res = await rerun("carol");
    assert.equal(res.status, 201);
    await t.emulator.waitForIdle();
    unsubscribe();
    const { json } = await t.api("GET", `/repos/acme/ops/actions/runs/${run.id}`, appToken);
    const body = json as {
      id: number;
      run_attempt: number;
      actor: { login: string };
      triggering_actor: { login: string };
      status: string;
      previous_attempt_url: string | null;
    };
    assert.equal(body.id, run.id, "the same run id");
    assert.equal(body.run_attempt, 2);
    assert.equal(body.actor.login, started[0]!.actor.login, "GitHub keeps the first starter as the actor");
    assert.equal(body.triggering_actor.login, "carol");
    assert.match(body.previous_attempt_url ?? "", /\/attempts\/1$/);
    assert.equal(started.length, 2, "the attempt's job starts like a new run");
    assert.equal(started[1]!.run_attempt, 2);
  });
});
