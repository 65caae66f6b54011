/**
 * The writes a person waits for go first: on `/approve`, the approval's ledger record and the grant
 * workflow's dispatch; the approval's mirror comment, the status comment, labels and the app's 🚀
 * after. Deferred writes are still done before the 🚀, so a handler that fails after the dispatch is
 * finished by the start-up catch-up, once. Labels are one write, and keep labels others added.
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { STATUS_MARKER } from "../../src/core/render-status.ts";
import {
  SANDBOX_OWNER as owner,
  SANDBOX_REPO as repo,
  startSandbox,
  type Sandbox,
} from "../../src/sandbox/start-sandbox.ts";
import { sandboxHelpers, withoutStepUp } from "../support/sandbox-helpers.ts";

let sb: Sandbox;
const { openRequest, stateOf, reactions, labelsOf, appTexts } = sandboxHelpers(() => sb);
const form = {
  resource: "model-guardrail-override",
  role: "override",
  duration: "30m",
  severity: "critical",
} as const;

before(async () => {
  sb = await startSandbox({ runWorkflows: false });
  withoutStepUp(sb); // this suite is about the order of writes, not step-up
});
after(() => sb.close());

const appWrites = (from: number) =>
  sb.emulator.apiRequests
    .slice(from)
    .filter((r) => r.tokenKind === "installation" && r.method !== "GET")
    .map((r) => `${r.method} ${r.route}`);

it("/approve: only the approval's ledger record is written before the dispatch; its mirror comment, the status comment, labels and 🚀 follow", async () => {
  const n = await openRequest("erin", form);
  const from = sb.emulator.apiRequests.length;
  const approval = (
    await sb.as("grace").rest.issues.createComment({ owner, repo, issue_number: n, body: "/approve" })
  ).data.id;
  await sb.settle();
  assert.equal((await stateOf(n)).status, "approved");
  const writes = appWrites(from);
  const dispatch = writes.indexOf("POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches");
  assert.ok(dispatch > 0, `the workflow was dispatched: ${writes.join(", ")}`);
  const before = writes
    .slice(0, dispatch)
    .filter((w) => w !== "POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions");
  assert.deepEqual(
    before,
    ["PUT /repos/{owner}/{repo}/contents/{path}"],
    "the approval's ledger append (one write), then the dispatch",
  );
  const afterDispatch = writes.slice(dispatch + 1);
  assert.ok(
    afterDispatch.includes("POST /repos/{owner}/{repo}/issues/{issue_number}/comments"),
    "the mirror comments follow the dispatch",
  );
  assert.ok(
    afterDispatch.includes("PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}"),
    "so does the status comment's update",
  );
  assert.equal(
    afterDispatch.filter((w) =>
      /labels|PATCH \/repos\/\{owner\}\/\{repo\}\/issues\/\{issue_number\}$/.test(w),
    ).length,
    1,
    "the labels change in one write",
  );
  assert.equal(
    writes.at(-1),
    "POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
    "the app's 🚀 is the last write",
  );
  assert.deepEqual(await reactions(approval), ["eyes", "rocket"]);
  const texts = await appTexts(n);
  assert.ok(
    texts.some((t) => t.startsWith("✅") || t.includes("approved request")),
    "the approval's record comment is there",
  );
  assert.ok(
    texts.some((t) => t.includes("Started the grant workflow")),
    "so is the dispatch's",
  );
});

it("A190: a handler that fails after the dispatch (GitHub refuses the status comment's update) is finished by the start-up catch-up: status, labels and 🚀 written, no second dispatch", async () => {
  const n = await openRequest("ivan", form);
  const status = (await sb.as("dave").rest.issues.listComments({ owner, repo, issue_number: n })).data.find(
    (c) => c.user?.login === sb.appLogin && c.body?.startsWith(STATUS_MARKER),
  );
  assert.ok(status, "the request has its status comment");
  const refused = sb.emulator.faults.add({
    method: "PATCH",
    route: "/repos/{owner}/{repo}/issues/comments/{comment_id}",
    status: 403,
    times: 1,
  });
  const approval = (
    await sb.as("grace").rest.issues.createComment({ owner, repo, issue_number: n, body: "/approve" })
  ).data.id;
  await sb.settle();
  refused.remove();
  assert.equal(refused.hits, 1, "the status comment's update was refused");
  assert.equal((await stateOf(n)).status, "approved", "the approval was recorded before");
  const runs = () =>
    [...sb.emulator.state.repository.runs.values()].filter((r) => r.inputs.issue === String(n)).length;
  assert.equal(runs(), 1, "and the workflow dispatched");
  assert.deepEqual(await reactions(approval), ["eyes"], "but the command is not answered");
  assert.ok((await labelsOf(n)).includes("breakglass:requested"), "labels not yet moved");

  await sb.stopApp();
  await sb.startApp();
  assert.deepEqual(
    await reactions(approval),
    ["eyes", "rocket"],
    "answered by the restarted app, without a refusal",
  );
  assert.ok(
    !(await appTexts(n)).some((t) => t.startsWith("👎")),
    "the recorded approval is not decided again",
  );
  assert.equal(runs(), 1, "no second dispatch");
  const labels = await labelsOf(n);
  assert.ok(
    labels.includes("breakglass:approved") && !labels.includes("breakglass:requested"),
    `labels show the ledger's state: ${labels.join(", ")}`,
  );
  const body =
    (await sb.as("dave").rest.issues.getComment({ owner, repo, comment_id: status.id })).data.body ?? "";
  assert.match(body, /approved/i, "the status comment shows the approval");
});

it("A191: a label a triager put on a request is kept when the app moves its own labels in one write", async () => {
  const n = await openRequest("dave", form);
  await sb.as("sam").rest.issues.addLabels({ owner, repo, issue_number: n, labels: ["sev1"] });
  await sb.settle();
  await sb.as("grace").rest.issues.createComment({ owner, repo, issue_number: n, body: "/approve" });
  await sb.settle();
  const labels = await labelsOf(n);
  assert.ok(labels.includes("sev1"), `the triager's label stays: ${labels.join(", ")}`);
  assert.ok(
    labels.includes("breakglass:approved") && !labels.includes("breakglass:requested"),
    labels.join(", "),
  );
});
