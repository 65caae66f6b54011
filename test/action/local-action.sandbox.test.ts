/**
 * The Action under GitHub's own `@github/local-action` (its README: `local-action run <action dir>
 * <entrypoint exporting run()> <.env file> [--post <entrypoint>]`), against the sandbox app: the
 * grant workflow's job as local-action runs it, with @actions/core replaced by local-action's stubs
 * and the job's OIDC variables in the .env file. local-action is not a devDependency (it brings
 * packages whose engines exclude Node 20, see scripts/local-action-from-registry.sh); `.ci/run`
 * installs it and sets BREAKGLASS_LOCAL_ACTION to its bin, and this test runs only then.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { SANDBOX_AUDIENCE, startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import { sandboxHelpers } from "../support/sandbox-helpers.ts";

const bin = process.env.BREAKGLASS_LOCAL_ACTION;
const skip = bin
  ? false
  : 'BREAKGLASS_LOCAL_ACTION is not set: run `BREAKGLASS_LOCAL_ACTION="$(scripts/local-action-from-registry.sh)"` first (needs the npm registry; .ci/run does it)';
let sb: Sandbox;
let dir: string;
const { approve, openRequest, stateOf } = sandboxHelpers(() => sb);

before(async () => {
  if (skip) return;
  sb = await startSandbox({ runWorkflows: false });
  dir = await mkdtemp(join(tmpdir(), "breakglass-local-action-"));
});
after(async () => {
  if (skip) return;
  await sb.close();
  await rm(dir, { recursive: true, force: true });
});

function localAction(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    // local-action reads the action's package.json and `npm ls` from the working directory.
    const child = spawn(bin!, ["run", ".", ...args], {
      cwd: process.cwd(),
      env: { PATH: process.env.PATH ?? "", HOME: dir, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, out }));
  });
}

it(
  "local-action runs the grant job and its post step: the credentials are exchanged for the dispatched run, exported masked, and the post step applies the policy",
  { skip, timeout: 240_000 },
  async () => {
    const n = await openRequest("erin", {
      resource: "model-guardrail-override",
      role: "override",
      duration: "30m",
      severity: "critical",
    });
    await approve("grace", n); // the guardrail policy asks for step-up: a signed approval
    const run = [...sb.emulator.state.repository.runs.values()].find(
      (r) => r.inputs.issue === String(n) && r.path.endsWith("/breakglass-grant.yml"),
    );
    assert.ok(run, "the app dispatched the grant workflow");
    const env = {
      ...sb.jobEnvironment(run.id),
      INPUT_MODE: "grant",
      "INPUT_APP-URL": sb.app.url,
      INPUT_ISSUE: String(n),
      INPUT_AUDIENCE: SANDBOX_AUDIENCE,
      "INPUT_EXPORT-ENV": "true",
      GITHUB_STEP_SUMMARY: join(dir, "summary.md"),
    };
    await writeFile(env.GITHUB_STEP_SUMMARY, "");
    const dotenv = join(dir, "grant.env");
    await writeFile(
      dotenv,
      Object.entries(env)
        .map(([k, v]) => `${k}="${v}"`)
        .join("\n") + "\n",
    );

    const result = await localAction(["src/action/main.ts", dotenv, "--post", "src/action/post.ts"]);
    assert.equal(result.code, 0, result.out);
    assert.match(result.out, /Running Action/, "local-action ran the entry point's run()");
    assert.match(result.out, /Running Post Step/);
    await sb.settle();
    const state = await stateOf(n);
    assert.ok(state.grant, `the exchange granted: ${result.out.slice(-2000)}`);
    assert.equal(state.grant.run_id, `${run.id}/${run.run_attempt}`, "the grant went to the dispatched run");
    assert.match(result.out, /::set-output name=credential-id::bg-/);
    assert.match(result.out, /Exported for the next steps: BREAKGLASS_TOKEN \(masked\)/);
    // This policy keeps its grant until it expires, as on a runner: the post step says so.
    assert.match(
      result.out,
      /Running Post Step[\s\S]*The policy keeps this grant alive until it expires; not revoking it now\./,
    );
    assert.equal(state.status, "active");
    assert.doesNotMatch(result.out, /::error::/, "nothing failed (the job summary was written too)");
    assert.doesNotMatch(
      result.out,
      /eyJ[\w-]{20,}\.[\w-]{20,}\.[\w-]{20,}/,
      "no JWT (OIDC token or credential) printed in clear",
    );
  },
);

it(
  "under local-action a refusal is the Action failing with the app's reason code",
  { skip, timeout: 240_000 },
  async () => {
    const n = await openRequest("dave", {
      resource: "model-guardrail-override",
      role: "override",
      duration: "30m",
      severity: "critical",
    });
    const stray = sb.emulator.startWorkflowRun({
      workflow: "breakglass-grant.yml",
      actor: "dave",
      inputs: { issue: String(n) },
    });
    const dotenv = join(dir, "refused.env");
    const env = {
      ...sb.jobEnvironment(stray.id),
      INPUT_MODE: "grant",
      "INPUT_APP-URL": sb.app.url,
      INPUT_ISSUE: String(n),
      INPUT_AUDIENCE: SANDBOX_AUDIENCE,
    };
    await writeFile(
      dotenv,
      Object.entries(env)
        .map(([k, v]) => `${k}="${v}"`)
        .join("\n") + "\n",
    );
    const result = await localAction(["src/action/main.ts", dotenv]);
    // local-action exits 0 whatever the Action reports (it records setFailed and prints it); on a runner the step fails.
    assert.match(result.out, /::error::Breakglass refused \([a-z_]+\): /, result.out.slice(-2000));
    assert.equal((await stateOf(n)).grant, null, "nothing granted");
  },
);
