/**
 * The app killed and restarted (fault injection): its timers, its JWT revocation list and its caches
 * are gone; only GitHub (the signed records) and the clock remain. After each scenario the invariants
 * hold: the chain is complete and verifies, no grant outlives its expiry once the app is back, no
 * issue is closed with a live credential, and exactly one review per ended grant.
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

const MIN = 60_000;
let sb: Sandbox;
let killDuringJob: number | null = null;
const { approve, openRequest, issueOf } = sandboxHelpers(() => sb);

before(async () => {
  sb = await startSandbox({
    holdJob: async (_env, issue) => {
      if (issue === killDuringJob) await sb.stopApp();
    },
  });
});
after(() => sb.close());

async function granted(who: string): Promise<{ n: number; token: string }> {
  const n = await openRequest(who, {
    resource: "model-guardrail-override",
    role: "override",
    duration: "30m",
    severity: "critical",
  });
  await approve("grace", n);
  const run = sb.runs.find((r) => r.issue === n);
  assert.ok(run, "the grant workflow ran");
  const action = await run.result;
  return { n, token: action.env.BREAKGLASS_TOKEN ?? "" };
}
async function assertInvariants(n: number, status: string): Promise<void> {
  const h = await readHistory(
    (await sb.app.portFor(owner, repo))!,
    n,
    sb.app.deps.identity,
    sb.app.deps.jwks,
  );
  assert.deepEqual(h.problems, [], "the chain is complete and verifies");
  assert.equal(h.state.status, status);
  const issue = await issueOf(n);
  if (issue.state === "closed") assert.ok(h.state.grant?.ended, "no issue closed with a live credential");
  const reviews = (
    await sb.as("sam").paginate(sb.as("sam").rest.issues.listForRepo, {
      owner,
      repo,
      labels: "breakglass:audit",
      state: "all",
      per_page: 100,
    })
  ).filter((i) => i.title.includes(`Review #${n} `));
  assert.equal(reviews.length, h.state.grant?.ended ? 1 : 0, "exactly one review per ended grant");
  assert.equal(h.events.filter((e) => e.type === "granted").length, 1, "granted once");
  assert.ok(h.events.filter((e) => e.type === "revoked").length <= 1, "revoked at most once");
}

it("restarted while a grant is live: the start-up reconcile re-arms expiry, which revokes on time", async () => {
  const { n, token } = await granted("erin");
  await sb.stopApp();
  await sb.startApp();
  assert.equal((await sb.app.deps.introspect!(token)).active, true, "still live after the restart");
  await sb.advance(29 * MIN);
  await assertInvariants(n, "active");
  await sb.advance(2 * MIN);
  await assertInvariants(n, "expired");
  assert.equal((await issueOf(n)).state, "closed");
  assert.equal(
    (await sb.app.deps.introspect!(token)).active,
    false,
    "revoked by the new process, whose revocation list started empty",
  );
});

it("down across the expiry: the restarted app revokes the overdue grant at start-up", async () => {
  const { n, token } = await granted("ivan");
  await sb.stopApp();
  sb.clock.advance(45 * MIN); // nobody is there to notice
  await sb.startApp();
  await assertInvariants(n, "expired");
  assert.equal((await sb.app.deps.introspect!(token)).active, false);
});

it("killed mid-grant (while the job holds the credential): the job's release is lost, expiry still revokes", async () => {
  const n = await openRequest("olga", {
    resource: "model-rollback",
    role: "rollback",
    duration: "30m",
    severity: "critical",
  });
  killDuringJob = n;
  await approve("heidi", n);
  const action = await sb.runs.find((r) => r.issue === n)!.result;
  assert.equal(action.exitCode, 0, "the grant step succeeded before the app died");
  assert.notEqual(action.post?.exitCode, 0, "the post step could not reach the app to release the grant");
  killDuringJob = null;
  await sb.startApp();
  await assertInvariants(n, "active");
  await sb.advance(31 * MIN);
  await assertInvariants(n, "expired");
});
