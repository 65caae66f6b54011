/**
 * Fault injection with the app's rate-limit handling on, as deployed (Octokit's throttling plugin,
 * without the write spacing that would only slow the tests): GitHub answers 429 or a secondary rate
 * limit with `retry-after`, or answers slowly while the same event is delivered twice. After each:
 * one approval, one grant, the audit chain complete and verified, nothing closed with a live credential.
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { readHistory } from "../../src/github/issue-records.ts";
import {
  SANDBOX_OWNER as owner,
  SANDBOX_REPO as repo,
  startSandbox,
  type Sandbox,
} from "../../src/sandbox/start-sandbox.ts";
import { sandboxHelpers } from "../support/sandbox-helpers.ts";

let sb: Sandbox;
const { approve, openRequest } = sandboxHelpers(() => sb);
before(async () => {
  sb = await startSandbox({ rateLimits: true });
});
after(() => sb.close());

// A requester per test: the policy allows one live grant and two requests a day per person.
const open = (requester: string) =>
  openRequest(requester, {
    resource: "model-guardrail-override",
    role: "override",
    duration: "30m",
    severity: "critical",
  });
async function history(issue: number) {
  return readHistory((await sb.app.portFor(owner, repo))!, issue, sb.app.deps.identity, sb.app.deps.jwks);
}
async function assertOneGrant(issue: number): Promise<void> {
  const h = await history(issue);
  assert.deepEqual(h.problems, [], "the chain is complete and verifies");
  assert.equal(h.state.status, "active");
  assert.equal(h.events.filter((e) => e.type === "approved").length, 1, "one approval");
  assert.equal(h.events.filter((e) => e.type === "granted").length, 1, "one grant");
  assert.equal(sb.runs.filter((r) => r.issue === issue).length, 1, "one grant workflow run");
}

it("a 429 with retry-after on the app's status comment is waited out and retried: one approval, one grant", async () => {
  const issue = await open("erin");
  // Only the app edits comments (its status comment): the fault hits the app, not the approver.
  const fault = sb.emulator.faults.add({
    method: "PATCH",
    route: "/repos/{owner}/{repo}/issues/comments/{comment_id}",
    rateLimit: { retryAfterSeconds: 1, status: 429 },
    times: 1,
  });
  const before = sb.emulator.apiRequests.length;
  const started = performance.now();
  await approve("grace", issue);
  const waited = performance.now() - started;
  fault.remove();
  assert.equal(fault.hits, 1, "GitHub refused once");
  assert.ok(waited >= 900, `the retry honoured retry-after (waited ${Math.round(waited)} ms)`);
  const refused = sb.emulator.apiRequests.slice(before).filter((r) => r.status === 429);
  assert.equal(refused.length, 1);
  await assertOneGrant(issue);
});

it("a secondary rate limit (403 + retry-after) on labels is waited out and retried (Probot alone gives up): the grant still happens", async () => {
  const issue = await open("ivan");
  // The approval's label change (pending off, approved on) is one issue update.
  const fault = sb.emulator.faults.add({
    method: "PATCH",
    route: "/repos/{owner}/{repo}/issues/{issue_number}",
    rateLimit: { retryAfterSeconds: 1, status: 403, kind: "secondary" },
    times: 1,
  });
  await approve("grace", issue);
  fault.remove();
  assert.equal(fault.hits, 1);
  await assertOneGrant(issue);
  const { data } = await sb.as("dave").rest.issues.get({ owner, repo, issue_number: issue });
  assert.ok(data.labels.some((l) => (typeof l === "string" ? l : l.name) === "breakglass:active"));
});

it("a slow GitHub (1.5 s per comment read) while the approval is delivered twice still records it once", async () => {
  const issue = await open("olga");
  const slow = sb.emulator.faults.add({
    method: "GET",
    route: "/repos/{owner}/{repo}/issues/{issue_number}/comments",
    latencyMs: 1500,
  });
  sb.emulator.faults.duplicateWebhooks(
    (w) =>
      w.event === "issue_comment" &&
      (w.payload.comment as { body?: string } | undefined)?.body?.startsWith("/approve slowly\n") === true,
  );
  try {
    await approve("grace", issue, "slowly");
  } finally {
    slow.remove();
    sb.emulator.faults.clear();
  }
  const deliveries = sb.emulator.deliveries.filter(
    (d) =>
      d.event === "issue_comment" &&
      (d.payload.comment as { body?: string } | undefined)?.body?.startsWith("/approve slowly\n") === true,
  );
  assert.equal(deliveries.length, 2, "the approval was delivered twice");
  assert.ok(slow.hits >= 2, "both handlers met the slow reads");
  await assertOneGrant(issue);
});
