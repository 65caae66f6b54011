/**
 * The sweep reads a live grant in full only when its ledger version changed or something is due:
 * the steady state is the listings alone, and the shortcut never hides an expiry or a new entry.
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { reconcileRepository } from "../../src/app/grant/reconcile.ts";
import {
  SANDBOX_OWNER as owner,
  SANDBOX_REPO as repo,
  startSandbox,
  type Sandbox,
} from "../../src/sandbox/start-sandbox.ts";
import { sandboxHelpers, withoutStepUp } from "../support/sandbox-helpers.ts";

let sb: Sandbox;
const { openRequest, say, stateOf } = sandboxHelpers(() => sb);

before(async () => {
  sb = await startSandbox();
  withoutStepUp(sb); // this suite is about sweep memo, not step-up
});
after(() => sb.close());

const appCalls = () =>
  sb.emulator.apiRequests.filter((r) => r.tokenKind === "installation" || r.tokenKind === "app");

it("a second sweep over unchanged live grants makes only the two listings; a grant past its expiry or with a new entry is read and acted on", async () => {
  const form = {
    resource: "model-guardrail-override",
    role: "override",
    duration: "30m",
    severity: "critical",
  } as const;
  const a = await openRequest("erin", form);
  await say("grace", a, "/approve");
  const b = await openRequest("ivan", { ...form, duration: "1h" });
  await say("grace", b, "/approve");
  assert.equal((await stateOf(a)).status, "active");
  assert.equal((await stateOf(b)).status, "active");
  const port = (await sb.app.portFor(owner, repo))!;
  await reconcileRepository(sb.app.deps, port);
  const before = appCalls().length;
  const steady = await reconcileRepository(sb.app.deps, port);
  const calls = appCalls().slice(before);
  assert.deepEqual(
    calls.map(
      (r) =>
        `${r.route} ${decodeURIComponent(r.path).replace(/^.*matching-refs\/heads\/([a-z]+)\/.*$/, "$1")}`,
    ),
    [
      "/repos/{owner}/{repo}/git/matching-refs/{ref} open",
      "/repos/{owner}/{repo}/git/matching-refs/{ref} orphans",
      "/repos/{owner}/{repo}/git/matching-refs/{ref} requests",
      // The month's access review is open (the sandbox opens them as a deployment does): every sweep
      // reads its records and its issue to catch up what a lost webhook missed; nothing per grant.
      "/repos/{owner}/{repo}/git/ref/{ref} /repos/acme/breakglass-ledger/git/ref/heads/access-reviews/acme/ops/2026-11",
      "/repos/{owner}/{repo}/issues/{issue_number} /repos/acme/ops/issues/3",
      "/repos/{owner}/{repo}/issues/{issue_number}/comments /repos/acme/ops/issues/3/comments",
    ],
    "the index, the owed credentials and the versions, and the open access review: nothing per grant",
  );
  assert.equal(steady.scheduled.length, 2, "both grants still scheduled");

  // A new entry on b (a /revoke) changes its version; a's expiry passes on a clock whose timers did not fire.
  await say("ivan", b, "/revoke");
  sb.clock.advance(31 * 60_000);
  const after = await reconcileRepository(sb.app.deps, port);
  await sb.settle();
  assert.ok(after.revoked.includes(a), "the overdue grant was read and revoked despite the memo");
  assert.equal((await stateOf(a)).status, "expired");
  assert.equal((await stateOf(b)).status, "revoked");
});
