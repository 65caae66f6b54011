/**
 * End to end: real requests through the sandbox (GitHub emulator, the real app over HTTP, the real
 * Action), then `breakglass audit export` and `verify` over HTTP against what they left behind.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { run } from "../../src/cli/commands/audit.ts";
import type { CliIO } from "../../src/cli/io.ts";
import type * as RequestBodyModule from "../../src/sandbox/request-body.ts";
import type * as SandboxModule from "../../src/sandbox/start-sandbox.ts";

type Sandbox = Awaited<ReturnType<typeof SandboxModule.startSandbox>>;

/** Only a module that does not exist yet skips this test; any other failure to load fails it. */
async function loadSandbox(): Promise<
  { sandbox: typeof SandboxModule; body: typeof RequestBodyModule } | string
> {
  try {
    return {
      sandbox: await import("../../src/sandbox/start-sandbox.ts"),
      body: await import("../../src/sandbox/request-body.ts"),
    };
  } catch (error) {
    const e = error as { code?: string; message: string };
    if (e.code === "ERR_MODULE_NOT_FOUND")
      return `the sandbox is not assembled yet (${e.message.split("\n")[0]})`;
    throw error;
  }
}

const loaded = await loadSandbox();
const MIN = 60_000;

describe(
  "audit export and verify on a sandbox history",
  { skip: typeof loaded === "string" ? loaded : false },
  () => {
    let sb: Sandbox;
    let dir: string;
    const issues: Record<string, number> = {};
    const io = (stdin = ""): CliIO & { out: string; err: string } => {
      const x = {
        out: "",
        err: "",
        stdout: (t: string) => void (x.out += t),
        stderr: (t: string) => void (x.err += t),
        readStdin: async () => stdin,
        cwd: dir,
        env: { GITHUB_TOKEN: sb.emulator.userToken("dave"), GITHUB_API_URL: sb.emulator.apiUrl },
      };
      return x;
    };

    before(async () => {
      if (typeof loaded === "string") return;
      dir = await mkdtemp(join(tmpdir(), "breakglass-audit-e2e-"));
      sb = await loaded.sandbox.startSandbox({
        files: {
          ".github/CODEOWNERS":
            "/policies/ @acme/platform\n/policies/model-guardrail-override.yml @acme/ai-governance\n/policies/drill.yml @acme/sre\n",
        },
      });
      const [owner, repo] = sb.repository.split("/") as [string, string];
      const open = async (
        name: string,
        author: string,
        form: Parameters<typeof loaded.body.requestFormBody>[0],
      ) => {
        const { data } = await sb.as(author).rest.issues.create({
          owner,
          repo,
          title: `[breakglass] ${name}`,
          body: loaded.body.requestFormBody(form),
          labels: ["breakglass"],
        });
        issues[name] = data.number;
        await sb.settle();
        return data.number;
      };
      const say = async (author: string, issue: number, body: string) => {
        await sb.as(author).rest.issues.createComment({ owner, repo, issue_number: issue, body });
        await sb.settle();
      };
      const guardrail = {
        resource: "model-guardrail-override",
        role: "override",
        duration: "30m",
        severity: "critical",
      };
      // Approved by a CODEOWNER, granted by the real Action, expired by the clock.
      const expired = await open("expired", "dave", {
        ...guardrail,
        justification: 'Classifier blocks every answer <script>alert("x")</script>',
      });
      await sb.approveSigned("grace", expired, { note: "confirmed with the incident commander" });
      await sb.advance(31 * MIN);
      // Denied.
      const denied = await open("denied", "dave", guardrail);
      await say("heidi", denied, "/deny the rollback already fixed it");
      // Approved, granted, revoked by an approver.
      const revoked = await open("revoked", "erin", guardrail);
      await sb.approveSigned("grace", revoked);
      await say("grace", revoked, "/revoke done with it");
      // A drill, approved by its rule.
      const drill = await open("drill", "ivan", {
        resource: "drill",
        role: "drill",
        duration: "5m",
        severity: "low",
        justification: "Monthly drill of the break-glass path.",
        drill: true,
      });
      // The app does not dispatch the grant workflow for drills: the drill workflow's own run exchanges
      // its token (only the drill workflow may collect a drill request). Its job, run here:
      const drillRef = `${sb.repository}/.github/workflows/breakglass-drill.yml@refs/heads/main`;
      await sb.runGrantWorkflow(drill, {
        job_workflow_ref: drillRef,
        workflow_ref: drillRef,
        event_name: "schedule",
      });
      await sb.settle();
      await sb.advance(6 * MIN);
    });

    after(async () => {
      await sb?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("exports every outcome, verified against the app's published keys", async () => {
      const out = io();
      assert.equal(
        await run(["export", "--repo", sb.repository, "--jwks", `${sb.app.url}/breakglass/jwks.json`], out),
        0,
        out.err,
      );
      const rows = JSON.parse(out.out) as Array<{
        issue: number;
        status: string;
        chain_status: string;
        drill_result: string | null;
        approvals: Array<{ login: string; via: string }>;
        credential_id: string | null;
        checklist_issue: number | null;
      }>;
      const byIssue = (name: string) => rows.find((r) => r.issue === issues[name])!;
      assert.deepEqual(
        ["expired", "denied", "revoked", "drill"].map((n) => byIssue(n)?.status),
        // The drill's grant ends with its job (the Action's post step), as the drill policy says.
        ["expired", "denied", "revoked", "revoked"],
        JSON.stringify(rows, null, 1),
      );
      assert.ok(rows.every((r) => r.chain_status === "verified"));
      assert.deepEqual(
        byIssue("expired").approvals.map((a) => [a.login, a.via]),
        [["grace", "team"]],
      );
      assert.ok(byIssue("expired").credential_id);
      assert.ok(byIssue("expired").checklist_issue, "the post-event review is linked");
      assert.equal(byIssue("drill").drill_result, "passed");
      assert.equal(byIssue("drill").approvals[0]?.via, "auto");
    });

    it("the html report and the jsonl evidence; verify --file and --repo agree", async () => {
      const html = io();
      assert.equal(
        await run(
          [
            "export",
            "--repo",
            sb.repository,
            "--out",
            "report.html",
            "--jwks",
            `${sb.app.url}/breakglass/jwks.json`,
          ],
          html,
        ),
        0,
      );
      const page = await readFile(join(dir, "report.html"), "utf8");
      assert.ok(!page.includes('<script>alert("x")'));
      assert.ok(!/<script[^>]*\ssrc=/i.test(page));
      const jsonl = io();
      assert.equal(
        await run(["export", "--repo", sb.repository, "--format", "jsonl", "--out", "entries.jsonl"], jsonl),
        0,
      );
      const file = io();
      assert.equal(
        await run(
          ["verify", "--file", "entries.jsonl", "--jwks", `${sb.app.url}/breakglass/jwks.json`],
          file,
        ),
        0,
        file.out,
      );
      const live = io();
      assert.equal(
        await run(["verify", "--repo", sb.repository, "--jwks", `${sb.app.url}/breakglass/jwks.json`], live),
        0,
        live.out,
      );
      const count = (text: string) => /OK: (\d+) chain\(s\), (\d+) entries/.exec(text)?.slice(1);
      assert.deepEqual(count(file.out), count(live.out));
    });
  },
);
