/**
 * Webhooks are answered 202 before their work runs. A process that dies in between has told GitHub
 * the delivery succeeded, so GitHub never sends it again: the restarted app must find that work
 * itself (start-up catch-up) and do it exactly once.
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { requestFormBody } from "../../src/sandbox/request-body.ts";
import {
  SANDBOX_OWNER as owner,
  SANDBOX_REPO as repo,
  startSandbox,
  type Sandbox,
} from "../../src/sandbox/start-sandbox.ts";
import { sandboxHelpers, withoutStepUp } from "../support/sandbox-helpers.ts";

let sb: Sandbox;
const { openRequest, stateOf, appTexts, reactions } = sandboxHelpers(() => sb);
const form = {
  resource: "model-guardrail-override",
  role: "override",
  duration: "30m",
  severity: "critical",
} as const;

before(async () => {
  sb = await startSandbox();
  withoutStepUp(sb); // this suite is about crash after ack, not step-up
});
after(() => sb.close());

/** Lets GitHub's deliveries be answered but no work start, then kills the app (the answered work is lost with it). */
async function crashAfterAck(act: () => Promise<void>): Promise<void> {
  sb.app.intake.pause();
  const before = sb.emulator.deliveries.length;
  await act();
  await sb.emulator.waitForIdle();
  const answered = sb.emulator.deliveries.slice(before);
  assert.ok(answered.length > 0, "GitHub delivered the event");
  assert.ok(
    answered.every((d) => d.status === 202),
    `every delivery was acknowledged: ${answered.map((d) => `${d.event}.${d.action}=${d.status}`).join(", ")}`,
  );
  assert.equal(sb.app.intake.pending(), answered.length, "and none of their work has started");
  await sb.stopApp();
}

it("an /approve acknowledged and then lost to a crash is done by the restarted app: approved, dispatched, granted once", async () => {
  const n = await openRequest("erin", form);
  assert.equal((await stateOf(n)).status, "requested");
  let approval = 0;
  await crashAfterAck(async () => {
    approval = (
      await sb.as("grace").rest.issues.createComment({ owner, repo, issue_number: n, body: "/approve" })
    ).data.id;
  });
  assert.equal((await stateOf(n)).status, "requested", "nothing was done before the crash");
  await sb.startApp();
  const state = await stateOf(n);
  assert.equal(
    state.status,
    "active",
    "the lost approval was recorded and the grant workflow dispatched and collected",
  );
  assert.deepEqual(await reactions(approval), ["eyes", "rocket"], "the approval is answered once");
  assert.equal(sb.runs.filter((r) => r.issue === n).length, 1, "one grant workflow run");
  // A second restart finds nothing left to do: the answered approval is not handled again.
  const texts = (await appTexts(n)).length;
  await sb.stopApp();
  await sb.startApp();
  assert.equal((await appTexts(n)).length, texts, "no new comment from a second catch-up");
  assert.equal(sb.runs.filter((r) => r.issue === n).length, 1, "still one run");
});

it("a request opened while its acknowledged work was lost is recorded by the restarted app", async () => {
  let n = 0;
  await crashAfterAck(async () => {
    n = (
      await sb.as("dave").rest.issues.create({
        owner,
        repo,
        title: "[breakglass] model-guardrail-override override",
        labels: ["breakglass"],
        body: requestFormBody(form),
      })
    ).data.number;
  });
  assert.equal((await stateOf(n)).status, "new", "no record before the crash");
  await sb.startApp();
  assert.equal((await stateOf(n)).status, "requested", "recorded at start-up");
  assert.ok(
    (await appTexts(n)).some((t) => /breakglass:status/.test(t) || /Waiting|approv/i.test(t)),
    "the requester got the status comment",
  );
});

it("an unrecorded request whose issue changed since it was opened is not taken on trust: the requester is asked to save it", async () => {
  let n = 0;
  await crashAfterAck(async () => {
    n = (
      await sb.as("dave").rest.issues.create({
        owner,
        repo,
        title: "[breakglass] model-guardrail-override override",
        labels: ["breakglass"],
        body: requestFormBody(form),
      })
    ).data.number;
  });
  // Someone with write access edits the body while the app is down; the listing cannot say who.
  sb.clock.advance(60_000);
  await sb
    .as("mallory")
    .rest.issues.update({ owner, repo, issue_number: n, body: requestFormBody({ ...form, duration: "8h" }) });
  await sb.startApp();
  assert.equal((await stateOf(n)).status, "new", "nothing recorded from a body of unknown authorship");
  assert.ok(
    (await appTexts(n)).some((t) => /cannot tell who wrote the body/.test(t)),
    "the requester is told to save it themselves",
  );
});

it("an insider's 🚀 on a lost /approve does not hide it from the catch-up: only the app's own reaction marks a command answered", async () => {
  const n = await openRequest("ivan", form);
  let approval = 0;
  await crashAfterAck(async () => {
    approval = (
      await sb.as("heidi").rest.issues.createComment({ owner, repo, issue_number: n, body: "/approve" })
    ).data.id;
  });
  await sb
    .as("mallory")
    .rest.reactions.createForIssueComment({ owner, repo, comment_id: approval, content: "rocket" });
  await sb.startApp();
  assert.equal((await stateOf(n)).status, "active", "the approval was handled despite someone else's 🚀");
});
