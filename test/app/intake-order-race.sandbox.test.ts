/**
 * Intake across two replicas with the deliveries forced into the bad order: replica A handles the
 * older delivery (`opened`, or the first of two edits) and is slow to write its record; meanwhile
 * replica B handles the newer `edited` and records it first. A's append then loses the ledger's
 * compare-and-swap and is re-decided on the fresh ledger. Before, it re-applied its own (older)
 * body on top of B's; the recorded request must always be the issue's current body on GitHub.
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
import {
  ledgerAppends,
  ledgerConflicts,
  sandboxHelpers,
  slowLedgerWrites,
  withoutStepUp,
} from "../support/sandbox-helpers.ts";

let sb: Sandbox;
let b: RunningServer;
let lb: Awaited<ReturnType<typeof startLoadBalancer>>;
/** Which replica handles an issue's next webhook of each kind: "older" ones go to A, "newer" to B. */
let toB: (action: string | null, issue: number | null) => boolean = () => false;
const { appTexts } = sandboxHelpers(() => sb);

before(async () => {
  sb = await startSandbox({ runWorkflows: false, webhookDelivery: "concurrent" });
  withoutStepUp(sb);
  b = await sb.startReplica();
  lb = await startLoadBalancer(sb, (webhook, delivery) => [
    webhook && delivery && toB(delivery.action, delivery.issue) ? b.url : sb.app.url,
  ]);
});
after(async () => {
  await lb.close();
  await sb.close();
});

const history = async (n: number) =>
  readHistory((await sb.app.portFor(owner, repo))!, n, sb.app.deps.identity, sb.app.deps.jwks);
const statusComments = async (n: number) =>
  (await appTexts(n)).filter((t) => t.startsWith("<!-- breakglass:status"));
const ledgerCommits = () => ledgerAppends(sb);
/** Ledger appends refused because another writer moved the request's branch first (or created it first). */
const casLosses = () => ledgerConflicts(sb);

async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Replica A's next ledger write stalls; once it has started, `newer` runs (its delivery goes to B,
 * which writes at full speed and so records first). Returns how many compare-and-swaps were lost.
 */
async function forceBadOrder(older: () => Promise<unknown>, newer: () => Promise<unknown>): Promise<number> {
  const lostBefore = casLosses();
  const slow = slowLedgerWrites(sb, 1500, 1);
  await older();
  await until("replica A's slow ledger write", () => slow.hits === 1);
  const written = ledgerCommits();
  await newer();
  await sb.settle();
  slow.remove();
  assert.ok(ledgerCommits() > written, "replica B wrote while A's write stalled");
  return casLosses() - lostBefore;
}

it("A170: opened (to replica A, slow) and the requester's edit (to replica B, first): the record is the edited body, the older one is never appended", async () => {
  let n = 0;
  toB = (action, issue) => action === "edited" && issue === n;
  const lost = await forceBadOrder(
    async () => {
      const { data } = await sb.as("dave").rest.issues.create({
        owner,
        repo,
        title: "[breakglass] prod-database",
        labels: ["breakglass"],
        body: requestFormBody({ resource: "prod-database", role: "read", duration: "30m" }),
      });
      n = data.number;
    },
    () =>
      sb.as("dave").rest.issues.update({
        owner,
        repo,
        issue_number: n,
        body: requestFormBody({ resource: "prod-database", role: "write", duration: "45m" }),
      }),
  );
  assert.ok(lost >= 1, "replica A lost the compare-and-swap (the race really happened)");
  const h = await history(n);
  assert.deepEqual(h.problems, []);
  assert.equal(h.state.request?.role, "write", "the recorded request is the issue's current body");
  assert.equal(h.state.request?.duration_seconds, 45 * 60);
  assert.equal(h.events.filter((e) => e.type === "requested").length, 1, "the older body was never recorded");
  assert.equal((await statusComments(n)).length, 1, "one status comment");
});

it("A171: two edits by the requester, the first to the slow replica A, the second to B: the second body is what is requested", async () => {
  toB = () => false;
  const { data } = await sb.as("dave").rest.issues.create({
    owner,
    repo,
    title: "[breakglass] prod-database",
    labels: ["breakglass"],
    body: requestFormBody({ resource: "prod-database", role: "read", duration: "30m" }),
  });
  await sb.settle();
  const n = data.number;
  assert.equal((await history(n)).state.request?.role, "read");
  let edits = 0;
  toB = (action, issue) => action === "edited" && issue === n && edits === 2;
  const lost = await forceBadOrder(
    () => (
      edits++,
      sb.as("dave").rest.issues.update({
        owner,
        repo,
        issue_number: n,
        body: requestFormBody({ resource: "prod-database", role: "write", duration: "30m" }),
      })
    ),
    () => (
      edits++,
      sb.as("dave").rest.issues.update({
        owner,
        repo,
        issue_number: n,
        body: requestFormBody({ resource: "prod-database", role: "read", duration: "15m" }),
      })
    ),
  );
  assert.ok(lost >= 1, "replica A lost the compare-and-swap (the race really happened)");
  const h = await history(n);
  assert.deepEqual(h.problems, []);
  assert.equal(h.state.request?.role, "read");
  assert.equal(h.state.request?.duration_seconds, 15 * 60, "the last body counts, not the first edit's");
  const { data: now } = await sb.as("dave").rest.issues.get({ owner, repo, issue_number: n });
  assert.match(now.body ?? "", /15m/);
  assert.equal((await statusComments(n)).length, 1);
});
