/**
 * Serverless mode: `src/app/actions-main.ts` run as a real process per event, as the
 * breakglass-app.yml workflow runs it, against the GitHub emulator. Webhooks to the sandbox's own
 * server are switched off, so everything on the issue comes from the Actions-mode process.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { readHistory } from "../../src/github/issue-records.ts";
import { requestFormBody } from "../../src/sandbox/request-body.ts";
import {
  SANDBOX_APP_ID,
  SANDBOX_JWT_ISSUER,
  SANDBOX_OWNER as owner,
  SANDBOX_REPO as repo,
  startSandbox,
  type Sandbox,
} from "../../src/sandbox/start-sandbox.ts";

let sb: Sandbox;
let dir = "";
before(async () => {
  sb = await startSandbox({ runWorkflows: false });
  sb.emulator.setWebhookUrl(null);
  dir = await mkdtemp(join(tmpdir(), "breakglass-actions-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
  await sb.close();
});

let runs = 0;
/** Runs the entry point as the workflow would: one process, the event in GITHUB_EVENT_PATH. */
async function runEvent(
  name: string,
  payload: Record<string, unknown> | null,
  without: string[] = [],
): Promise<{ code: number; out: string }> {
  const eventPath = join(dir, `event-${++runs}.json`);
  await writeFile(eventPath, JSON.stringify(payload ?? {}));
  const api = new URL(sb.emulator.apiUrl);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    GITHUB_EVENT_NAME: name,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: `${owner}/${repo}`,
    GITHUB_RUN_ID: String(5000 + runs),
    APP_ID: String(SANDBOX_APP_ID),
    PRIVATE_KEY: sb.secrets.appPrivateKey,
    BREAKGLASS_SIGNING_KEY: sb.secrets.signingKeyPem,
    BREAKGLASS_SEAL_KEY: sb.secrets.sealKey,
    BREAKGLASS_PUBLIC_URL: SANDBOX_JWT_ISSUER,
    BREAKGLASS_APP_SLUG: "breakglass",
    GHE_HOST: api.host,
    GHE_PROTOCOL: "http",
    LOG_LEVEL: "warn",
    // Under `npm test` the child's coverage is collected with the rest.
    ...(process.env.NODE_V8_COVERAGE ? { NODE_V8_COVERAGE: process.env.NODE_V8_COVERAGE } : {}),
  };
  for (const name of without) delete env[name];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/app/actions-main.ts"], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, out }));
  });
}
const history = async (n: number) =>
  readHistory((await sb.app.portFor(owner, repo))!, n, sb.app.deps.identity, sb.app.deps.jwks);

it("issues.opened, then issue_comment.created with /approve, each handled by one Actions-mode run as the app's bot", async () => {
  const dave = sb.as("dave");
  const { data: issue } = await dave.rest.issues.create({
    owner,
    repo,
    title: "[breakglass] model-guardrail-override override",
    labels: ["breakglass"],
    body: requestFormBody({
      resource: "model-guardrail-override",
      role: "override",
      duration: "30m",
      severity: "critical",
    }),
  });
  const { data: repository } = await dave.rest.repos.get({ owner, repo });
  const opened = await runEvent("issues", { action: "opened", issue, repository, sender: issue.user });
  assert.equal(opened.code, 0, opened.out);
  assert.match(opened.out, /handled issues\.opened in Actions mode/);
  let h = await history(issue.number);
  assert.deepEqual(h.problems, []);
  assert.equal(
    h.state.status,
    "requested",
    "the record was written by the app's bot and verifies with its keys",
  );
  assert.ok(
    h.comments.some((c) => c.user.login === sb.appLogin && c.body.startsWith("<!-- breakglass:status")),
    "the status comment is the app's",
  );

  // The guardrail policy requires step-up: grace signs with `breakglass approve` (posted only, since
  // in Actions mode the webhook does not reach a server: the run below handles it).
  const commentId = await sb.approveSigned("grace", issue.number);
  const { data: comment } = await sb
    .as("grace")
    .rest.issues.getComment({ owner, repo, comment_id: commentId });
  const { data: fresh } = await dave.rest.issues.get({ owner, repo, issue_number: issue.number });
  const approved = await runEvent("issue_comment", {
    action: "created",
    issue: fresh,
    comment,
    repository,
    sender: comment.user,
  });
  assert.equal(approved.code, 0, approved.out);
  h = await history(issue.number);
  assert.equal(h.state.status, "approved");
  assert.equal(h.state.approvals[0]?.actor, "grace");
  const dispatched = [...sb.emulator.state.workflowRuns.values()].filter(
    (r) => r.inputs.issue === String(issue.number),
  );
  assert.equal(dispatched.length, 1, "the grant workflow was dispatched from the Actions-mode run");
});

it("a scheduled run is the sweep: it reconciles every open request of the repository", async () => {
  const swept = await runEvent("schedule", null);
  assert.equal(swept.code, 0, swept.out);
  assert.match(swept.out, /handled schedule in Actions mode: checked 1, revoked 0, closed 0, failed 0/);
});

it("ignores events it does not handle, and fails clearly without the app's credentials", async () => {
  const ignored = await runEvent("push", {});
  assert.equal(ignored.code, 0);
  assert.match(ignored.out, /push \(ignored\)/);
  const broken = await runEvent("schedule", null, ["PRIVATE_KEY"]);
  assert.equal(broken.code, 1);
  assert.match(broken.out, /::error::Breakglass \(Actions mode\) failed: Missing PRIVATE_KEY/);
});
