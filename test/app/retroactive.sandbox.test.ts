/**
 * Retroactive records (issue 21): access taken outside Breakglass while GitHub or the app was down is
 * recorded afterwards as a request marked retroactive. Nothing is ever minted for it; it needs the
 * policy's approvals after the fact, then it closes and its post-event review opens.
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import { sandboxHelpers, withoutStepUp } from "../support/sandbox-helpers.ts";

let sb: Sandbox;
const h = sandboxHelpers(() => sb);
before(async () => {
  sb = await startSandbox(); // 2026-11-24T09:00Z
  withoutStepUp(sb);
});
after(() => sb.close());

const retro = (resource: string, role: string, justification: string) => ({
  resource,
  role,
  severity: "critical",
  justification,
  incident: "https://status.example.com/incidents/77",
  retroactive: { started: "2026-11-24T06:10Z", ended: "2026-11-24T07:05Z" },
});
const grantRuns = () =>
  [...sb.emulator.state.repository.runs.values()].filter((r) => r.path.endsWith("/breakglass-grant.yml"));

let recorded = 0;

it("a retroactive record is recorded as such, dispatches nothing, and A223: /break-glass does not approve it", async () => {
  const runsBefore = grantRuns().length;
  recorded = await h.openRequest(
    "dave",
    retro(
      "model-rollback",
      "rollback",
      "GitHub was down; rolled the model back by hand with the sealed key.",
    ),
  );
  const state = await h.stateOf(recorded);
  assert.equal(state.status, "requested", (await h.appTexts(recorded)).join("\n---\n"));
  assert.deepEqual(state.request?.retroactive, {
    started_at: "2026-11-24T06:10:00.000Z",
    ended_at: "2026-11-24T07:05:00.000Z",
  });
  assert.equal(state.request?.duration_seconds, 55 * 60);
  const texts = (await h.appTexts(recorded)).join("\n");
  assert.match(texts, /records \*\*retroactively\*\*/);
  assert.match(texts, /No credentials are issued for a retroactive record/);
  const id = await h.say("dave", recorded, "/break-glass GitHub was down and nobody could approve in time");
  assert.deepEqual(await h.reactions(id), ["-1", "eyes"]);
  assert.match((await h.appTexts(recorded)).at(-1)!, /`retroactive_record`/);
  assert.equal((await h.stateOf(recorded)).status, "requested");
  assert.equal(grantRuns().length, runsBefore, "nothing dispatched");
});

it("A224: a grant workflow run on a retroactive record gets nothing, before or after its approval", async () => {
  const early = await sb.runGrantWorkflow(recorded);
  assert.notEqual(early.exitCode, 0);
  assert.equal(Object.keys(early.env).length, 0, JSON.stringify(early.env));
  await h.say("grace", recorded, "/approve confirmed with the incident commander");
  const state = await h.stateOf(recorded);
  assert.equal(state.status, "recorded", (await h.appTexts(recorded)).join("\n---\n"));
  assert.equal(state.grant, null);
  const late = await sb.runGrantWorkflow(recorded);
  assert.notEqual(late.exitCode, 0);
  assert.equal(Object.keys(late.env).length, 0);
  assert.equal((await h.stateOf(recorded)).grant, null);
  assert.ok(
    (await h.appTexts(recorded)).some((t) => /refused\*\* \(`retroactive_record`\)/.test(t)),
    (await h.appTexts(recorded)).join("\n---\n"),
  );
});

it("once approved it is closed and its post-event review opens", async () => {
  await sb.settle();
  const state = await h.stateOf(recorded);
  assert.ok(state.closed);
  assert.ok(state.review_issue, "a review issue");
  assert.equal((await h.issueOf(recorded)).state, "closed");
  assert.ok((await h.labelsOf(recorded)).includes("breakglass:recorded"));
  const review = await h.issueOf(state.review_issue!);
  assert.match(review.title, new RegExp(`^\\[breakglass audit\\] Review #${recorded}`));
  assert.match(review.body ?? "", /Retroactive record/);
});

it("a denied retroactive record is closed and reviewed too", async () => {
  const n = await h.openRequest(
    "rita",
    retro(
      "model-guardrail-override",
      "override",
      "The app was down; disabled the classifier from the console.",
    ),
  );
  await h.say("heidi", n, "/deny this should have waited for the app to come back");
  await sb.settle();
  const state = await h.stateOf(n);
  assert.equal(state.status, "denied");
  assert.ok(state.closed);
  assert.ok(state.review_issue);
});

it("A225: a retroactive marker forged into a normal request's text makes nothing retroactive, and an edit by someone else cannot make it one", async () => {
  const n = await h.openRequest("dave", {
    resource: "model-guardrail-override",
    role: "override",
    duration: "30m",
    severity: "critical",
    justification:
      "Classifier blocks every answer. <!-- breakglass:retroactive --> Retroactive record: [x] This records access already taken outside Breakglass",
  });
  let state = await h.stateOf(n);
  assert.equal(state.request?.retroactive, undefined);
  assert.doesNotMatch((await h.appTexts(n)).join("\n"), /records \*\*retroactively\*\*|\| Retroactive \|/);
  // A writer adds the retroactive section to someone else's request: an edit by another, refused.
  const body = (await h.issueOf(n)).body ?? "";
  await sb.as("mallory").rest.issues.update({
    owner: "acme",
    repo: "ops",
    issue_number: n,
    body: `${body}\n### Retroactive record\n\n- [x] This records access already taken outside Breakglass\n\n### Started (retroactive only)\n\n2026-11-24T06:00Z\n\n### Ended (retroactive only)\n\n2026-11-24T07:00Z\n`,
  });
  await sb.settle();
  state = await h.stateOf(n);
  assert.equal(state.request?.retroactive, undefined);
  await h.say("grace", n, "/approve");
  assert.equal((await h.stateOf(n)).status, "active", "a normal request is granted as usual");
});

it("bad retroactive times are refused with what to write", async () => {
  const n = await h.openRequest("dave", {
    ...retro(
      "model-rollback",
      "rollback",
      "GitHub was down; rolled the model back by hand with the sealed key.",
    ),
    retroactive: { started: "yesterday", ended: "2026-11-24T07:05Z" },
  });
  assert.equal((await h.stateOf(n)).status, "invalid");
  assert.match((await h.appTexts(n)).join("\n"), /not a time with a zone/);
  const future = await h.openRequest("dave", {
    ...retro(
      "model-rollback",
      "rollback",
      "GitHub was down; rolled the model back by hand with the sealed key.",
    ),
    retroactive: { started: "2026-11-24T06:00Z", ended: "2026-11-25T07:05Z" },
  });
  assert.equal((await h.stateOf(future)).status, "invalid");
  assert.match((await h.appTexts(future)).join("\n"), /ends in the future/);
});
