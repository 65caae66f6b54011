/**
 * Two replicas of the app behind one load balancer and one GitHub: separate Probot instances, locks,
 * timers and memory, the same configuration and keys. Webhooks and the Action's calls are spread
 * across them, and in one phase every webhook goes to both (a redelivery storm). Whatever lands
 * where: one grant per approved request, one revocation, one close, one review issue, and every
 * audit chain complete and verified.
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { readHistory } from "../../src/github/issue-records.ts";
import type { RunningServer } from "../../src/app/server.ts";
import {
  SANDBOX_OWNER as owner,
  SANDBOX_REPO as repo,
  startSandbox,
  type Sandbox,
} from "../../src/sandbox/start-sandbox.ts";
import { startLoadBalancer } from "../support/load-balancer.ts";
import { ledgerConflicts, sandboxHelpers } from "../support/sandbox-helpers.ts";

const MIN = 60_000;
let sb: Sandbox;
let b: RunningServer;
let mode: "round-robin" | "both" = "round-robin";
let turn = 0;
let races = 0;
const served = { a: 0, b: 0 };
const { approve, openRequest, say, issueOf } = sandboxHelpers(() => sb);

let lb: Awaited<ReturnType<typeof startLoadBalancer>>;
before(async () => {
  sb = await startSandbox();
  b = await sb.startReplica();
  lb = await startLoadBalancer(sb, (webhook) => {
    const replicas = [sb.app.url, b.url];
    const targets = webhook && mode === "both" ? replicas : [replicas[turn++ % 2]!];
    for (const t of targets) served[t === b.url ? "b" : "a"]++;
    return targets;
  });
});
after(async () => {
  await lb.close();
  await sb.close();
});

/** Moves the clock and lets both replicas' timers and sweeps fire at the same moment. */
async function advanceBoth(ms: number): Promise<void> {
  sb.clock.advance(ms);
  await Promise.all([sb.app.runDue(), b.runDue(), sb.app.reconcileAll(), b.reconcileAll()]);
  await sb.settle();
}

async function assertOnce(n: number, ended: "expired" | "revoked"): Promise<void> {
  const h = await readHistory(
    (await sb.app.portFor(owner, repo))!,
    n,
    sb.app.deps.identity,
    sb.app.deps.jwks,
  );
  const count = (type: string) => h.events.filter((e) => e.type === type).length;
  assert.deepEqual(h.problems, [], `#${n}: the chain verifies and every record is mirrored once`);
  assert.equal(h.state.status, ended, `#${n}`);
  assert.equal(count("granted"), 1, `#${n}: one grant`);
  assert.equal(count("revoked"), 1, `#${n}: one revocation`);
  assert.equal(count("closed"), 1, `#${n}: one close`);
  assert.equal(count("checklist_opened"), 1, `#${n}: one review recorded`);
  assert.equal((await issueOf(n)).state, "closed");
  const reviews = (
    await sb.as("sam").paginate(sb.as("sam").rest.issues.listForRepo, {
      owner,
      repo,
      labels: "breakglass:audit",
      state: "all",
      per_page: 100,
    })
  ).filter((i) => i.title.includes(`Review #${n} `));
  assert.equal(reviews.length, 1, `#${n}: exactly one review issue`);
  assert.equal(reviews[0]!.number, h.state.review_issue);
  const runs = sb.runs.filter((r) => r.issue === n);
  const exits = await Promise.all(runs.map(async (r) => (await r.result).exitCode));
  assert.equal(exits.filter((e) => e === 0).length, 1, `#${n}: one grant workflow run got credentials`);
}

it("webhooks and exchanges spread across two replicas: each request granted once, ended once", async () => {
  mode = "round-robin";
  const people = ["erin", "ivan", "olga", "carol"];
  const issues: number[] = [];
  for (const who of people)
    issues.push(
      await openRequest(who, {
        resource: "model-guardrail-override",
        role: "override",
        duration: "30m",
        severity: "critical",
      }),
    );
  for (const n of issues) await approve("grace", n);
  for (const n of issues)
    assert.equal(
      (await readHistory((await sb.app.portFor(owner, repo))!, n, sb.app.deps.identity, sb.app.deps.jwks))
        .state.status,
      "active",
    );
  await say("grace", issues[0]!, "/revoke done early");
  await advanceBoth(31 * MIN);
  await assertOnce(issues[0]!, "revoked");
  for (const n of issues.slice(1)) await assertOnce(n, "expired");
  assert.ok(served.a > 0 && served.b > 0, `both replicas served traffic (${JSON.stringify(served)})`);
});

it("every webhook delivered to both replicas at once: still one grant, one revocation, one review each", async () => {
  mode = "both";
  races = 0;
  const people = ["heidi", "bob", "rita"];
  const issues: number[] = [];
  for (const who of people)
    issues.push(
      await openRequest(who, {
        resource: "model-guardrail-override",
        role: "override",
        duration: "30m",
        severity: "critical",
      }),
    );
  for (const n of issues) await approve(n === issues[0] ? "grace" : "heidi", n);
  await say("grace", issues[1]!, "/revoke both replicas hear this");
  await advanceBoth(31 * MIN);
  await assertOnce(issues[1]!, "revoked");
  for (const n of [issues[0]!, issues[2]!]) await assertOnce(n, "expired");
  races = ledgerConflicts(sb);
  assert.ok(
    races > 0,
    "the replicas really appended the same entries at once (and the ledger refused the later append)",
  );
});
