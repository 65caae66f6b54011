/**
 * Every provider through the whole product: a request issue, approval (or the policy's auto-approval),
 * the app's dispatch, the real Action process (`node dist/index.js` with the OIDC request variables)
 * exchanging its token, the credential used from the job, then revocation proven by a failing use of
 * the same credential. The JWT provider is covered the same way in test/app/*.sandbox.test.ts.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { mockClient } from "aws-sdk-client-mock";
import { AssumeRoleWithWebIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import {
  GetRolePolicyCommand,
  IAMClient,
  ListRolePoliciesCommand,
  NoSuchEntityException,
  PutRolePolicyCommand,
} from "@aws-sdk/client-iam";
import { adminConnectionFromEnv, createPostgresProvider } from "../../src/providers/postgres.ts";
import {
  createGitHubTokenProvider,
  githubTokenDepsFromOctokit,
  type AppOctokitLike,
} from "../../src/providers/github-token.ts";
import { createAwsStsProvider } from "../../src/providers/aws-sts.ts";
import type { ActionRun } from "../../src/sandbox/action-runner.ts";
import { SANDBOX_TEAMS, startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import { postgresUnavailable, runSql, startTestPostgres, type TestPostgres } from "../support/postgres.ts";
import { sandboxHelpers } from "../support/sandbox-helpers.ts";

/** No secret in any comment, in the Action's log other than its ::add-mask:: line, its outputs or its summary. */
async function assertSecretsNowhere(
  sb: Sandbox,
  appTexts: (n: number) => Promise<string[]>,
  n: number,
  run: ActionRun,
  secrets: string[],
) {
  const comments = (await appTexts(n)).join("\n");
  const log = (run.stdout + run.stderr).replace(/^::add-mask::.*$/gm, "");
  for (const secret of secrets) {
    assert.ok(secret.length >= 8, "a real secret to look for");
    assert.ok(run.masked.includes(secret), "the Action masked it before anything else");
    assert.ok(!comments.includes(secret), "not in any issue comment");
    assert.ok(!log.includes(secret), "not in the job log");
    assert.ok(!JSON.stringify(run.outputs).includes(secret), "not in a step output");
    assert.ok(!run.summary.includes(secret), "not in the job summary");
  }
  const all = (
    await sb.as("dave").paginate(sb.as("dave").rest.issues.listComments, {
      owner: "acme",
      repo: "ops",
      issue_number: n,
      per_page: 100,
    })
  )
    .map((c) => c.body ?? "")
    .join("\n");
  for (const secret of secrets) assert.ok(!all.includes(secret));
}

describe("PostgreSQL: a temporary login that works during the job and is refused after", () => {
  const missing = postgresUnavailable();
  let server: TestPostgres | null = null;
  let sb: Sandbox;
  const h = sandboxHelpers(() => sb);
  let during: { user?: string; rows?: unknown[]; forbidden?: string; env?: Record<string, string> } = {};

  it(
    "the PostgreSQL server binaries are available",
    { skip: missing && !process.env.CI ? missing : false },
    () => {
      assert.equal(missing, null, `${missing} (CI must run these tests, not skip them)`);
    },
  );

  before(async () => {
    if (missing) return;
    server = await startTestPostgres();
    const superUrl = server.url(server.superuser, server.superuserPassword);
    await runSql(superUrl, [
      "CREATE ROLE bg_admin LOGIN CREATEROLE PASSWORD 'admin-pw-e2e-Qx81'",
      "CREATE ROLE bg_readonly NOLOGIN",
      "CREATE DATABASE orders",
    ]);
    await runSql(server.url(server.superuser, server.superuserPassword, "orders"), [
      "CREATE TABLE orders (id int PRIMARY KEY, item text)",
      "INSERT INTO orders VALUES (1, 'tea')",
      "CREATE TABLE payroll (name text, salary int)",
      "GRANT SELECT ON orders TO bg_readonly",
    ]);
    const env = { BREAKGLASS_PG_ADMIN_URL: server.url("bg_admin", "admin-pw-e2e-Qx81") };
    sb = await startSandbox({
      // VALID UNTIL is real time on a real server: the sandbox clock starts now, not at its fixed date.
      startMs: Date.now(),
      runWorkflows: false, // run below, in the environment the policy requires
      providers: { postgres: createPostgresProvider({ adminConnectionString: adminConnectionFromEnv(env) }) },
      // The job's next step: use the credential the Action exported, as a workflow step would.
      holdJob: async (jobEnv) => {
        const client = new pg.Client({ connectionString: jobEnv.DATABASE_URL });
        await client.connect();
        try {
          const who = await client.query<{ u: string }>("SELECT current_user AS u");
          const rows = (await client.query("SELECT id, item FROM orders")).rows;
          const forbidden = await client.query("SELECT * FROM payroll").then(
            () => "allowed",
            (e: Error) => e.message,
          );
          during = { user: who.rows[0]!.u, rows, forbidden, env: jobEnv };
        } finally {
          await client.end();
        }
      },
    });
  });
  after(async () => {
    await sb?.close();
    await server?.stop();
  });

  it(
    "read on prod-database (auto-approved: read, low): login works in the job, refused once the job ends",
    { skip: missing ? "no PostgreSQL" : false },
    async () => {
      const n = await h.openRequest("dave", {
        resource: "prod-database",
        role: "read",
        duration: "30m",
        severity: "low",
      });
      assert.equal((await h.stateOf(n)).status, "approved", "auto-approved by read-only-low");
      const run = await sb.runGrantWorkflow(n, { environment: "breakglass-prod-database" });
      assert.equal(run.exitCode, 0, run.stdout + run.stderr);
      assert.match(during.user ?? "", /^bg_\d+_[a-z0-9]{6}$/, "the job logged in as the temporary role");
      assert.deepEqual(during.rows, [{ id: 1, item: "tea" }]);
      assert.match(
        during.forbidden ?? "",
        /permission denied/,
        "and only with the granted role's privileges",
      );
      assert.equal(
        during.env?.PGHOST,
        "127.0.0.1",
        "non-secret connection settings are exported for the job too",
      );
      assert.equal(during.env?.PGPORT, String(server!.port));
      assert.equal(during.env?.PGDATABASE, "orders");
      assert.equal(run.post?.exitCode, 0, "the post step released the grant");
      const s = await h.stateOf(n);
      assert.equal(s.status, "revoked");
      assert.equal(s.grant?.ended?.reason, "job_ended");
      const refused = await new pg.Client({ connectionString: run.env.DATABASE_URL }).connect().then(
        () => "logged in",
        (e: { code?: string }) => e.code ?? "error",
      );
      assert.ok(["28P01", "28000"].includes(refused), `the same credential is refused now (${refused})`);
      await assertSecretsNowhere(sb, h.appTexts, n, run, [run.env.PGPASSWORD!, run.env.DATABASE_URL!]);
    },
  );
});

describe("GitHub App installation token: scoped, and 401 after revocation", () => {
  let sb: Sandbox;
  const h = sandboxHelpers(() => sb);
  let duringStatus = 0;
  before(async () => {
    // The provider asks the app (through the sandbox's Probot) for an installation token.
    const appOctokit: AppOctokitLike = {
      request: async (route, params) => (await sb.app.probot.auth()).request(route, params),
    };
    const deps = () =>
      githubTokenDepsFromOctokit(appOctokit, sb.emulator.state.installation.id, sb.emulator.apiUrl);
    sb = await startSandbox({
      // github-admin needs two approvers from @acme/platform (its CODEOWNERS).
      teams: { ...SANDBOX_TEAMS, "acme/platform": ["erin", "carol"] },
      // The sandbox's one installation has the app's own permissions; the example policy's
      // administration:write would need the separate, broader app the README describes.
      files: {
        "policies/github-admin.yml": readFileSync("policies/github-admin.yml", "utf8").replace(
          /administration: write\n(\s+)contents: write/,
          "issues: write\n$1contents: read",
        ),
      },
      providers: {
        github: createGitHubTokenProvider({
          createInstallationToken: (input) => deps().createInstallationToken(input),
          revokeInstallationToken: (token) => deps().revokeInstallationToken(token),
          probe: (token) => deps().probe(token),
        }),
      },
      holdJob: async (env) => {
        const res = await fetch(`${sb.emulator.apiUrl}/repos/acme/ops`, {
          headers: { authorization: `Bearer ${env.BREAKGLASS_GITHUB_TOKEN}` },
        });
        duringStatus = res.status;
        await res.body?.cancel();
      },
    });
  });
  after(() => sb?.close());

  it("admin on github-admin (two approvals): the token works in the job, answers 401 after /revoke", async () => {
    const n = await h.openRequest("dave", {
      resource: "github-admin",
      role: "admin",
      duration: "30m",
      severity: "high",
    });
    await h.say("erin", n, "/approve");
    await h.say("carol", n, "/approve");
    const s0 = await h.stateOf(n);
    const run = await sb.runs.find((r) => r.issue === n)?.result;
    assert.ok(
      run,
      `the grant workflow ran (state ${s0.status}, approvals ${s0.approvals.map((a) => a.actor).join(",")})`,
    );
    assert.equal(run.exitCode, 0, run.stdout + run.stderr);
    const token = run.env.BREAKGLASS_GITHUB_TOKEN ?? "";
    assert.match(token, /^ghs_/);
    assert.equal(duringStatus, 200, "the job could use it");
    const s = await h.stateOf(n);
    assert.ok(s.grant, "granted");
    assert.equal(s.grant.ended?.reason, "job_ended", "github-admin grants end with their job");
    const after = await fetch(`${sb.emulator.apiUrl}/repos/acme/ops`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(after.status, 401, "the revoked token is refused");
    await after.body?.cancel();
    assert.ok(
      sb.emulator.apiRequests.some(
        (r) => r.method === "DELETE" && r.route === "/installation/token" && r.status === 204,
      ),
      "revoked with DELETE /installation/token",
    );
    await assertSecretsNowhere(sb, h.appTexts, n, run, [token]);
  });
});

describe("AWS STS: AssumeRoleWithWebIdentity with the run's token, revoked by a deny policy on exactly that session", () => {
  const ROLE_ID = "AROA3XFRBF535E2E0001";
  const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzE2EKEY";
  const sts = new STSClient({
    region: "eu-west-1",
    credentials: { accessKeyId: "AKIAAPP", secretAccessKey: "app-secret" },
  });
  const iam = new IAMClient({
    region: "us-east-1",
    credentials: { accessKeyId: "AKIAAPP", secretAccessKey: "app-secret" },
  });
  const stsMock = mockClient(sts);
  const iamMock = mockClient(iam);
  const policies = new Map<string, string>();
  let sb: Sandbox;
  const h = sandboxHelpers(() => sb);

  before(async () => {
    // A fake AWS at the SDK's transport: STS issues a session; IAM keeps the role's inline policies.
    stsMock
      .on(AssumeRoleWithWebIdentityCommand)
      .callsFake((input: { DurationSeconds: number; RoleSessionName: string }) => ({
        Credentials: {
          AccessKeyId: "ASIAE2EKEYID",
          SecretAccessKey: SECRET,
          SessionToken: "FwoGZXIvYXdzE2ESESSIONTOKEN",
          Expiration: new Date(sb.clock.now() + input.DurationSeconds * 1000),
        },
        AssumedRoleUser: {
          AssumedRoleId: `${ROLE_ID}:${input.RoleSessionName}`,
          Arn: `arn:aws:sts::123456789012:assumed-role/breakglass-readonly/${input.RoleSessionName}`,
        },
      }));
    iamMock.on(PutRolePolicyCommand).callsFake((input: { PolicyName: string; PolicyDocument: string }) => {
      policies.set(input.PolicyName, input.PolicyDocument);
      return {};
    });
    iamMock.on(GetRolePolicyCommand).callsFake((input: { PolicyName: string; RoleName: string }) => {
      const doc = policies.get(input.PolicyName);
      if (!doc) throw new NoSuchEntityException({ message: "no such policy", $metadata: {} });
      return {
        RoleName: input.RoleName,
        PolicyName: input.PolicyName,
        PolicyDocument: encodeURIComponent(doc),
      };
    });
    iamMock
      .on(ListRolePoliciesCommand)
      .callsFake(() => ({ PolicyNames: [...policies.keys()], IsTruncated: false }));
    sb = await startSandbox({
      runWorkflows: false,
      providers: { aws: createAwsStsProvider({ sts, iam, region: "us-east-1", now: () => sb.clock.now() }) },
    });
  });
  after(() => sb?.close());

  it("read on aws-production (auto-approved): the exact STS call, exported credentials, and a deny policy after /revoke", async () => {
    const n = await h.openRequest("dave", {
      resource: "aws-production",
      role: "read",
      duration: "45m",
      severity: "low",
    });
    assert.equal((await h.stateOf(n)).status, "approved", "auto-approved by read-low");
    // The policy requires the job's environment; the app's dispatch runs it there.
    const run = await sb.runGrantWorkflow(n, { environment: "breakglass-aws-production" });
    assert.equal(run.exitCode, 0, run.stdout + run.stderr);
    const calls = stsMock.commandCalls(AssumeRoleWithWebIdentityCommand);
    assert.equal(calls.length, 1);
    const input = calls[0]!.args[0].input;
    assert.equal(input.RoleArn, "arn:aws:iam::123456789012:role/breakglass-readonly");
    assert.match(
      input.RoleSessionName ?? "",
      new RegExp(`^bg-${n}-\\d+-[a-z0-9]+$`),
      "the session names the issue and the run",
    );
    assert.equal(input.DurationSeconds, 45 * 60, "the session lasts exactly the grant");
    assert.ok((input.WebIdentityToken ?? "").split(".").length === 3, "the run's own OIDC token was used");
    assert.equal(run.env.AWS_SECRET_ACCESS_KEY, SECRET);
    assert.equal(run.env.AWS_REGION, "eu-west-1", "the region is exported for the job too");
    const s = await h.stateOf(n);
    assert.equal(s.grant?.credential_id, `${ROLE_ID}:${input.RoleSessionName}`);

    await h.say("dave", n, "/revoke done with the investigation");
    assert.equal((await h.stateOf(n)).status, "revoked");
    const denies = iamMock.commandCalls(PutRolePolicyCommand);
    assert.equal(denies.length, 1);
    assert.equal(denies[0]!.args[0].input.RoleName, "breakglass-readonly");
    const doc = JSON.parse(denies[0]!.args[0].input.PolicyDocument!) as {
      Statement: Array<{ Effect: string; Action: string; Condition: Record<string, Record<string, string>> }>;
    };
    assert.equal(doc.Statement[0]!.Effect, "Deny");
    assert.equal(doc.Statement[0]!.Action, "*");
    assert.equal(
      doc.Statement[0]!.Condition.StringEquals!["aws:userid"],
      `${ROLE_ID}:${input.RoleSessionName}`,
      "the deny names exactly this session",
    );
    await assertSecretsNowhere(sb, h.appTexts, n, run, [SECRET, run.env.AWS_SESSION_TOKEN!]);
  });
});
