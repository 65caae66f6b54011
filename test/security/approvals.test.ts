/**
 * Attack catalogue, approvals: every way to make an approval count that should not. The sandbox
 * runs the grant workflow on dispatch, so an approval wrongly counted would mint a real credential.
 * model-guardrail-override needs 1 approval from @acme/ai-governance (grace, heidi);
 * prod-database needs 2 from @acme/dba (bob, carol).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { requestFormBody } from "../../src/sandbox/request-body.ts";
import { SANDBOX_TEAMS, startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import {
  approve,
  appTexts,
  assertNothingGranted,
  historyOf,
  labelsOf,
  openRequest,
  owner,
  refusalFor,
  repo,
  say,
  guardrail,
} from "./attack-kit.ts";

let sb: Sandbox;
const database = { resource: "prod-database", role: "read", duration: "1h", severity: "high" } as const;

before(async () => {
  sb = await startSandbox();
});
after(() => sb.close());

test("A01 self-approval is refused", async () => {
  const n = await openRequest(sb, "heidi", guardrail);
  await approve(sb, "heidi", n, "I own this policy");
  const message = await refusalFor(sb, n, "heidi", "self_approval");
  assert.match(message, /Ask one of the approvers/);
  const h = await assertNothingGranted(sb, n);
  assert.equal(h.state.status, "requested");
  assert.equal(h.state.approvals.length, 0);
});

test("A02 approval by a non-owner is refused", async () => {
  const n = await openRequest(sb, "dave", guardrail);
  await say(sb, "mallory", n, "/approve looks fine");
  const message = await refusalFor(sb, n, "mallory", "not_codeowner");
  assert.match(message, /Only CODEOWNERS/);
  const h = await assertNothingGranted(sb, n);
  assert.equal(h.state.approvals.length, 0);
});

test("A03 approval by a bot account is refused", async () => {
  const n = await openRequest(sb, "rita", guardrail);
  await say(sb, "github-actions[bot]", n, "/approve");
  const texts = await appTexts(sb, n);
  const refusal = texts.find((t) => t.includes("refused (`bot_approver`)"));
  assert.ok(refusal, `a bot_approver refusal; got:\n${texts.join("\n---\n")}`);
  assert.match(refusal, /a person must/);
  const h = await assertNothingGranted(sb, n);
  assert.equal(h.state.approvals.length, 0);
});

test("A04 approval by a CODEOWNER team member with read-only access (outside collaborator) is refused", async () => {
  sb.emulator.setTeamMembers("acme/ai-governance", [...SANDBOX_TEAMS["acme/ai-governance"]!, "olga"]);
  sb.emulator.setPermission("olga", "read");
  try {
    const n = await openRequest(sb, "erin", guardrail);
    await approve(sb, "olga", n);
    const message = await refusalFor(sb, n, "olga", "insufficient_permission");
    assert.match(message, /write access/);
    assert.match(message, /read/);
    const h = await assertNothingGranted(sb, n);
    assert.equal(h.state.approvals.length, 0);
  } finally {
    sb.emulator.setTeamMembers("acme/ai-governance", SANDBOX_TEAMS["acme/ai-governance"]!);
  }
});

test("A05 approval by a member removed from the owning team is refused", async () => {
  sb.emulator.setTeamMembers("acme/ai-governance", ["heidi"]);
  try {
    const n = await openRequest(sb, "ivan", guardrail);
    await approve(sb, "grace", n);
    const message = await refusalFor(sb, n, "grace", "not_codeowner");
    assert.match(message, /grace is not one of them/);
    const h = await assertNothingGranted(sb, n);
    assert.equal(h.state.approvals.length, 0);
  } finally {
    sb.emulator.setTeamMembers("acme/ai-governance", SANDBOX_TEAMS["acme/ai-governance"]!);
  }
});

test("A06 an /approve written into an edited comment is ignored", async () => {
  const n = await openRequest(sb, "sam", guardrail);
  const id = await say(sb, "grace", n, "Looking at the incident now.");
  await sb.as("grace").rest.issues.updateComment({ owner, repo, comment_id: id, body: "/approve" });
  await sb.settle();
  const texts = await appTexts(sb, n);
  assert.ok(
    texts.some((t) => t.includes("commands in edited comments are ignored") && t.includes("@grace")),
    `the app says why; got:\n${texts.join("\n---\n")}`,
  );
  const h = await assertNothingGranted(sb, n);
  assert.equal(h.state.status, "requested");
  assert.equal(h.state.approvals.length, 0);
});

test("A07 an approval whose comment is edited afterwards no longer counts", async () => {
  const n = await openRequest(sb, "dave", database);
  const id = await approve(sb, "bob", n);
  assert.equal((await historyOf(sb, n)).state.approvals.length, 1, "the approval counted at first");
  await sb
    .as("bob")
    .rest.issues.updateComment({ owner, repo, comment_id: id, body: "/approve (edited to add a note)" });
  await sb.settle();
  assert.ok((await appTexts(sb, n)).some((t) => t.includes("no longer counts: its comment was edited")));
  await approve(sb, "carol", n);
  const h = await assertNothingGranted(sb, n);
  assert.equal(h.state.status, "requested", "only carol's approval is left: 1 of 2");
  assert.deepEqual(
    h.state.approvals.map((a) => a.actor),
    ["carol"],
  );
});

test("A08 an approval whose comment is deleted no longer counts", async () => {
  const n = await openRequest(sb, "mallory", database);
  const id = await approve(sb, "bob", n);
  await sb.as("bob").rest.issues.deleteComment({ owner, repo, comment_id: id });
  await sb.settle();
  assert.ok(
    (await appTexts(sb, n)).some(
      (t) =>
        t.includes("no longer counts: its comment was deleted") &&
        t.includes("Approve again in a new comment"),
    ),
  );
  await approve(sb, "carol", n);
  const h = await assertNothingGranted(sb, n);
  assert.equal(h.state.status, "requested");
  assert.deepEqual(
    h.state.approvals.map((a) => a.actor),
    ["carol"],
  );
});

test("A09 a command that is not at the start of the comment does nothing", async () => {
  const n = await openRequest(sb, "erin", { ...database, duration: "45m" });
  for (const body of [
    "LGTM /approve",
    "> /approve\n\nquoting bob",
    "    /approve",
    "```\n/approve\n```",
    "Agreed.\n/approve",
  ]) {
    await say(sb, "bob", n, body);
    await say(sb, "carol", n, body);
  }
  const texts = await appTexts(sb, n);
  assert.ok(
    !texts.some((t) => t.includes("refused (")),
    "a non-command is not even answered as a refused command",
  );
  const h = await assertNothingGranted(sb, n);
  assert.equal(h.state.status, "requested");
  assert.equal(h.state.approvals.length, 0);
});

test("A10 an approval given before the request was valid does not count once it is fixed", async () => {
  const n = await openRequest(sb, "bob", { ...guardrail, role: "" });
  assert.ok((await labelsOf(sb, n)).includes("breakglass:invalid"));
  await say(sb, "grace", n, "/approve");
  const message = await refusalFor(sb, n, "grace", "invalid_request");
  assert.match(message, /after the requester fixes it/);
  await sb.as("bob").rest.issues.update({ owner, repo, issue_number: n, body: requestFormBody(guardrail) });
  await sb.settle();
  const h = await assertNothingGranted(sb, n);
  assert.equal(h.state.status, "requested");
  assert.equal(h.state.approvals.length, 0);
});

for (const [id, field, change] of [
  ["A11", "role", { role: "write" }],
  ["A12", "duration", { duration: "4h" }],
  ["A13", "resource", { resource: "github-admin", role: "admin", duration: "1h" }],
] as const) {
  test(`${id} editing the ${field} after an approval voids the approval`, async () => {
    const requester = { A11: "rita", A12: "ivan", A13: "sam" }[id];
    const n = await openRequest(sb, requester, database);
    await approve(sb, "bob", n, "read access is fine");
    assert.equal((await historyOf(sb, n)).state.approvals.length, 1);
    await sb.as(requester).rest.issues.update({
      owner,
      repo,
      issue_number: n,
      body: requestFormBody({ ...database, ...change }),
    });
    await sb.settle();
    const h = await assertNothingGranted(sb, n);
    assert.equal(h.state.approvals.length, 0, "the approval was for the old request");
    assert.deepEqual(
      h.state.voided_approvals.map((a) => a.actor),
      ["bob"],
    );
    const texts = await appTexts(sb, n);
    assert.ok(
      texts.some(
        (t) => t.includes(`edited by @${requester}`) && t.includes("1 earlier approval(s) no longer count"),
      ),
      `the app says the approval was voided; got:\n${texts.map((t) => t.slice(0, 300)).join("\n---\n")}`,
    );
    if (field !== "resource") {
      // One more approval is still only 1 of 2 for the changed request.
      await approve(sb, "carol", n);
      const after = await assertNothingGranted(sb, n);
      assert.equal(after.state.status, "requested");
      assert.equal(after.state.approvals.length, 1);
    }
  });
}

test("A14 duplicate approvals by one person do not reach N", async () => {
  const n = await openRequest(sb, "heidi", database);
  await approve(sb, "bob", n);
  await approve(sb, "bob", n);
  await say(sb, "BOB", n, "/approve").catch(() => 0);
  const message = await refusalFor(sb, n, "bob", "duplicate_approval");
  assert.match(message, /counts once/);
  const h = await assertNothingGranted(sb, n);
  assert.equal(h.state.status, "requested");
  assert.equal(h.state.approvals.length, 1);
});

test("A15 the requester cannot approve a request through a second comment style (/APPROVE, leading blank lines)", async () => {
  const n = await openRequest(sb, "carol", database);
  await say(sb, "carol", n, "\n\n/APPROVE");
  const message = await refusalFor(sb, n, "carol", "self_approval");
  assert.match(message, /You opened this request/);
  const h = await assertNothingGranted(sb, n);
  assert.equal(h.state.approvals.length, 0);
});
