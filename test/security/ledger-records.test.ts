/**
 * Attack catalogue, the records themselves: an insider with write access edits or deletes the app's
 * own record comments (GitHub lets them), deletes while the app is down (no redelivery), or replays
 * one run's token against two replicas. State is the app's ledger, which they cannot reach.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { octokitPort } from "../../src/github/octokit-port.ts";
import { verifyRepository } from "../../src/audit/verify-repository.ts";
import { SANDBOX_LEDGER_REPO, startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import { collectDashboard } from "../../src/app/http/dashboard/collect-dashboard.ts";
import {
  approve,
  allComments,
  appTexts,
  exchange,
  grantClaims,
  historyOf,
  labelsOf,
  openRequest,
  owner,
  repo,
  say,
  guardrail,
} from "./attack-kit.ts";

let sb: Sandbox;

before(async () => {
  sb = await startSandbox();
});
after(() => sb.close());

async function recordComment(n: number, marker: RegExp) {
  const found = (await allComments(sb, n)).find(
    (c) =>
      c.user?.login === sb.appLogin &&
      marker.test(c.body ?? "") &&
      (c.body ?? "").includes("breakglass:record"),
  );
  assert.ok(found, `#${n} has an app record comment matching ${marker}`);
  return found;
}

async function liveGrant(who = "dave"): Promise<number> {
  const n = await openRequest(sb, who, guardrail);
  await approve(sb, "grace", n);
  const h = await historyOf(sb, n);
  assert.equal(h.state.status, "active", h.problems.join("\n"));
  return n;
}

test("A130 deleting the app's 'Granted' record on a live grant re-arms nothing: no second dispatch or credential, the record is restored, the deleter named and the policy's targets told", async () => {
  const n = await liveGrant();
  const runsBefore = sb.runs.filter((r) => r.issue === n).length;
  const granted = await recordComment(n, /\*\*Granted\*\*/);
  await sb.as("mallory").rest.issues.deleteComment({ owner, repo, comment_id: granted.id });
  await sb.settle();
  const h = await historyOf(sb, n);
  assert.equal(h.state.status, "active", "the ledger still says active");
  assert.equal(h.events.filter((e) => e.type === "granted").length, 1, "one grant, never a second");
  assert.equal(sb.runs.filter((r) => r.issue === n).length, runsBefore, "no grant workflow dispatched again");
  assert.deepEqual(h.mirror, [], "the deleted record was put back");
  const texts = await appTexts(sb, n);
  assert.ok(
    texts.some((t) => t.includes("**Granted**") && t.includes("breakglass:record")),
    "the Granted record is on the issue again",
  );
  const notice = texts.find((t) => t.startsWith("🛡️ **Records tampered with.**"));
  assert.ok(notice, "the issue says what happened");
  assert.match(notice, /@mallory deleted the app's record comment: `granted`/);
  assert.match(notice, /still \*\*active\*\*/);
  assert.ok(
    sb.notifier.sent.some(
      (s) =>
        s.notification.event === "records_tampered" &&
        s.notification.issue === n &&
        /mallory deleted/.test(s.notification.summary),
    ),
  );
  // The grant still ends on time.
  await sb.advance(31 * 60 * 1000);
  assert.equal((await historyOf(sb, n)).state.status, "expired");
});

test("A131 deleting the app's denial record never un-denies: the request stays denied and a later /approve cannot grant", async () => {
  const n = await openRequest(sb, "rita", guardrail);
  await say(sb, "grace", n, "/deny roll the model back instead");
  const denial = await recordComment(n, /denied/i);
  await sb.as("mallory").rest.issues.deleteComment({ owner, repo, comment_id: denial.id });
  await sb.settle();
  assert.equal((await historyOf(sb, n)).state.status, "denied");
  await say(sb, "heidi", n, "/approve");
  const h = await historyOf(sb, n);
  assert.equal(h.state.status, "denied");
  assert.equal(h.state.grant, null);
  assert.equal(sb.runs.filter((r) => r.issue === n).length, 0, "no grant workflow ran");
  assert.deepEqual(h.mirror, []);
});

test("A132 editing an app record comment (its text and its hidden record) is undone in place; the state is the ledger's", async () => {
  const n = await liveGrant("erin");
  const granted = await recordComment(n, /\*\*Granted\*\*/);
  const forged = (granted.body ?? "")
    .replace(/\*\*Granted\*\*[^\n]*/, "**Revoked** by security.")
    .replace(/breakglass:record \S+/, "breakglass:record eyJhbGciOiJub25lIn0.e30.");
  await sb.as("mallory").rest.issues.updateComment({ owner, repo, comment_id: granted.id, body: forged });
  await sb.settle();
  const restored = (await allComments(sb, n)).find((c) => c.id === granted.id);
  assert.equal(restored?.body, granted.body, "the comment reads again exactly as the app wrote it");
  const h = await historyOf(sb, n);
  assert.equal(h.state.status, "active");
  assert.deepEqual(h.mirror, []);
  assert.match(
    (await appTexts(sb, n)).find((t) => t.startsWith("🛡️"))!,
    /@mallory edited the app's record comment/,
  );
  await sb.advance(31 * 60 * 1000);
});

test("A133 a record deleted while the app is down (the webhook fails and is never redelivered) is found and restored by the start-up reconcile", async () => {
  const n = await liveGrant("ivan");
  const granted = await recordComment(n, /\*\*Granted\*\*/);
  await sb.stopApp();
  await sb.as("mallory").rest.issues.deleteComment({ owner, repo, comment_id: granted.id });
  await sb.emulator.waitForIdle();
  assert.ok(
    sb.emulator.deliveries.some(
      (d) => d.event === "issue_comment" && d.action === "deleted" && d.status !== 200,
    ),
    "the delivery failed",
  );
  sb.clock.advance(11 * 60 * 1000); // past the time a record comment may still be queued (MIRROR_SETTLED_MS)
  await sb.startApp();
  const h = await historyOf(sb, n);
  assert.equal(h.state.status, "active");
  assert.deepEqual(h.mirror, [], "restored by the reconcile");
  assert.match(
    (await appTexts(sb, n)).find((t) => t.startsWith("🛡️"))!,
    /found by the sweep/,
  );
  await sb.advance(31 * 60 * 1000);
  assert.equal((await historyOf(sb, n)).state.status, "expired");
});

test("A134 one run's token exchanged at the same moment on two replicas: exactly one succeeds, the other is token_replayed; and again after a restart", async () => {
  const replica = await sb.startReplica();
  const [n] = await startSandboxlessApproved();
  const claims = grantClaims(sb, {}, n!);
  const [tokenA, tokenB] = await Promise.all([sb.issuer.mint(claims), sb.issuer.mint(claims)]);
  const post = (url: string, token: string) =>
    fetch(`${url}/breakglass/exchange`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token, repository: sb.repository, issue: n }),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as { error?: string } }));
  const answers = await Promise.all([post(sb.app.url, tokenA), post(replica.url, tokenB)]);
  assert.deepEqual(
    answers.map((a) => a.status).sort(),
    [200, 401],
    JSON.stringify(answers.map((a) => ({ ...a, body: { ...a.body, secrets: undefined } }))),
  );
  assert.equal(answers.find((a) => a.status === 401)!.body.error, "token_replayed");
  const h = await historyOf(sb, n!);
  assert.equal(h.state.status, "active");
  assert.equal(h.events.filter((e) => e.type === "granted").length, 1);
  // The same run again, on a freshly restarted process with empty memory.
  await sb.stopApp();
  await sb.startApp();
  const again = await exchange(sb, await sb.issuer.mint(claims), n!);
  assert.equal(again.status, 401);
  assert.equal(again.body.error, "token_replayed");
  await sb.advance(31 * 60 * 1000);
});

/** An approved request whose grant workflow has not exchanged (the sandbox's runner could not reach the app). */
async function startSandboxlessApproved(): Promise<number[]> {
  const stop = sb.emulator.onWorkflowDispatch(() => undefined);
  const issues: number[] = [];
  for (const who of ["olga"]) {
    const n = await openRequest(sb, who, guardrail);
    issues.push(n);
  }
  // Approve without the sandbox's own grant run collecting the credentials.
  sb.routeActionsTo("http://127.0.0.1:9");
  for (const n of issues) await approve(sb, "grace", n);
  sb.routeActionsTo(sb.app.url);
  stop();
  for (const n of issues) assert.equal((await historyOf(sb, n)).state.status, "approved");
  return issues;
}

test("A135 a person with write access to the request repository can read the ledger but not write, rewrite or delete it", async () => {
  const mallory = sb.as("mallory");
  const ref = `heads/requests/${owner}/${repo}/1`;
  const { data: tip } = await mallory.rest.git.getRef({ owner, repo: SANDBOX_LEDGER_REPO, ref });
  const denied = (e: { status?: number }) => e.status === 403;
  await assert.rejects(
    mallory.rest.git.updateRef({ owner, repo: SANDBOX_LEDGER_REPO, ref, sha: tip.object.sha, force: true }),
    denied,
  );
  await assert.rejects(mallory.rest.git.deleteRef({ owner, repo: SANDBOX_LEDGER_REPO, ref }), denied);
  await assert.rejects(
    mallory.rest.git.createRef({
      owner,
      repo: SANDBOX_LEDGER_REPO,
      ref: "refs/heads/runs/acme/ops/run-1-2-1",
      sha: tip.object.sha,
    }),
    denied,
  );
  await assert.rejects(
    mallory.rest.git.createTree({
      owner,
      repo: SANDBOX_LEDGER_REPO,
      tree: [{ path: "chain.jsonl", mode: "100644", type: "blob", content: "forged" }],
    }),
    denied,
  );
  assert.equal(
    (await mallory.rest.git.getRef({ owner, repo: SANDBOX_LEDGER_REPO, ref })).data.object.sha,
    tip.object.sha,
    "the ledger did not move",
  );
});

test("A136 breakglass audit verify finds a deleted, an edited and a truncated record on the sandbox repository (changed while the app was down)", async () => {
  const live = await liveGrant("bob");
  const denied: number[] = [];
  for (const who of ["rita", "carol"]) {
    const n = await openRequest(sb, who, guardrail);
    await say(sb, "grace", n, "/deny not needed");
    denied.push(n);
  }
  await sb.stopApp();
  const records = async (n: number) =>
    (await allComments(sb, n)).filter(
      (c) => c.user?.login === sb.appLogin && (c.body ?? "").includes("breakglass:record"),
    );
  const mallory = sb.as("mallory");
  const tail = (await records(live)).slice(-2);
  for (const c of tail) await mallory.rest.issues.deleteComment({ owner, repo, comment_id: c.id });
  const [first] = await records(denied[0]!);
  await mallory.rest.issues.updateComment({
    owner,
    repo,
    comment_id: first!.id,
    body: (first!.body ?? "").replace(/^[^\n]*/, "Approved by the CISO."),
  });
  const middle = (await records(denied[1]!))[1]!;
  await mallory.rest.issues.deleteComment({ owner, repo, comment_id: middle.id });
  await sb.emulator.waitForIdle();

  const auditor = octokitPort(sb.as("sam"), owner, repo);
  const report = await verifyRepository(auditor, { appLogin: sb.appLogin, jwks: sb.app.deps.jwks });
  const verdict = (n: number) => report.chains.find((c) => c.issue === n)!;
  assert.equal(report.ok, false);
  const total = (await historyOf(sb, live)).ledger.entries.length;
  assert.match(
    verdict(live).break!.reason,
    new RegExp(`^entry ${total - 2}: truncated tail: .* the ledger holds ${total} entries`),
  );
  assert.match(
    verdict(denied[0]!).break!.reason,
    /^entry 0: its requested record was edited in comment \d+; the ledger holds the original/,
  );
  assert.match(
    verdict(denied[1]!).break!.reason,
    /^entry 1: its \w+ record was deleted from the issue's comments; the ledger holds it/,
  );
  for (const n of [live, ...denied])
    assert.notEqual((await historyOf(sb, n)).state.status, "new", "the ledger still holds every request");

  // Back up: the sweep restores the live request's records from the ledger (once they are past the
  // time a record comment may still be queued, MIRROR_SETTLED_MS).
  sb.clock.advance(11 * 60 * 1000);
  await sb.startApp();
  assert.equal(
    (await verifyRepository(auditor, { appLogin: sb.appLogin, jwks: sb.app.deps.jwks })).chains.find(
      (c) => c.issue === live,
    )!.ok,
    true,
  );
  await sb.advance(31 * 60 * 1000);
});

test("A137 a live grant whose labels, title and open state were changed while the app was down still counts for its requester's limits, is still on the dashboard and is still revoked on time", async () => {
  const n = await liveGrant("tina");
  await sb.stopApp();
  const writer = sb.as("mallory");
  for (const label of await labelsOf(sb, n))
    await writer.rest.issues.removeLabel({ owner, repo, issue_number: n, name: label });
  await writer.rest.issues.update({
    owner,
    repo,
    issue_number: n,
    title: "Typo in the README",
    state: "closed",
  });
  await sb.emulator.waitForIdle();
  assert.deepEqual(await labelsOf(sb, n), [], "GitHub let triage take every label off");
  await sb.startApp();

  // The guardrail allows one live grant per person: the unlabelled, closed one still counts.
  const second = await openRequest(sb, "tina", guardrail);
  const h2 = await historyOf(sb, second);
  assert.equal(h2.state.status, "invalid", "the second request is refused by the limit");
  const texts = await appTexts(sb, second);
  assert.ok(
    texts.some((t) => /active grant/i.test(t)),
    `the refusal names the live grant limit: ${texts.join("\n---\n")}`,
  );

  const port = (await sb.app.portFor(owner, repo))!;
  const board = await collectDashboard(sb.app.deps, [port]);
  assert.ok(
    board.active.some((r) => r.issue === n),
    "the dashboard still lists the grant as active",
  );
  assert.ok(!board.active.some((r) => r.issue === second) && board.pending.some((r) => r.issue === second));

  // The auditor finds it too: the ledger lists every request, labelled or not.
  const audited = await verifyRepository(octokitPort(sb.as("sam"), owner, repo), {
    appLogin: sb.appLogin,
    jwks: sb.app.deps.jwks,
  });
  assert.ok(
    audited.chains.some((c) => c.issue === n && c.ok && c.entries > 0),
    "audit verify reads the unlabelled request from the ledger",
  );

  await sb.advance(31 * 60 * 1000);
  assert.equal((await historyOf(sb, n)).state.status, "expired", "revoked on time");
});

test("A138 a breakglass:audit label added to a live request does not make it a review issue: /revoke is still answered and the grant is not on the dashboard as a review", async () => {
  const n = await liveGrant("uma");
  await sb
    .as("mallory")
    .rest.issues.addLabels({ owner, repo, issue_number: n, labels: ["breakglass:audit"] });
  await sb.settle();
  await say(sb, "uma", n, "/revoke done already");
  assert.equal((await historyOf(sb, n)).state.status, "revoked", "the /revoke was answered");
  const board = await collectDashboard(sb.app.deps, [(await sb.app.portFor(owner, repo))!]);
  assert.ok(board.recent.some((r) => r.issue === n && r.status === "revoked"));
});

test("A139 a live grant's issue flooded to GitHub's 2,500-comment limit: nobody can comment any more, yet the grant is revoked on time, recorded in the ledger and reviewed", async () => {
  const n = await liveGrant("tina");
  const count = (await allComments(sb, n)).length;
  sb.emulator.floodComments("mallory", n, 2500 - count);
  await assert.rejects(
    sb.as("mallory").rest.issues.createComment({ owner, repo, issue_number: n, body: "one more" }),
    (error: { status?: number }) => error.status === 422,
    "GitHub refuses the 2,501st comment",
  );

  await sb.advance(31 * 60 * 1000);
  const h = await historyOf(sb, n);
  assert.equal(
    h.state.status,
    "expired",
    "revoked on time: the ledger holds the record the issue could not take",
  );
  assert.equal(h.events.filter((e) => e.type === "revoked").length, 1, "one revocation record");
  assert.ok(h.mirror.length > 0, "the records missing from the comments are known");
  assert.ok(typeof h.state.review_issue === "number", "the review issue was opened");
  const port = (await sb.app.portFor(owner, repo))!;
  const board = await collectDashboard(sb.app.deps, [port]);
  assert.ok(
    !board.active.some((r) => r.issue === n) &&
      board.recent.some((r) => r.issue === n && r.status === "expired"),
  );
});

test("A140 labels are display only and the app's: taking every label off a live grant, or changing its status label by hand, is put back as the ledger says", async () => {
  const n = await liveGrant("uma");
  const writer = sb.as("mallory");
  await writer.rest.issues.removeLabel({ owner, repo, issue_number: n, name: "breakglass:active" });
  await sb.settle();
  await writer.rest.issues.addLabels({ owner, repo, issue_number: n, labels: ["breakglass:revoked"] });
  await sb.settle();
  await writer.rest.issues.removeLabel({ owner, repo, issue_number: n, name: "breakglass" });
  await sb.settle();
  const labels = await labelsOf(sb, n);
  assert.ok(
    labels.includes("breakglass") && labels.includes("breakglass:active"),
    `restored: ${labels.join(", ")}`,
  );
  assert.ok(!labels.includes("breakglass:revoked"), "the hand-set status label is taken off");
  assert.equal((await historyOf(sb, n)).state.status, "active", "labels changed nothing");
});
