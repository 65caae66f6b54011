/**
 * What a PostgreSQL break-glass login did, read from a real server's CSV log: the statements appear
 * on the status comment and the dashboard while the grant is live (the sweep collects them), a session
 * still open at revocation is terminated (pg_terminate_backend) and that verified, and the review
 * issue lists the statements normalised: no literal, no bind parameter, no password.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { STATUS_MARKER } from "../../src/core/render-status.ts";
import { adminConnectionFromEnv, createPostgresProvider } from "../../src/providers/postgres.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import { postgresUnavailable, runSql, startTestPostgres, type TestPostgres } from "../support/postgres.ts";
import { sandboxHelpers } from "../support/sandbox-helpers.ts";

const SECRET_LITERAL = "tea-literal-Zq81x";
const SECRET_PARAM = "bind-param-Wk27p";

describe("PostgreSQL uses: statements from the server's log, live and at review", () => {
  const missing = postgresUnavailable();
  let server: TestPostgres | null = null;
  let sb: Sandbox;
  const h = sandboxHelpers(() => sb);
  let during: { status?: string; dashboard?: string } = {};
  let lingering: pg.Client | null = null;
  let lingeringError: Promise<string> = Promise.resolve("none");

  it(
    "the PostgreSQL server binaries are available",
    { skip: missing && !process.env.CI ? missing : false },
    () => {
      assert.equal(missing, null, `${missing} (CI must run these tests, not skip them)`);
    },
  );

  before(async () => {
    if (missing) return;
    // The documented set-up (docs/providers.md): a CSV log, and an admin that may set log_statement and read the log.
    server = await startTestPostgres({
      settings: { logging_collector: "on", log_destination: "csvlog", log_connections: "on" },
    });
    const superUrl = server.url(server.superuser, server.superuserPassword);
    await runSql(superUrl, [
      "CREATE ROLE bg_admin LOGIN CREATEROLE PASSWORD 'admin-pw-uses-Qx81'",
      "GRANT SET ON PARAMETER log_statement TO bg_admin",
      "GRANT pg_monitor TO bg_admin",
      "CREATE ROLE bg_readonly NOLOGIN",
      "CREATE DATABASE orders",
    ]);
    await runSql(server.url(server.superuser, server.superuserPassword, "orders"), [
      "CREATE TABLE orders (id int PRIMARY KEY, item text)",
      "INSERT INTO orders VALUES (1, 'tea')",
      "GRANT SELECT ON orders TO bg_readonly",
      // Functions are per database: in the one the admin connects to.
      "GRANT EXECUTE ON FUNCTION pg_read_file(text, bigint, bigint) TO bg_admin",
    ]);
    const env = { BREAKGLASS_PG_ADMIN_URL: server.url("bg_admin", "admin-pw-uses-Qx81") };
    sb = await startSandbox({
      startMs: Date.now(),
      runWorkflows: false,
      providers: { postgres: createPostgresProvider({ adminConnectionString: adminConnectionFromEnv(env) }) },
      holdJob: async (jobEnv, issue) => {
        const client = new pg.Client({ connectionString: jobEnv.DATABASE_URL });
        await client.connect();
        await client.query(`SELECT id, item FROM orders WHERE item <> '${SECRET_LITERAL}'`);
        await client.query("SELECT id FROM orders WHERE item = $1", [SECRET_PARAM]);
        await client.query("SELECT id FROM orders WHERE item = $1", [SECRET_PARAM]);
        await client.end();
        // A second session the job leaves open: revocation must end it.
        lingering = new pg.Client({ connectionString: jobEnv.DATABASE_URL });
        lingeringError = new Promise((resolve) =>
          lingering!.on("error", (e: Error) => resolve((e as { code?: string }).code ?? "error")),
        );
        await lingering.connect();
        await lingering.query("SELECT 1");
        await new Promise((r) => setTimeout(r, 300)); // the log collector writes asynchronously
        await sb.app.reconcileAll(); // the sweep: collects the uses of live grants
        during = {
          status: (await h.appTexts(issue)).find((b) => b.startsWith(STATUS_MARKER)) ?? "",
          dashboard: await (await fetch(`${sb.app.url}/breakglass`)).text(),
        };
      },
    });
  });
  after(async () => {
    await lingering?.end().catch(() => undefined);
    await sb?.close();
    await server?.stop();
  });

  it(
    "statements counted while live, the open session terminated at revoke, the review lists them without values",
    { skip: missing ? "no PostgreSQL" : false },
    async () => {
      const n = await h.openRequest("dave", {
        resource: "prod-database",
        role: "read",
        duration: "30m",
        severity: "low",
      });
      const run = await sb.runGrantWorkflow(n, { environment: "breakglass-prod-database" });
      assert.equal(run.exitCode, 0, run.stdout + run.stderr);
      assert.match(
        during.status ?? "",
        /\| Uses \| 6 uses \(2 logins, 4 statements, 2 sessions\), last /,
        during.status,
      );
      assert.match(during.dashboard ?? "", /<span class="uses">[1-9]\d*<\/span>/);

      assert.equal(
        await lingeringError,
        "57P01",
        "the session left open was terminated by the revocation (admin_shutdown)",
      );
      const s = await h.stateOf(n);
      assert.equal(s.status, "revoked");
      assert.match(s.grant?.ended?.evidence ?? "", /no sessions left/);
      const uses = await sb.app.portFor("acme", "ops").then((p) => p!.ledger.uses(n));
      const statements = uses.filter((u) => u.kind === "statement").map((u) => u.action);
      assert.ok(statements.includes("SELECT id, item FROM orders WHERE item <> ?"), statements.join("\n"));
      assert.equal(statements.filter((a) => a === "SELECT id FROM orders WHERE item = ?").length, 2);

      const review = (await h.issueOf(s.review_issue!)).body ?? "";
      assert.match(review, /### Activity during the grant/);
      assert.match(review, /\| 2 \| `SELECT id FROM orders WHERE item = \?` \|/);
      assert.match(review, /the server's CSV log/);
      const everything = [review, JSON.stringify(uses), ...(await h.appTexts(n))].join("\n");
      for (const secret of [SECRET_LITERAL, SECRET_PARAM, run.env.PGPASSWORD!])
        assert.ok(!everything.includes(secret), `${secret} copied somewhere`);
    },
  );
});
