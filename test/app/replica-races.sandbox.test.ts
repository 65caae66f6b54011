/**
 * What two replicas of the app can do to one request at the same moment, reproduced in one process
 * by opening two sessions before either writes (the per-process lock is bypassed on purpose). GitHub
 * (the emulator) is the only shared state, as in production. Whatever the interleaving: one live
 * credential, one review issue, a chain that verifies.
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { exchangeToken, ExchangeRefusal } from "../../src/app/grant/grant-exchange.ts";
import type { ActionsClaims } from "../../src/app/grant/oidc-verifier.ts";
import { readHistory } from "../../src/github/issue-records.ts";
import { RequestSession } from "../../src/app/infra/request-session.ts";
import { revokeGrant } from "../../src/app/grant/revoke-grant.ts";
import {
  SANDBOX_OWNER as owner,
  SANDBOX_REPO as repo,
  startSandbox,
  type Sandbox,
} from "../../src/sandbox/start-sandbox.ts";
import { ledgerConflicts, sandboxHelpers, slowLedgerWrites } from "../support/sandbox-helpers.ts";

const MIN = 60_000;
let sb: Sandbox;
const { approve, openRequest, appTexts } = sandboxHelpers(() => sb);
before(async () => {
  sb = await startSandbox({ runWorkflows: false });
});
after(() => sb.close());

const port = async () => (await sb.app.portFor(owner, repo))!;
/** The claims of the grant run the app dispatched (and recorded) for request `n`. */
function claimsFor(n: number, by = sb.appLogin): ActionsClaims {
  const r = sb.emulator.state.repository;
  const run = [...r.runs.values()].find((x) => x.inputs.issue === String(n) && x.actor.login === by);
  assert.ok(run, `${by} dispatched a grant run for #${n}`);
  const runId = String(run.id);
  return {
    repository: `${owner}/${repo}`,
    repository_id: String(r.id),
    repository_owner: owner,
    repository_owner_id: String(r.owner.id),
    job_workflow_ref: `${owner}/${repo}/.github/workflows/breakglass-grant.yml@refs/heads/main`,
    run_id: runId,
    run_attempt: "1",
    actor: by,
    event_name: "workflow_dispatch",
    ref: "refs/heads/main",
  };
}
async function reviewsOf(n: number) {
  const all = await sb
    .as("sam")
    .paginate(sb.as("sam").rest.issues.listForRepo, { owner, repo, state: "all", per_page: 100 });
  return all.filter((i) => i.title.includes(`#${n}`) && i.title.startsWith("[breakglass audit]"));
}

it("two replicas exchange tokens for one approved request at once: one credential lives, the other is revoked unused", async () => {
  const n = await openRequest("erin", {
    resource: "model-guardrail-override",
    role: "override",
    duration: "30m",
    severity: "critical",
  });
  await approve("grace", n);
  // Slow writes: both replicas have read the approved state before either records its grant.
  const slow = slowLedgerWrites(sb, 150, 2);
  sb.emulator.resetApiRequestLog();
  // Two runs (the app's, and one an approver started by hand), so each passes its own run reservation and the ledger decides.
  await sb.as("heidi").rest.actions.createWorkflowDispatch({
    owner,
    repo,
    workflow_id: "breakglass-grant.yml",
    ref: "main",
    inputs: { issue: String(n) },
  });
  const results = await Promise.allSettled([
    exchangeToken(sb.app.deps, await port(), claimsFor(n), "unused", n),
    exchangeToken(sb.app.deps, await port(), claimsFor(n, "heidi"), "unused", n),
  ]);
  slow.remove();
  const granted = results.filter((r) => r.status === "fulfilled");
  const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  assert.equal(granted.length, 1, "exactly one exchange hands out a credential");
  assert.equal(refused.length, 1);
  assert.ok(
    refused[0]!.reason instanceof ExchangeRefusal && refused[0]!.reason.code === "already_granted",
    String(refused[0]!.reason),
  );
  const h = await readHistory(await port(), n, sb.app.deps.identity, sb.app.deps.jwks);
  assert.equal(h.state.status, "active");
  assert.equal(h.events.filter((e) => e.type === "granted").length, 1, "one grant in the verified chain");
  const winner = (granted[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof exchangeToken>>>).value;
  assert.equal(
    h.state.grant?.credential_id,
    winner.credential_id,
    "the credential handed out is the one recorded",
  );
  assert.equal((await sb.app.deps.introspect!(winner.secrets.BREAKGLASS_TOKEN!)).active, true);
  const texts = await appTexts(n);
  // Both sessions read before either wrote (the race really happened): the ledger refused the later append.
  assert.deepEqual(h.problems, []);
  // (The hand-started run's acceptance record races the app's run too, so there may be two such refusals.)
  assert.ok(ledgerConflicts(sb) >= 1);
  assert.ok(
    texts.some(
      (t) =>
        t.startsWith("↩️") && t.includes("lost a race") && t.includes("revoked before it was handed out"),
    ),
    "the losing write is explained on the issue",
  );
});

it("two replicas expire the same grant at once: one revocation counts, one review issue, the other retired", async () => {
  const n = await openRequest("ivan", {
    resource: "model-guardrail-override",
    role: "override",
    duration: "30m",
    severity: "critical",
  });
  await approve("grace", n);
  await exchangeToken(sb.app.deps, await port(), claimsFor(n), "unused", n);
  sb.app.scheduler.stop();
  sb.clock.advance(31 * MIN);
  const [a, b] = await Promise.all([
    RequestSession.open(sb.app.deps, await port(), n),
    RequestSession.open(sb.app.deps, await port(), n),
  ]);
  // Slow ledger writes (each is one write), so both replicas open their review before either records it.
  const slow = slowLedgerWrites(sb, 200, 6);
  await Promise.all([revokeGrant(a, "expired", sb.appLogin), revokeGrant(b, "expired", sb.appLogin)]);
  slow.remove();
  await sb.settle();
  const h = await readHistory(await port(), n, sb.app.deps.identity, sb.app.deps.jwks);
  assert.equal(h.state.status, "expired");
  assert.equal(h.events.filter((e) => e.type === "revoked").length, 1);
  assert.equal(h.events.filter((e) => e.type === "checklist_opened").length, 1);
  const reviews = await reviewsOf(n);
  const live = reviews.filter((i) =>
    i.labels.some((l) => (typeof l === "string" ? l : l.name) === "breakglass:audit"),
  );
  assert.equal(
    live.length,
    1,
    `one review issue counts: ${reviews.map((i) => `#${i.number} ${i.state} ${i.title}`).join("; ")}`,
  );
  assert.equal(live[0]!.number, h.state.review_issue, "it is the recorded one");
  assert.equal(reviews.length, 2, "both replicas opened a review issue (the race really happened)");
  for (const other of reviews.filter((i) => i.number !== live[0]!.number)) {
    assert.equal(other.state, "closed", "a duplicate review is closed");
    assert.match(other.title, /duplicate/);
  }
  const { data } = await sb.as("sam").rest.issues.get({ owner, repo, issue_number: n });
  assert.equal(data.state, "closed");
});
