/**
 * Edits whose webhook GitHub lost (it never sends a failed delivery again): the body of a recorded
 * request, an approval comment edited or deleted. The emulator drops the delivery; the sweep (also
 * what runs at start-up and in serverless mode's catch-up) must notice from GitHub and do what the
 * delivery would have done. Before catch-up-lost-edits.ts each of these left approvals counting.
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { readHistory } from "../../src/github/issue-records.ts";
import { requestFormBody } from "../../src/sandbox/request-body.ts";
import {
  SANDBOX_OWNER as owner,
  SANDBOX_REPO as repo,
  startSandbox,
  type Sandbox,
} from "../../src/sandbox/start-sandbox.ts";
import { sandboxHelpers, withoutStepUp } from "../support/sandbox-helpers.ts";

let sb: Sandbox;
const { openRequest, say, appTexts } = sandboxHelpers(() => sb);
before(async () => {
  sb = await startSandbox({ runWorkflows: false });
  withoutStepUp(sb);
});
after(() => sb.close());

const history = async (n: number) =>
  readHistory((await sb.app.portFor(owner, repo))!, n, sb.app.deps.identity, sb.app.deps.jwks);
/** The next delivery of this event and action is lost. */
function loseNext(event: string, action: string) {
  sb.emulator.faults.dropWebhooks((w) => {
    if (w.event !== event || w.action !== action) return false;
    sb.emulator.faults.clear();
    return true;
  });
}
async function sweepLater() {
  sb.clock.advance(61_000);
  await sb.app.reconcileAll();
  await sb.settle();
}

it("A176: the requester's edit of the body is lost: the sweep voids the approvals, keeps the recorded request, asks for the edit again; the re-saved edit is recorded", async () => {
  const n = await openRequest("dave", { resource: "prod-database", role: "read", duration: "30m" });
  await say("bob", n, "/approve");
  assert.equal((await history(n)).state.approvals.length, 1);
  loseNext("issues", "edited");
  await sb.as("dave").rest.issues.update({
    owner,
    repo,
    issue_number: n,
    body: requestFormBody({ resource: "prod-database", role: "write", duration: "4h" }),
  });
  await sb.settle();
  assert.ok(
    sb.emulator.deliveries.some((d) => d.dropped && d.action === "edited"),
    "the edit's delivery was lost",
  );
  assert.equal((await history(n)).state.approvals.length, 1, "nothing noticed it yet");
  await say("carol", n, "/approve"); // carol read the new body
  await sweepLater();
  let h = await history(n);
  assert.deepEqual(h.problems, []);
  assert.equal(
    h.state.status,
    "requested",
    "carol's approval of what she read does not complete the old request",
  );
  assert.deepEqual(h.state.approvals, [], "approvals given while the body differed no longer count");
  assert.equal(h.state.request?.role, "read", "the unseen edit is not taken as the requester's");
  assert.ok(
    h.events.some(
      (e) => e.type === "approvals_voided" && e.voided.every((v) => v.reason === "request_edited_unseen"),
    ),
  );
  assert.ok((await appTexts(n)).some((t) => t.includes("never received that edit") && t.includes("@dave")));
  await sweepLater();
  assert.equal((await history(n)).chain.length, h.chain.length, "a second sweep records nothing more");
  // dave saves the edit again, and this delivery arrives.
  await sb.as("dave").rest.issues.update({
    owner,
    repo,
    issue_number: n,
    body: requestFormBody({ resource: "prod-database", role: "write", duration: "3h" }),
  });
  await sb.settle();
  h = await history(n);
  assert.equal(h.state.request?.role, "write");
  assert.equal(h.state.request?.duration_seconds, 3 * 3600);
});

it("A177: a writer's edit of the body is lost: the same (the editor cannot be told), and the writer's text is never the request", async () => {
  const n = await openRequest("dave", { resource: "prod-database", role: "read", duration: "30m" });
  await say("bob", n, "/approve");
  loseNext("issues", "edited");
  await sb.as("mallory").rest.issues.update({
    owner,
    repo,
    issue_number: n,
    body: requestFormBody({ resource: "prod-database", role: "admin", duration: "8h" }),
  });
  await sb.settle();
  await sweepLater();
  const h = await history(n);
  assert.equal(h.state.request?.role, "read");
  assert.deepEqual(h.state.approvals, []);
});

it("A178: an approval comment deleted, another edited, both deliveries lost: the sweep withdraws both approvals", async () => {
  const n = await openRequest("dave", { resource: "prod-database", role: "read", duration: "30m" });
  const bob = await say("bob", n, "/approve");
  sb.clock.advance(2_000); // GitHub's timestamps have a 1-second grain
  const carol = await say("carol", n, "/approve");
  assert.equal((await history(n)).state.status, "approved");
  loseNext("issue_comment", "deleted");
  await sb.as("mallory").rest.issues.deleteComment({ owner, repo, comment_id: bob });
  await sb.settle();
  sb.clock.advance(2_000);
  loseNext("issue_comment", "edited");
  await sb
    .as("mallory")
    .rest.issues.updateComment({ owner, repo, comment_id: carol, body: "/approve (edited)" });
  await sb.settle();
  assert.equal((await history(n)).state.status, "approved", "nothing noticed yet");
  await sweepLater();
  const h = await history(n);
  assert.deepEqual(h.problems, []);
  assert.equal(h.state.status, "requested");
  assert.deepEqual(h.state.approvals, []);
  assert.deepEqual(
    h.events
      .filter((e) => e.type === "approval_withdrawn")
      .map((e) => e.type === "approval_withdrawn" && [e.comment_id, e.reason]),
    [
      [bob, "comment_deleted"],
      [carol, "comment_edited"],
    ],
  );
});
