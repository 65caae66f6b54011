/**
 * docs/first-installation.md, run: every `npx breakglass` command of the walkthrough on an empty
 * directory, then its GitHub steps played against the sandbox with the files those commands wrote,
 * and the first request of each provider granted through the real Action on the first try.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { mockClient } from "aws-sdk-client-mock";
import { AssumeRoleWithWebIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { IAMClient } from "@aws-sdk/client-iam";
import pg from "pg";
import { main } from "../../src/cli/main.ts";
import type { CliIO } from "../../src/cli/io.ts";
import { createAwsStsProvider } from "../../src/providers/aws-sts.ts";
import {
  createGitHubTokenProvider,
  githubTokenDepsFromOctokit,
  type AppOctokitLike,
} from "../../src/providers/github-token.ts";
import { adminConnectionFromEnv, createPostgresProvider } from "../../src/providers/postgres.ts";
import type { CredentialProvider } from "../../src/providers/provider.ts";
import { requestFormBody, type RequestFormInput } from "../../src/sandbox/request-body.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import { postgresUnavailable, runSql, startTestPostgres, type TestPostgres } from "../support/postgres.ts";
import { sandboxHelpers } from "../support/sandbox-helpers.ts";

const io = (cwd: string) => {
  const x = {
    out: "",
    err: "",
    stdout: (t: string) => void (x.out += t),
    stderr: (t: string) => void (x.err += t),
    readStdin: async () => "",
    cwd,
    env: {},
  };
  return x as CliIO & { out: string; err: string };
};

/** The walkthrough's commands: `npx breakglass …` lines of its ```sh blocks, in order. */
export function walkthroughCommands(markdown: string): string[][] {
  const blocks = [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  return blocks.flatMap((b) =>
    b
      .split("\n")
      .filter((l) => l.startsWith("npx breakglass "))
      .map((l) => l.slice("npx breakglass ".length).trim().split(/\s+/)),
  );
}

describe("docs/first-installation.md on an empty repository", () => {
  let dir: string;
  const outputs: Array<{ args: string[]; code: number; out: string; err: string }> = [];
  const pgMissing = postgresUnavailable();
  let server: TestPostgres | null = null;
  let sb: Sandbox;
  const h = sandboxHelpers(() => sb);
  const jobEnv = new Map<number, Record<string, string>>();
  const loggedIn = new Map<number, string>();
  /** Step 4: someone files the request form (GitHub applies its label only if the label exists). */
  const fileForm = async (who: string, form: RequestFormInput) => {
    const { number, labels } = sb.emulator.submitIssueForm(who, {
      template: "breakglass-request",
      title: `[breakglass] ${form.resource} ${form.role}`,
      body: requestFormBody(form),
    });
    assert.deepEqual(labels, ["breakglass"], "the form's label exists: the app created it on installation");
    await sb.settle();
    return number;
  };
  const sts = new STSClient({
    region: "eu-west-1",
    credentials: { accessKeyId: "AKIAAPP", secretAccessKey: "app-secret" },
  });
  const stsMock = mockClient(sts);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "bg-first-"));
    for (const args of walkthroughCommands(await readFile("docs/first-installation.md", "utf8"))) {
      const x = io(dir);
      outputs.push({ args, code: await main(args, x), out: x.out, err: x.err });
    }
    const providers: Partial<Record<"github" | "postgres" | "aws", CredentialProvider>> = {};
    if (!pgMissing) {
      server = await startTestPostgres();
      await runSql(server.url(server.superuser, server.superuserPassword), [
        "CREATE ROLE bg_admin LOGIN CREATEROLE PASSWORD 'admin-pw-first-Qx81'",
        "CREATE ROLE bg_readonly NOLOGIN",
        "CREATE DATABASE orders",
      ]);
      providers.postgres = createPostgresProvider({
        adminConnectionString: adminConnectionFromEnv({
          BREAKGLASS_PG_ADMIN_URL: server.url("bg_admin", "admin-pw-first-Qx81"),
        }),
      });
    }
    // AWS at the SDK's transport, as in test/action/providers-e2e.sandbox.test.ts.
    stsMock
      .on(AssumeRoleWithWebIdentityCommand)
      .callsFake((input: { DurationSeconds: number; RoleSessionName: string }) => ({
        Credentials: {
          AccessKeyId: "ASIAFIRSTKEYID",
          SecretAccessKey: "first-install-secret-key",
          SessionToken: "FwoGZXIvYXdzFIRSTSESSION",
          Expiration: new Date(sb.clock.now() + input.DurationSeconds * 1000),
        },
        AssumedRoleUser: {
          AssumedRoleId: `AROAFIRST:${input.RoleSessionName}`,
          Arn: `arn:aws:sts::123456789012:assumed-role/breakglass-readonly/${input.RoleSessionName}`,
        },
      }));
    providers.aws = createAwsStsProvider({
      sts,
      iam: new IAMClient({
        region: "us-east-1",
        credentials: { accessKeyId: "AKIAAPP", secretAccessKey: "app-secret" },
      }),
      region: "us-east-1",
      now: () => sb.clock.now(),
    });
    const appOctokit: AppOctokitLike = {
      request: async (route, params) => (await sb.app.probot.auth()).request(route, params),
    };
    const deps = () =>
      githubTokenDepsFromOctokit(appOctokit, sb.emulator.state.installation.id, sb.emulator.apiUrl);
    providers.github = createGitHubTokenProvider({
      createInstallationToken: (i) => deps().createInstallationToken(i),
      revokeInstallationToken: (t) => deps().revokeInstallationToken(t),
      probe: (t) => deps().probe(t),
    });
    sb = await startSandbox({
      root: dir,
      // PostgreSQL's VALID UNTIL is real time on a real server.
      startMs: Date.now(),
      // The team the walkthrough names (`--owners @acme/security`), with two people in it.
      teams: { "acme/security": ["sam", "erin"] },
      // Step 4: the installation has every permission the example github role asks for.
      installationPermissions: { administration: "write" },
      providers,
      holdJob: async (env, issue) => {
        jobEnv.set(issue, env);
        // The job's next step uses the credential while it holds it (PostgreSQL grants end with the job).
        if (env.DATABASE_URL) {
          const client = new pg.Client({ connectionString: env.DATABASE_URL });
          loggedIn.set(
            issue,
            await client.connect().then(
              () => client.query("SELECT current_user AS u").then((r) => String(r.rows[0]?.u)),
              (e: Error) => `refused: ${e.message}`,
            ),
          );
          await client.end().catch(() => undefined);
        }
      },
    });
    // Step 3.1: the app is installed; it creates its labels (the emulator, like GitHub, has none yet).
    sb.emulator.state.repository.labels.clear();
    sb.emulator.emitInstallationCreated();
    await sb.settle();
  });
  after(async () => {
    await sb?.close();
    await server?.stop();
  });

  it("its commands are init, validate and demo, and each succeeds: validate says ready, init lists the steps on GitHub", () => {
    assert.deepEqual(
      outputs.map((o) => o.args[0]),
      ["init", "validate", "demo"],
    );
    for (const o of outputs) assert.equal(o.code, 0, `breakglass ${o.args.join(" ")}:\n${o.out}\n${o.err}`);
    const [init, validate, demo] = outputs as [(typeof outputs)[0], (typeof outputs)[0], (typeof outputs)[0]];
    assert.match(init.out, /breakglass validate: ready/);
    const steps = init.out.slice(init.out.indexOf("Next steps on GitHub:"));
    for (const step of [
      "BREAKGLASS_APP_URL",
      "`breakglass-prod-database`",
      "`breakglass-aws-production`",
      "BREAKGLASS_PG_ADMIN_URL",
      "IAM OIDC provider",
      "Code Owners",
      "PR check required",
    ])
      assert.ok(steps.includes(step), `next steps name ${step}:\n${steps}`);
    assert.match(validate.out, /policies, CODEOWNERS and the request form are consistent/);
    assert.match(demo.out, /✅ Demo passed/);
    assert.match(demo.out, /approvers security-1 \(made-up members/);
  });

  it("jwt: model-guardrail-override, a plain /approve refused for step-up, then one signed approval by a member of @acme/security, granted at the first run", async () => {
    const n = await fileForm("dave", {
      resource: "model-guardrail-override",
      role: "override",
      duration: "30m",
      severity: "high",
      incident: "https://status.example.com/incidents/1",
    });
    await h.say("sam", n, "/approve");
    assert.ok(
      (await h.appTexts(n)).some((t) => t.includes("step_up_required")),
      "the walkthrough says a plain comment is refused",
    );
    assert.equal(sb.runs.filter((r) => r.issue === n).length, 0);
    await h.approve("sam", n);
    const runs = sb.runs.filter((r) => r.issue === n);
    assert.equal(runs.length, 1, "one grant workflow run");
    const run = await runs[0]!.result;
    assert.equal(run.exitCode, 0, run.stdout + run.stderr);
    assert.match(jobEnv.get(n)?.BREAKGLASS_TOKEN ?? "", /^eyJ/);
    assert.equal((await h.stateOf(n)).status, "active");
  });

  it("github: github-admin, two approvals, an installation token the job can use, at the first run", async () => {
    const n = await fileForm("dave", {
      resource: "github-admin",
      role: "admin",
      duration: "30m",
      severity: "high",
      incident: "https://status.example.com/incidents/2",
    });
    await h.say("sam", n, "/approve");
    await h.say("erin", n, "/approve");
    const runs = sb.runs.filter((r) => r.issue === n);
    assert.equal(runs.length, 1);
    const run = await runs[0]!.result;
    assert.equal(run.exitCode, 0, run.stdout + run.stderr);
    assert.match(jobEnv.get(n)?.BREAKGLASS_GITHUB_TOKEN ?? "", /^ghs_/);
    assert.ok((await h.stateOf(n)).grant, "granted");
  });

  it(
    "postgres: prod-database read at low severity, auto-approved, a login that works in breakglass-prod-database",
    { skip: pgMissing && !process.env.CI ? pgMissing : false },
    async () => {
      assert.equal(pgMissing, null, `${pgMissing} (CI must run this, not skip it)`);
      const n = await fileForm("dave", {
        resource: "prod-database",
        role: "read",
        duration: "30m",
        severity: "low",
        incident: "https://status.example.com/incidents/3",
      });
      const runs = sb.runs.filter((r) => r.issue === n);
      assert.equal(runs.length, 1, "dispatched at once (auto-approved)");
      const run = await runs[0]!.result;
      assert.equal(run.exitCode, 0, run.stdout + run.stderr);
      assert.match(loggedIn.get(n) ?? "", /^bg_\d+_[a-z0-9]{6}$/, "the job logged in as the temporary role");
      assert.ok((await h.stateOf(n)).grant, "granted");
    },
  );

  it("aws: aws-production read at low severity, auto-approved, STS credentials in breakglass-aws-production", async () => {
    const n = await fileForm("dave", {
      resource: "aws-production",
      role: "read",
      duration: "30m",
      severity: "low",
      incident: "https://status.example.com/incidents/4",
    });
    const runs = sb.runs.filter((r) => r.issue === n);
    assert.equal(runs.length, 1);
    const run = await runs[0]!.result;
    assert.equal(run.exitCode, 0, run.stdout + run.stderr);
    assert.equal(jobEnv.get(n)?.AWS_ACCESS_KEY_ID, "ASIAFIRSTKEYID");
    const call = stsMock.commandCalls(AssumeRoleWithWebIdentityCommand)[0]!.args[0].input;
    assert.equal(call.RoleArn, "arn:aws:iam::123456789012:role/breakglass-readonly");
    assert.ok((await h.stateOf(n)).grant, "granted");
  });
});
