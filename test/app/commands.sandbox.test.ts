/**
 * Approval rules and commands through the real app in the sandbox. Grant workflows are not run here
 * (runWorkflows: false): these tests stop at "approved", and lifecycle/expiry tests cover the grant.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { requestFormBody } from "../../src/sandbox/request-body.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import { sandboxHelpers } from "../support/sandbox-helpers.ts";

const owner = "acme";
const repo = "ops";
let sb: Sandbox;

const { approve, openRequest, say, appTexts, issueOf, labelsOf, stateOf, reactions } = sandboxHelpers(
  () => sb,
);
async function statusComment(n: number): Promise<string> {
  return (await appTexts(n)).find((t) => t.startsWith("<!-- breakglass:status")) ?? "";
}
/** Posts a command and checks it was refused with this reason code: 👀 + 👎 and a reply naming the code. */
async function expectRefused(who: string, n: number, body: string, code: string): Promise<void> {
  const before = (await appTexts(n)).length;
  const id = await say(who, n, body);
  assert.deepEqual(await reactions(id), ["-1", "eyes"], `${who}: ${body}`);
  const replies = (await appTexts(n)).slice(before);
  assert.ok(
    replies.some((t) => t.includes(`\`${code}\``) && t.replace(/\\/g, "").includes(who)),
    `expected a refusal with \`${code}\` for ${who}; got:\n${replies.join("\n---\n")}`,
  );
}

before(async () => {
  sb = await startSandbox({ runWorkflows: false });
});
after(() => sb.close());

describe("who may approve (model-rollback: 1 approval from @acme/ai-governance)", () => {
  let n: number;
  before(async () => {
    n = await openRequest("dave", {
      resource: "model-rollback",
      role: "rollback",
      duration: "20m",
      severity: "high",
    });
  });

  it("the requester cannot approve their own request", async () => {
    await expectRefused("dave", n, "/approve", "self_approval");
    assert.equal((await stateOf(n)).approvals.length, 0);
  });

  it("someone who is not a CODEOWNER of the policy cannot approve", async () => {
    await expectRefused("mallory", n, "/approve looks fine to me", "not_codeowner");
    assert.equal((await stateOf(n)).approvals.length, 0);
  });

  it("a member of the owning team with only read permission cannot approve", async () => {
    sb.emulator.setPermission("heidi", "read");
    try {
      await expectRefused("heidi", n, "/approve", "insufficient_permission");
    } finally {
      sb.emulator.setPermission("heidi", "write");
    }
    assert.equal((await stateOf(n)).approvals.length, 0);
  });

  it("a bot cannot approve", async () => {
    await expectRefused("github-actions[bot]", n, "/approve", "bot_approver");
    assert.equal((await stateOf(n)).approvals.length, 0);
  });

  it("a command that is not at the start of the comment is ignored (no reaction, no approval)", async () => {
    const before = (await appTexts(n)).length;
    const id = await say("grace", n, "I was going to write /approve but let me check first");
    assert.deepEqual(await reactions(id), []);
    assert.equal((await appTexts(n)).length, before, "no reply");
    assert.equal((await stateOf(n)).approvals.length, 0);
  });

  it("an unknown command gets the help text and 👎", async () => {
    const before = (await appTexts(n)).length;
    const id = await say("grace", n, "/approvee now");
    assert.deepEqual(await reactions(id), ["-1", "eyes"]);
    const replies = (await appTexts(n)).slice(before);
    assert.ok(
      replies.some((t) => t.includes("is not a Breakglass command") && t.includes("/approve")),
      replies.join("\n---\n"),
    );
    assert.ok(replies.some((t) => t.includes("`unknown_command`")));
    assert.equal((await stateOf(n)).approvals.length, 0);
  });

  it("a member of the owning team approves, via the team, and the request is approved", async () => {
    const id = await approve("grace", n, "confirmed with the IC");
    assert.deepEqual(await reactions(id), ["eyes", "rocket"]);
    const texts = await appTexts(n);
    assert.ok(
      texts.some((t) => /✅ @grace \(via @\u200b?acme\/ai-governance\) approved request/.test(t)),
      texts.join("\n---\n"),
    );
    const s = await stateOf(n);
    assert.equal(s.status, "approved");
    assert.deepEqual(
      s.approvals.map((a) => a.actor),
      ["grace"],
    );
    const labels = await labelsOf(n);
    assert.ok(
      labels.includes("breakglass:approved") && !labels.includes("breakglass:requested"),
      labels.join(", "),
    );
    assert.match(await statusComment(n), /1 of 1|@grace/);
  });
});

describe("N-of-M (prod-database write: 2 distinct approvers from @acme/dba)", () => {
  it("one person approving twice counts once; a second person completes it", async () => {
    const n = await openRequest("erin", {
      resource: "prod-database",
      role: "write",
      duration: "1h",
      severity: "critical",
    });
    assert.equal((await stateOf(n)).required_approvals, 2);
    const first = await approve("bob", n);
    assert.deepEqual(await reactions(first), ["eyes", "rocket"]);
    assert.ok((await appTexts(n)).some((t) => t.includes("✅ @bob") && t.includes("1 of 2")));
    assert.equal((await stateOf(n)).status, "requested");
    await expectRefused("bob", n, "/approve again, to be sure", "duplicate_approval");
    let s = await stateOf(n);
    assert.equal(s.approvals.length, 1);
    assert.equal(s.status, "requested");
    assert.match(await statusComment(n), /1 of 2/);

    await approve("carol", n);
    s = await stateOf(n);
    assert.equal(s.status, "approved");
    assert.deepEqual(s.approvals.map((a) => a.actor).sort(), ["bob", "carol"]);
    assert.ok((await labelsOf(n)).includes("breakglass:approved"));
  });

  it("editing the request after one approval voids it and says so", async () => {
    const n = await openRequest("erin", {
      resource: "prod-database",
      role: "write",
      duration: "1h",
      severity: "critical",
    });
    await approve("bob", n);
    assert.equal((await stateOf(n)).approvals.length, 1);
    await sb.as("erin").rest.issues.update({
      owner,
      repo,
      issue_number: n,
      body: requestFormBody({
        resource: "prod-database",
        role: "write",
        duration: "4h",
        severity: "critical",
      }),
    });
    await sb.settle();
    const texts = await appTexts(n);
    assert.ok(
      texts.some((t) => /1 earlier approval\(s\) no longer count/.test(t)),
      texts.join("\n---\n"),
    );
    const s = await stateOf(n);
    assert.equal(s.approvals.length, 0);
    assert.equal(s.voided_approvals.length, 1);
    assert.equal(s.request?.duration_seconds, 4 * 3600);
    assert.equal(s.status, "requested");
    assert.match(await statusComment(n), /0 of 2/);
    // bob may approve the new content again, and it then counts.
    await approve("bob", n);
    assert.equal((await stateOf(n)).approvals.length, 1);
  });

  it("editing an approval comment withdraws that approval; the edited text is no command", async () => {
    const n = await openRequest("erin", {
      resource: "prod-database",
      role: "write",
      duration: "1h",
      severity: "critical",
    });
    const id = await approve("bob", n);
    assert.equal((await stateOf(n)).approvals.length, 1);
    await sb.as("bob").rest.issues.updateComment({ owner, repo, comment_id: id, body: "/approve (edited)" });
    await sb.settle();
    assert.ok(
      (await appTexts(n)).some(
        (t) => t.includes("approval by @bob no longer counts") && t.includes("edited"),
      ),
    );
    const s = await stateOf(n);
    assert.equal(s.approvals.length, 0);
    assert.match(await statusComment(n), /0 of 2/);
    // Carol then approves: still only 1 of 2, the edited comment does not come back.
    await approve("carol", n);
    assert.equal((await stateOf(n)).status, "requested");
  });

  it("deleting an approval comment withdraws that approval", async () => {
    const n = await openRequest("ivan", {
      resource: "prod-database",
      role: "write",
      duration: "1h",
      severity: "critical",
    });
    const id = await approve("carol", n);
    assert.equal((await stateOf(n)).approvals.length, 1);
    await sb.as("carol").rest.issues.deleteComment({ owner, repo, comment_id: id });
    await sb.settle();
    assert.ok(
      (await appTexts(n)).some(
        (t) => t.includes("approval by @carol no longer counts") && t.includes("deleted"),
      ),
    );
    assert.equal((await stateOf(n)).approvals.length, 0);
  });

  it("an edit that turns a plain comment into /approve creates no approval", async () => {
    const n = await openRequest("ivan", {
      resource: "prod-database",
      role: "read",
      duration: "1h",
      severity: "critical",
    });
    const id = await say("bob", n, "looking at it");
    await sb.as("bob").rest.issues.updateComment({ owner, repo, comment_id: id, body: "/approve" });
    await sb.settle();
    assert.equal((await stateOf(n)).approvals.length, 0);
    assert.deepEqual(await reactions(id), []);
    assert.ok((await appTexts(n)).some((t) => t.includes("commands in edited comments are ignored")));
  });
});

describe("deny and cancel", () => {
  it("/deny <reason> by an owner closes the request as not planned", async () => {
    const n = await openRequest("rita", { resource: "model-rollback", role: "rollback", duration: "20m" });
    const id = await say("heidi", n, "/deny use the feature flag instead, no rollback needed");
    assert.deepEqual(await reactions(id), ["eyes", "rocket"]);
    const issue = await issueOf(n);
    assert.equal(issue.state, "closed");
    assert.equal(issue.state_reason, "not_planned");
    const s = await stateOf(n);
    assert.equal(s.status, "denied");
    assert.equal(s.denial?.actor, "heidi");
    assert.ok((await labelsOf(n)).includes("breakglass:denied"));
    assert.ok((await appTexts(n)).some((t) => t.includes("⛔ @heidi denied") && t.includes("feature flag")));
  });

  it("/deny by someone who is not an owner is refused", async () => {
    const n = await openRequest("rita", { resource: "model-rollback", role: "rollback", duration: "20m" });
    await expectRefused("mallory", n, "/deny I do not like it", "not_codeowner");
    assert.equal((await issueOf(n)).state, "open");
    assert.equal((await stateOf(n)).status, "requested");
  });

  it("/cancel by someone else is refused; /cancel by the requester closes it as not planned", async () => {
    const n = await openRequest("mallory", { resource: "model-rollback", role: "rollback", duration: "20m" });
    await expectRefused("grace", n, "/cancel", "not_requester");
    assert.equal((await issueOf(n)).state, "open");
    const id = await say("mallory", n, "/cancel fixed itself");
    assert.deepEqual(await reactions(id), ["eyes", "rocket"]);
    const issue = await issueOf(n);
    assert.equal(issue.state, "closed");
    assert.equal(issue.state_reason, "not_planned");
    assert.equal((await stateOf(n)).status, "cancelled");
    assert.ok((await labelsOf(n)).includes("breakglass:cancelled"));
  });

  it("/status answers without changing anything", async () => {
    const n = await openRequest("olga", { resource: "model-rollback", role: "rollback", duration: "20m" });
    const id = await say("mallory", n, "/status");
    assert.deepEqual(await reactions(id), ["eyes", "rocket"]);
    assert.ok((await appTexts(n)).some((t) => t.includes("ℹ️ @mallory") && t.includes("requested")));
    assert.equal((await stateOf(n)).status, "requested");
  });
});
