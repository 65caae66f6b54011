/**
 * Intake under GitHub's real delivery rules: a new issue's `opened` already carries its labels and
 * is followed by `labeled`; deliveries are concurrent and out of order (the emulator sends the
 * newest first); and with two replicas, each delivery may land on either, or on both.
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { readHistory } from "../../src/github/issue-records.ts";
import type { RunningServer } from "../../src/app/server.ts";
import { requestFormBody } from "../../src/sandbox/request-body.ts";
import {
  SANDBOX_OWNER as owner,
  SANDBOX_REPO as repo,
  startSandbox,
  type Sandbox,
} from "../../src/sandbox/start-sandbox.ts";
import { startLoadBalancer } from "../support/load-balancer.ts";
import { sandboxHelpers } from "../support/sandbox-helpers.ts";

let sb: Sandbox;
let b: RunningServer;
let lb: Awaited<ReturnType<typeof startLoadBalancer>>;
let mode: "round-robin" | "both" = "round-robin";
let turn = 0;
const { appTexts } = sandboxHelpers(() => sb);

before(async () => {
  sb = await startSandbox({ runWorkflows: false, webhookDelivery: "concurrent" });
  b = await sb.startReplica();
  lb = await startLoadBalancer(sb, (webhook) => {
    const replicas = [sb.app.url, b.url];
    return webhook && mode === "both" ? replicas : [replicas[turn++ % 2]!];
  });
});
after(async () => {
  await lb.close();
  await sb.close();
});

async function history(n: number) {
  return readHistory((await sb.app.portFor(owner, repo))!, n, sb.app.deps.identity, sb.app.deps.jwks);
}
const statusComments = async (n: number) =>
  (await appTexts(n)).filter((t) => t.startsWith("<!-- breakglass:status"));

for (const m of ["round-robin", "both"] as const) {
  it(`opened (with its label) and labeled, concurrent and newest first, ${m === "both" ? "each to both replicas" : "spread over two replicas"}: one request record, one status comment`, async () => {
    mode = m;
    const { data } = await sb.as("dave").rest.issues.create({
      owner,
      repo,
      title: "[breakglass] prod-database read",
      labels: ["breakglass"],
      body: requestFormBody({ resource: "prod-database", role: "read", duration: "30m" }),
    });
    await sb.settle();
    const h = await history(data.number);
    assert.equal(h.events.filter((e) => e.type === "requested").length, 1, "one request record counts");
    assert.equal(h.state.status, "requested");
    assert.ok(
      h.problems.every((p) => /^record seq \d+ skipped/.test(p)),
      h.problems.join("; "),
    );
    assert.equal((await statusComments(data.number)).length, 1, "one status comment");
  });
}

it("an edit racing the opened delivery: the record is of the issue as it is now, never the older body", async () => {
  mode = "round-robin";
  const { data } = await sb.as("dave").rest.issues.create({
    owner,
    repo,
    title: "[breakglass] prod-database",
    labels: ["breakglass"],
    body: requestFormBody({ resource: "prod-database", role: "read", duration: "30m" }),
  });
  await sb.as("dave").rest.issues.update({
    owner,
    repo,
    issue_number: data.number,
    body: requestFormBody({ resource: "prod-database", role: "write", duration: "45m" }),
  });
  await sb.settle();
  const h = await history(data.number);
  assert.equal(h.state.request?.role, "write", "the last body is what is requested");
  assert.equal(h.state.request?.duration_seconds, 45 * 60);
  assert.equal((await statusComments(data.number)).length, 1);
});
