/**
 * handleCommand's refusal branches as unit tests: the handler is called directly with the comment a
 * delivery would carry, against the app's real GitHub adapter over the strict emulator in-process
 * (test/support/handler-kit.ts). No Probot, no webhooks, no sockets. The end-to-end paths stay in the
 * sandbox suites; these pin down what each refusal says and that it leaves nothing recorded.
 */
import assert from "node:assert/strict";
import { Octokit } from "@octokit/rest";
import { after, before, describe, it } from "node:test";
import { handleCommand } from "../../../src/app/webhooks/handle-command.ts";
import { handleRequestIssue } from "../../../src/app/webhooks/handle-request-issue.ts";
import { reconcileRepository } from "../../../src/app/grant/reconcile.ts";
import { RequestSession } from "../../../src/app/infra/request-session.ts";
import type { GitHubPort } from "../../../src/github/github-port.ts";
import type { RequestFormInput } from "../../../src/sandbox/request-body.ts";
import { startHandlerKit, type HandlerKit } from "../../support/handler-kit.ts";

const rollback: RequestFormInput = {
  resource: "model-rollback",
  role: "rollback",
  duration: "30m",
  severity: "high",
  justification: "The new model answers in the wrong language; roll back.",
};
const database: RequestFormInput = {
  resource: "prod-database",
  role: "read",
  duration: "1h",
  severity: "high",
  justification: "Orders table is locked; need to look.",
};

let kit: HandlerKit;
before(async () => {
  kit = await startHandlerKit();
});
after(() => kit.close());

/** An issue opened by `who` and taken in by the intake handler, as `issues.opened` would. */
async function request(who: string, form: RequestFormInput): Promise<number> {
  const issue = await kit.open(who, form);
  await handleRequestIssue(kit.deps, kit.port, issue, who, "opened");
  return issue.number;
}

/** `who` writes `body` on `n` and the command handler runs on it; returns the app's last comment. */
async function command(who: string, n: number, body: string): Promise<string> {
  const comment = await kit.comment(who, n, body);
  await handleCommand(kit.deps, kit.port, await kit.port.getIssue(n), comment);
  return (await kit.appTexts(n)).at(-1) ?? "";
}

const stateOf = async (n: number) => (await RequestSession.open(kit.deps, kit.port, n)).state;

describe("handleCommand refuses, says why, and records nothing", () => {
  it("the requester cannot approve their own request (self_approval)", async () => {
    const n = await request("dave", rollback);
    assert.equal((await stateOf(n)).status, "requested");
    assert.match(
      await command("dave", n, "/approve"),
      /^👎 @dave — refused \(`self_approval`\): You opened this request/,
    );
    assert.equal((await stateOf(n)).approvals.length, 0);
  });

  it("someone who is not a CODEOWNER of the policy cannot approve (not_codeowner)", async () => {
    const n = await request("dave", rollback);
    assert.match(
      await command("bob", n, "/approve"),
      /refused \(`not_codeowner`\): Only CODEOWNERS of the resource's policy file may approve; @\u200b?bob is not one of them/,
    );
    assert.equal((await stateOf(n)).approvals.length, 0);
  });

  it("a plain /approve where the policy requires step-up is refused (step_up_required) and says how to sign", async () => {
    const n = await request("dave", database);
    const text = await command("bob", n, "/approve");
    assert.match(text, /refused \(`step_up_required`\)/);
    assert.match(text, /breakglass approve/);
    assert.equal((await stateOf(n)).approvals.length, 0);
  });

  it("only the requester may cancel (not_requester)", async () => {
    const n = await request("dave", rollback);
    assert.match(
      await command("grace", n, "/cancel"),
      /refused \(`not_requester`\): Only the person who opened the request can cancel it/,
    );
    assert.equal((await stateOf(n)).status, "requested");
  });

  it("an /extend without a live grant is refused (not_active)", async () => {
    const n = await request("dave", rollback);
    assert.match(
      await command("dave", n, "/extend 30m the migration is still running"),
      /refused \(`not_active`\)/,
    );
  });

  it("an unknown command gets the list of commands and a refusal (unknown_command)", async () => {
    const n = await request("dave", rollback);
    await command("dave", n, "/aprove");
    const texts = await kit.appTexts(n);
    assert.ok(
      texts.some((t) => t.startsWith("🤔 `/aprove` is not a Breakglass command.")),
      texts.join("\n---\n"),
    );
    assert.match(texts.at(-1)!, /refused \(`unknown_command`\)/);
  });

  it("a second approval by the same person counts once (duplicate_approval), and the first one stands", async () => {
    const n = await request("dave", {
      resource: "aws-production",
      role: "admin",
      duration: "1h",
      severity: "high",
      justification: "Root volume full on the API fleet.",
    });
    assert.equal((await stateOf(n)).required_approvals, 2);
    assert.match(await command("erin", n, "/approve"), /approved request/);
    assert.match(
      await command("erin", n, "/approve"),
      /refused \(`duplicate_approval`\): @\u200b?erin has already approved this request/,
    );
    const state = await stateOf(n);
    assert.equal(state.approvals.length, 1);
    assert.equal(state.status, "requested");
  });

  it("a request that is not valid cannot be approved (invalid_request)", async () => {
    const n = await request("dave", { ...rollback, severity: "critical" });
    assert.equal((await stateOf(n)).status, "invalid");
    assert.match(await command("grace", n, "/approve"), /refused \(`invalid_request`\)/);
  });

  it("the app's own comments are never commands", async () => {
    const n = await request("dave", rollback);
    const before = (await kit.port.listComments(n)).length;
    const own = await kit.port.createComment(n, "/approve");
    await handleCommand(kit.deps, kit.port, await kit.port.getIssue(n), own);
    assert.equal((await kit.port.listComments(n)).length, before + 1, "nothing answered");
    assert.equal((await stateOf(n)).approvals.length, 0);
  });
});

describe("a process that dies between recording a command and posting its comments", () => {
  it("leaves no false tamper alarm: the catch-up posts the missing comments quietly, the sweep finds nothing to restore", async () => {
    const n = await request("tina", rollback);
    const comment = await kit.comment("grace", n, "/approve");
    const runs = () =>
      [...kit.emulator.state.repository.runs.values()].filter((r) => r.inputs.issue === String(n)).length;
    // The first process records the approval and dispatches, then dies posting its first comment.
    const dying: GitHubPort = { ...kit.port, createComment: () => new Promise<never>(() => {}) };
    void handleCommand(kit.deps, dying, await kit.port.getIssue(n), comment);
    for (let i = 0; i < 200 && runs() === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(
      runs(),
      1,
      `the grant workflow was dispatched before the crash: ${JSON.stringify((await stateOf(n)).status)} ${(await kit.appTexts(n)).join("\n---\n")}`,
    );
    assert.equal((await stateOf(n)).status, "approved");
    assert.ok(
      !(await kit.appTexts(n)).some((t) => t.includes("approved request")),
      "its mirror comment was never posted",
    );

    // The restarted process's catch-up handles the unanswered comment as its webhook would.
    await handleCommand(kit.deps, kit.port, await kit.port.getIssue(n), comment);
    assert.equal(runs(), 1, "the catch-up does not dispatch again");
    kit.clock.advance(11 * 60_000); // past MIRROR_SETTLED_MS
    const report = await reconcileRepository(kit.deps, kit.port);
    const texts = await kit.appTexts(n);
    assert.ok(
      texts.some((t) => t.includes("grace") && t.includes("approved request")),
      `the approval comment is there:\n${texts.join("\n---\n")}`,
    );
    assert.ok(!texts.some((t) => t.startsWith("🛡️")), `no tamper notice:\n${texts.join("\n---\n")}`);
    assert.ok(
      texts.some(
        (t) =>
          t.startsWith("ℹ️") &&
          /record comments were missing when the app finished this command after a restart/.test(t) &&
          /someone deleted them while the app was down/.test(t),
      ),
      "the issue says plainly what was put back and why it may have been missing",
    );
    assert.ok(
      !kit.notifier.sent.some((s) => s.notification.event === "records_tampered"),
      "nobody was told of tampering",
    );
    assert.ok(!report.restored.includes(n), "the sweep had nothing to restore");
  });

  it("R2: a record comment deleted while the app was down, before its 🚀, is put back and the issue says it may have been deleted", async () => {
    const n = await request("uma", rollback);
    const comment = await kit.comment("grace", n, "/approve");
    // The first process posts everything but dies before its 🚀.
    const dying: GitHubPort = {
      ...kit.port,
      react: (id, content) =>
        content === "rocket" ? new Promise<never>(() => {}) : kit.port.react(id, content),
    };
    void handleCommand(kit.deps, dying, await kit.port.getIssue(n), comment);
    let mirror: number | undefined;
    for (let i = 0; i < 300 && mirror === undefined; i++) {
      await new Promise((r) => setTimeout(r, 10));
      mirror = (await kit.port.listComments(n)).find(
        (c) => c.user.login === kit.deps.identity.login && c.body.includes("approved request"),
      )?.id;
    }
    assert.ok(mirror, "the approval's record comment was posted");
    const writer = new Octokit({
      auth: kit.emulator.userToken("mallory"),
      baseUrl: kit.emulator.apiUrl,
      request: { fetch: kit.emulator.inProcessFetch },
    });
    await writer.rest.issues.deleteComment({ owner: "acme", repo: "ops", comment_id: mirror }); // its webhook is lost with the app
    await handleCommand(kit.deps, kit.port, await kit.port.getIssue(n), comment); // the restarted app's catch-up
    const texts = await kit.appTexts(n);
    assert.ok(
      texts.some((t) => t.includes("approved request")),
      "the record comment is back",
    );
    assert.ok(
      texts.some((t) => t.startsWith("ℹ️") && t.includes("someone deleted it while the app was down")),
      texts.join("\n---\n"),
    );
  });

  it("R1: a ledger write GitHub applied but answered as failed (409 on the retry) is the app's own: the approval still dispatches", async () => {
    const n = await request("olga", rollback);
    const comment = await kit.comment("heidi", n, "/approve");
    let armed = true;
    const ledger = {
      ...kit.port.ledger,
      append: async (...args: Parameters<GitHubPort["ledger"]["append"]>) => {
        const result = await kit.port.ledger.append(...args);
        if (armed && result.ok) {
          armed = false;
          return { ok: false as const, reason: "conflict" as const };
        }
        return result;
      },
    };
    await handleCommand(kit.deps, { ...kit.port, ledger }, await kit.port.getIssue(n), comment);
    assert.equal(armed, false, "the fault fired");
    const runs = [...kit.emulator.state.repository.runs.values()].filter(
      (r) => r.inputs.issue === String(n),
    ).length;
    assert.equal(runs, 1, `dispatched once: ${(await kit.appTexts(n)).join("\n---\n")}`);
    assert.ok(
      (await kit.appTexts(n)).some((t) => t.includes("approved request")),
      "its record comment is posted",
    );
  });

  it("a record comment deleted by someone is still reported when the catch-up finishes a later command", async () => {
    const n = await request("dave", {
      resource: "aws-production",
      role: "admin",
      duration: "1h",
      severity: "high",
      justification: "Root volume full on the API fleet.",
    });
    const requested = (await kit.port.listComments(n)).find(
      (c) => c.user.login === kit.deps.identity.login && c.body.includes("requests `admin`"),
    );
    assert.ok(requested, "the request's record comment");
    // A writer deletes it while no webhook reaches the app (here: no handler is called for the deletion).
    const writer = new Octokit({
      auth: kit.emulator.userToken("mallory"),
      baseUrl: kit.emulator.apiUrl,
      request: { fetch: kit.emulator.inProcessFetch },
    });
    await writer.rest.issues.deleteComment({ owner: "acme", repo: "ops", comment_id: requested.id });
    const comment = await kit.comment("erin", n, "/approve");
    await handleCommand(kit.deps, kit.port, await kit.port.getIssue(n), comment);
    await handleCommand(kit.deps, kit.port, await kit.port.getIssue(n), comment); // the catch-up, again
    kit.clock.advance(11 * 60_000); // past MIRROR_SETTLED_MS
    const report = await reconcileRepository(kit.deps, kit.port);
    assert.ok(
      !(await kit.port.listComments(n)).some((c) => c.id === requested.id) || report.restored.includes(n),
      "deleted, then restored",
    );
    assert.ok(
      report.restored.includes(n),
      "the deleted record comment is restored and reported by the sweep",
    );
    assert.ok(
      (await kit.appTexts(n)).some((t) => t.startsWith("🛡️")),
      "and the issue says so",
    );
  });
});
