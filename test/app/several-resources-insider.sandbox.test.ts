/**
 * Several resources in one request, attacked by insiders (write or triage access; an owner of one
 * part only) through the real app in the sandbox: approving a part one does not own, closing and
 * reopening the issue with one part live, hand-started and re-run grant runs, lost and late
 * deliveries, and the requester's edits once a part was decided (A270-A289, docs/attack-catalogue.md).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { readFileSync } from "node:fs";
import { requestFormBody } from "../../src/sandbox/request-body.ts";
import { fakeGitHubProvider } from "../support/fake-github-provider.ts";
import { SANDBOX_TEAMS, startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import { sandboxHelpers } from "../support/sandbox-helpers.ts";
import type { WorkflowRun } from "../../src/sandbox/github/state.ts";
import { startLoadBalancer } from "../support/load-balancer.ts";
import { RequestSession } from "../../src/app/infra/request-session.ts";

const owner = "acme";
const repo = "ops";
let sb: Sandbox;
const { openRequest, say, appTexts, issueOf, labelsOf, stateOf, reactions } = sandboxHelpers(() => sb);

/** github-admin's provider, standing in for GitHub's installation tokens. */
const github = fakeGitHubProvider();

before(async () => {
  sb = await startSandbox({
    // Runs are started here by hand (sb.runJob), so a test decides which run exchanges when.
    runWorkflows: false,
    // github-admin needs two approvals from @acme/platform: give it a second member.
    teams: { ...SANDBOX_TEAMS, "acme/platform": ["erin", "ivan"] },
    providers: { github },
    // model-rollback's grant outlives its job here, so a part stays live while the other waits.
    // Limits raised: every test here is one more request by dave.
    files: {
      "policies/model-rollback.yml": `${roomier("policies/model-rollback.yml")}\nkeep_alive_after_job: true\n`,
      "policies/github-admin.yml": roomier("policies/github-admin.yml"),
    },
  });
});
after(() => sb.close());

function roomier(path: string): string {
  return readFileSync(path, "utf8")
    .replace(/max_active_grants_per_user: \d+/, "max_active_grants_per_user: 20")
    .replace(/max_requests_per_user_per_day: \d+/, "max_requests_per_user_per_day: 50");
}

/** model-rollback (owners: grace, heidi; one approval) and github-admin (owners: erin, ivan; two). */
const TWO = {
  resource: "model-rollback",
  role: "rollback",
  duration: "20m",
  severity: "high",
  more: ["github-admin admin 15m"],
};

const runsOf = (n: number): WorkflowRun[] =>
  [...sb.emulator.state.repository.runs.values()].filter((r) => r.inputs.issue === String(n));
const appRuns = (n: number, resource?: string) =>
  runsOf(n).filter(
    (r) => r.actor.login === sb.appLogin && (resource === undefined || r.inputs.resource === resource),
  );

async function edit(who: string, n: number, body: string): Promise<void> {
  await sb.as(who).rest.issues.update({ owner, repo, issue_number: n, body });
  await sb.settle();
}

async function dispatchByHand(who: string, n: number, resource: string, ref = "main"): Promise<WorkflowRun> {
  const known = new Set(runsOf(n).map((r) => r.id));
  await sb.as(who).rest.actions.createWorkflowDispatch({
    owner,
    repo,
    workflow_id: "breakglass-grant.yml",
    ref,
    inputs: { issue: String(n), resource },
  });
  const run = runsOf(n).find((r) => !known.has(r.id));
  assert.ok(run, `${who}'s run was started`);
  return run;
}

/** Opens TWO as dave and has grace approve model-rollback; its run collects it and stays live. */
async function withLivePart(): Promise<number> {
  const n = await openRequest("dave", TWO);
  await say("grace", n, "/approve");
  const [run] = appRuns(n, "model-rollback");
  assert.ok(run, "the app dispatched model-rollback's run");
  const job = await sb.runJob(run.id);
  assert.equal(job.exitCode, 0, `${job.stdout}\n${job.stderr}`);
  await sb.settle();
  const s = await stateOf(n);
  assert.equal(s.parts!["model-rollback"]!.status, "active");
  assert.equal(s.parts!["github-admin"]!.status, "requested");
  return n;
}

describe("an owner of one resource acts on the other", () => {
  it("A270: an owner of model-rollback only approves nothing of github-admin: not directly, not by a redelivery, not by editing in a second command", async () => {
    const n = await openRequest("dave", TWO);
    const id = await say("grace", n, "/approve");
    let s = await stateOf(n);
    assert.equal(s.parts!["model-rollback"]!.status, "approved");
    assert.equal(s.parts!["github-admin"]!.approvals.length, 0);
    // The same delivery again (GitHub's redelivery): nothing recorded twice, nothing for the other part.
    const delivery = sb.emulator.deliveries.find(
      (d) =>
        d.event === "issue_comment" &&
        d.action === "created" &&
        (d.payload.comment as { id: number }).id === id,
    )!;
    const chain = (await stateOf(n)).eventCount;
    await sb.emulator.redeliver(delivery.guid);
    await sb.settle();
    s = await stateOf(n);
    assert.equal(s.eventCount, chain, "a redelivered /approve records nothing");
    assert.equal(s.parts!["github-admin"]!.approvals.length, 0);
    // heidi (model-rollback's other owner) edits her own comment into two commands: an edit never approves.
    const other = await say("heidi", n, "Looks fine to me");
    await sb.as("heidi").rest.issues.updateComment({
      owner,
      repo,
      comment_id: other,
      body: "/approve\n/approve",
    });
    await sb.settle();
    s = await stateOf(n);
    assert.equal(s.parts!["github-admin"]!.approvals.length, 0);
    assert.equal(s.parts!["model-rollback"]!.approvals.length, 1, "grace's only");
    assert.ok((await appTexts(n)).some((t) => t.includes("commands in edited comments are ignored")));
    // grace tries the other part directly: refused, and told why.
    const again = await say("grace", n, "/approve");
    assert.deepEqual(await reactions(again), ["-1", "eyes"]);
    assert.equal((await stateOf(n)).parts!["github-admin"]!.approvals.length, 0);
  });

  it("A271: an owner's approval comment edited after its part was granted withdraws nothing there, and another part's approval from an edited comment is withdrawn", async () => {
    const n = await withLivePart();
    const grace = (await sb.as("dave").rest.issues.listComments({ owner, repo, issue_number: n })).data.find(
      (c) => c.user?.login === "grace",
    )!;
    const erin = await say("erin", n, "/approve");
    assert.equal((await stateOf(n)).parts!["github-admin"]!.approvals.length, 1);
    await sb.as("mallory").rest.issues.updateComment({ owner, repo, comment_id: grace.id, body: "changed" });
    await sb.as("mallory").rest.issues.deleteComment({ owner, repo, comment_id: erin });
    await sb.settle();
    const s = await stateOf(n);
    assert.equal(
      s.parts!["model-rollback"]!.status,
      "active",
      "granted: the records, not the comment, count",
    );
    assert.equal(s.parts!["model-rollback"]!.approvals.length, 1);
    assert.equal(s.parts!["github-admin"]!.approvals.length, 0, "erin's deleted approval no longer counts");
    assert.equal(s.parts!["github-admin"]!.status, "requested");
  });
});

describe("closing, reopening and labels while one resource is live", () => {
  it("A272: closing the issue by hand revokes the live resource and withdraws the waiting one", async () => {
    const n = await withLivePart();
    await sb.as("mallory").rest.issues.update({ owner, repo, issue_number: n, state: "closed" });
    await sb.settle();
    const s = await stateOf(n);
    assert.equal(
      s.parts!["model-rollback"]!.status,
      "revoked",
      "a closed issue never hides a live credential",
    );
    assert.equal(s.parts!["model-rollback"]!.grant?.ended?.reason, "revoked");
    assert.equal(s.parts!["github-admin"]!.status, "cancelled");
    assert.equal(s.status, "revoked");
    assert.ok(s.review_issue, "the revoked resource gets its review");
    assert.equal((await issueOf(n)).state, "closed");
  });

  it("A273: closing a request whose resources all wait withdraws each; reopening it revives none", async () => {
    const n = await openRequest("dave", TWO);
    await say("grace", n, "/approve");
    await sb.as("mallory").rest.issues.update({ owner, repo, issue_number: n, state: "closed" });
    await sb.settle();
    let s = await stateOf(n);
    assert.equal(s.parts!["model-rollback"]!.status, "cancelled");
    assert.equal(s.parts!["github-admin"]!.status, "cancelled");
    assert.equal(s.status, "cancelled");
    await sb.as("mallory").rest.issues.update({ owner, repo, issue_number: n, state: "open" });
    await sb.settle();
    s = await stateOf(n);
    assert.equal(s.status, "cancelled", "reopening brings no resource back");
    // The approved resource's run, dispatched before the close, collects nothing.
    const [run] = appRuns(n, "model-rollback");
    const job = await sb.runJob(run!.id);
    assert.notEqual(job.exitCode, 0);
    assert.equal((await stateOf(n)).parts!["model-rollback"]!.grant, null);
  });

  it("A274: labels taken off or added by hand change no resource and are put back", async () => {
    const n = await withLivePart();
    await sb
      .as("mallory")
      .rest.issues.removeLabel({ owner, repo, issue_number: n, name: "breakglass:active" });
    await sb
      .as("mallory")
      .rest.issues.addLabels({ owner, repo, issue_number: n, labels: ["breakglass:revoked"] });
    await sb.settle();
    const s = await stateOf(n);
    assert.equal(s.parts!["model-rollback"]!.status, "active");
    assert.equal(s.parts!["github-admin"]!.status, "requested");
    const labels = await labelsOf(n);
    assert.ok(labels.includes("breakglass:active"), labels.join());
    assert.ok(!labels.includes("breakglass:revoked"), labels.join());
  });
});

/** The next delivery of this event and action is lost (GitHub never sends a failed delivery again). */
function loseNext(event: string, action: string) {
  sb.emulator.faults.dropWebhooks((w) => {
    if (w.event !== event || w.action !== action) return false;
    sb.emulator.faults.clear();
    return true;
  });
}
async function sweepLater() {
  sb.clock.advance(61_000);
  await sb.app.reconcileAll();
  await sb.settle();
}

describe("edits and lost deliveries while one resource is live and the other waits", () => {
  it("A275: an approval of the waiting resource whose comment was deleted while its delivery was lost is withdrawn by the sweep", async () => {
    const n = await withLivePart();
    const erin = await say("erin", n, "/approve");
    assert.equal((await stateOf(n)).parts!["github-admin"]!.approvals.length, 1);
    loseNext("issue_comment", "deleted");
    await sb.as("mallory").rest.issues.deleteComment({ owner, repo, comment_id: erin });
    await sb.settle();
    assert.equal((await stateOf(n)).parts!["github-admin"]!.approvals.length, 1, "nothing noticed it yet");
    await sweepLater();
    const s = await stateOf(n);
    assert.equal(s.parts!["github-admin"]!.approvals.length, 0, "withdrawn, as for one resource");
    assert.equal(s.parts!["model-rollback"]!.status, "active");
    // ivan's approval now is the first of two again: github-admin is not granted on erin's deleted one.
    await say("ivan", n, "/approve");
    assert.equal((await stateOf(n)).parts!["github-admin"]!.status, "requested");
    assert.equal(appRuns(n, "github-admin").length, 0);
  });

  it("A276: the requester's edit swapping the waiting resource's line once the other is granted is refused and recorded; the sweep takes it for no lost edit", async () => {
    const n = await withLivePart();
    await say("erin", n, "/approve");
    await edit("dave", n, requestFormBody({ ...TWO, more: ["aws-production read 30m"] }));
    let s = await stateOf(n);
    assert.deepEqual(Object.keys(s.parts!), ["model-rollback", "github-admin"], "no part added or removed");
    assert.equal(s.parts!["github-admin"]!.status, "requested");
    assert.equal(
      s.parts!["github-admin"]!.approvals.length,
      1,
      "its recorded content stands, and so does erin's approval",
    );
    const refused = (await appTexts(n)).filter((t) => t.includes("not_editable"));
    assert.equal(
      refused.length,
      1,
      `the requester is told (before, the edit was silently ignored): ${refused.join("\n----\n")}`,
    );
    assert.match(refused[0]!, /`model-rollback` is active/);
    const events = s.eventCount;
    await sweepLater();
    s = await stateOf(n);
    assert.equal(s.eventCount, events, "the sweep records nothing: the edit was received and answered");
    assert.equal(s.parts!["github-admin"]!.approvals.length, 1);
    assert.ok(!(await appTexts(n)).some((t) => t.includes("never received that edit")));
    // A retitle (an `edited` delivery with the same body) says nothing.
    await sb
      .as("dave")
      .rest.issues.update({ owner, repo, issue_number: n, title: "[breakglass] rollback and admin" });
    await sb.settle();
    assert.equal((await appTexts(n)).filter((t) => t.includes("not_editable")).length, 1);
  });

  it("A277: a writer's edit of the waiting resource's line once the other is granted is refused as someone else's", async () => {
    const n = await withLivePart();
    await edit("mallory", n, requestFormBody({ ...TWO, more: ["github-admin admin 1h"] }));
    const s = await stateOf(n);
    assert.equal(s.parts!["github-admin"]!.request?.duration_seconds, 15 * 60);
    assert.ok((await appTexts(n)).some((t) => t.includes("edit_not_by_requester") && t.includes("@mallory")));
    // The sweep does not take the writer's edit for a lost one of the requester.
    const events = (await stateOf(n)).eventCount;
    await sweepLater();
    assert.equal((await stateOf(n)).eventCount, events);
  });

  it("A278: the requester's edit of the approved (not yet collected) resource voids its approval; its dispatched run collects nothing; the other resource keeps its approval", async () => {
    const n = await openRequest("dave", TWO);
    await say("grace", n, "/approve");
    await say("erin", n, "/approve");
    await edit("dave", n, requestFormBody({ ...TWO, duration: "45m" }));
    const s = await stateOf(n);
    assert.equal(s.parts!["model-rollback"]!.status, "requested");
    assert.equal(s.parts!["model-rollback"]!.approvals.length, 0);
    assert.equal(s.parts!["github-admin"]!.approvals.length, 1);
    const [run] = appRuns(n, "model-rollback");
    const job = await sb.runJob(run!.id);
    assert.notEqual(job.exitCode, 0);
    assert.match(job.stdout + job.stderr, /not_approved/);
    assert.equal((await stateOf(n)).parts!["model-rollback"]!.grant, null);
  });
});

describe("grant runs of a request naming several resources", () => {
  it("A279: a writer's or the other resource's owner's run started by hand, naming either resource, collects nothing while one waits", async () => {
    const n = await openRequest("dave", TWO);
    await say("grace", n, "/approve");
    for (const [who, resource] of [
      ["mallory", "github-admin"],
      ["mallory", "model-rollback"],
      ["erin", "model-rollback"],
      ["dave", "model-rollback"],
    ] as const) {
      const run = await dispatchByHand(who, n, resource);
      const job = await sb.runJob(run.id);
      assert.notEqual(job.exitCode, 0, `${who}'s run for ${resource}`);
    }
    let s = await stateOf(n);
    assert.equal(s.parts!["model-rollback"]!.grant, null);
    assert.equal(s.parts!["github-admin"]!.grant, null);
    const refusals = (await appTexts(n)).filter(
      (t) => t.includes("unknown_run") || t.includes("not_approved"),
    );
    assert.ok(
      refusals.some((t) => /erin is not an approver/.test(t)),
      refusals.join("\n---\n"),
    );
    assert.ok(
      refusals.some((t) => /dave is the requester/.test(t)),
      refusals.join("\n---\n"),
    );
    assert.ok(
      refusals.some((t) => /github-admin(`|&#96;) of #\S*\d+ is requested, not approved/.test(t)),
      refusals.join("\n---\n").slice(0, 3000),
    );
    // The app's own run still collects model-rollback, and only that.
    const job = await sb.runJob(appRuns(n, "model-rollback")[0]!.id);
    assert.equal(job.exitCode, 0, `${job.stdout}\n${job.stderr}`);
    assert.equal(job.env.GITHUB_ADMIN_TOKEN, undefined);
    await sb.settle();
    s = await stateOf(n);
    assert.equal(s.parts!["model-rollback"]!.status, "active");
    assert.equal(s.parts!["github-admin"]!.status, "requested");
  });

  it("A280: a run started by an owner of the waiting resource collects it only when it names that resource: a run titled for the other resource (its concurrency group) collects nothing", async () => {
    const n = await openRequest("dave", TWO);
    await say("grace", n, "/approve");
    const wrong = await dispatchByHand("heidi", n, "github-admin");
    const refused = await sb.runJob(wrong.id);
    assert.notEqual(refused.exitCode, 0, "heidi owns model-rollback, but this run is github-admin's");
    assert.equal((await stateOf(n)).parts!["model-rollback"]!.grant, null);
    // A run titled for a resource the request does not name is for nothing here (not the waiting one).
    const stray = await dispatchByHand("heidi", n, "aws-production");
    const strayJob = await sb.runJob(stray.id);
    assert.notEqual(strayJob.exitCode, 0);
    assert.match(strayJob.stdout + strayJob.stderr, /unknown_part/);
    assert.equal((await stateOf(n)).parts!["model-rollback"]!.grant, null);
    const right = await dispatchByHand("heidi", n, "model-rollback");
    const job = await sb.runJob(right.id);
    assert.equal(job.exitCode, 0, `${job.stdout}\n${job.stderr}`);
    await sb.settle();
    const s = await stateOf(n);
    assert.equal(
      s.parts!["model-rollback"]!.grant?.run_id,
      `${right.id}/1`,
      "an approver's run by hand, as for one resource",
    );
    // The app's own run, later, is told the resource was collected.
    const late = await sb.runJob(appRuns(n, "model-rollback")[0]!.id);
    assert.notEqual(late.exitCode, 0);
    assert.match(late.stdout + late.stderr, /already_granted/);
  });

  it("A281: a run that collected one resource, re-run by a writer once the other is approved, collects nothing of the other", async () => {
    const n = await withLivePart();
    const first = appRuns(n, "model-rollback")[0]!;
    await say("erin", n, "/approve");
    await say("ivan", n, "/approve");
    assert.equal((await stateOf(n)).parts!["github-admin"]!.status, "approved");
    await sb.as("mallory").request("POST /repos/{owner}/{repo}/actions/runs/{run_id}/rerun", {
      owner,
      repo,
      run_id: first.id,
    });
    const job = await sb.runJob(first.id);
    assert.notEqual(job.exitCode, 0);
    assert.equal(job.env.GITHUB_ADMIN_TOKEN, undefined);
    const s = await stateOf(n);
    assert.equal(s.parts!["github-admin"]!.grant, null, "github-admin waits for its own run");
    const collected = await sb.runJob(appRuns(n, "github-admin")[0]!.id);
    assert.equal(collected.exitCode, 0, `${collected.stdout}\n${collected.stderr}`);
    await sb.settle();
    const later = await stateOf(n);
    const own = appRuns(n, "github-admin")[0]!;
    assert.equal(later.parts!["github-admin"]!.grant?.run_id, `${own.id}/1`, "collected by its own run");
  });
});

describe("the request's text and its app comments", () => {
  it("A282: a body naming the same resource on two lines is refused by its line, and nothing is approvable", async () => {
    const n = await openRequest("dave", {
      ...TWO,
      more: ["github-admin admin 15m", "github-admin read 10m"],
    });
    const s = await stateOf(n);
    assert.equal(s.status, "invalid");
    const fix = ((await appTexts(n)).find((t) => t.includes("cannot be considered yet")) ?? "")
      .replace(/&#96;/g, "`")
      .replace(/\\/g, "");
    assert.match(fix, /Line 2 of More resources names `github-admin` again \(line 1 names it\)/);
    const id = await say("erin", n, "/approve");
    assert.deepEqual(await reactions(id), ["-1", "eyes"]);
  });

  it("A283: a writer edits the app's status comment and a record comment of a request naming two resources: both are put back, and both resources' notification targets are told", async () => {
    const n = await withLivePart();
    const comments = (
      await sb.as("dave").rest.issues.listComments({ owner, repo, issue_number: n, per_page: 100 })
    ).data;
    const status = comments.find((c) => c.body?.startsWith("<!-- breakglass:status"))!;
    const record = comments.find((c) => c.user?.login === sb.appLogin && c.body?.startsWith("🔓"))!;
    const before = sb.notifier.sent.length;
    await sb.as("mallory").rest.issues.updateComment({
      owner,
      repo,
      comment_id: status.id,
      body: "<!-- breakglass:status -->\nEverything revoked, nothing to see.",
    });
    await sb
      .as("mallory")
      .rest.issues.updateComment({ owner, repo, comment_id: record.id, body: "nothing granted" });
    await sb.settle();
    const after = (
      await sb.as("dave").rest.issues.listComments({ owner, repo, issue_number: n, per_page: 100 })
    ).data;
    assert.match(
      after.find((c) => c.id === status.id)!.body ?? "",
      /#### `github-admin`/,
      "status rendered again",
    );
    assert.ok(
      after.some((c) => c.user?.login === sb.appLogin && c.body === record.body),
      "the record is posted again as the ledger holds it",
    );
    const told = sb.notifier.sent.slice(before).filter((x) => x.notification.event === "records_tampered");
    assert.ok(told.length >= 1);
    assert.ok(
      told.every((x) => x.targets.length > 0),
      "the policies' targets are told (before, a request naming several resources had no one policy, so nobody was)",
    );
    const s = await stateOf(n);
    assert.equal(s.parts!["model-rollback"]!.status, "active");
  });

  it("A284: a waiting resource whose policy file is deleted on the default branch is withdrawn by the sweep, so the granted one's review is not held up", async () => {
    const n = await withLivePart();
    sb.emulator.setFile("policies/github-admin.yml", null);
    await sb.as("grace").rest.issues.createComment({ owner, repo, issue_number: n, body: "/revoke" });
    await sb.settle();
    await sweepLater();
    const s = await stateOf(n);
    assert.equal(s.parts!["model-rollback"]!.status, "revoked");
    assert.equal(s.parts!["github-admin"]!.status, "cancelled");
    assert.ok(s.review_issue, "one review for what was granted");
    assert.equal((await issueOf(n)).state, "closed");
    sb.emulator.setFile("policies/github-admin.yml", roomier("policies/github-admin.yml"));
  });
});

describe("commands and approvals across resources", () => {
  it("A287: an owner of one resource cannot deny or revoke the other; a writer can do neither", async () => {
    const n = await withLivePart();
    const revoke = await say("erin", n, "/revoke");
    assert.deepEqual(await reactions(revoke), ["-1", "eyes"]);
    const deny = await say("heidi", n, "/deny not needed");
    assert.deepEqual(
      await reactions(deny),
      ["-1", "eyes"],
      "model-rollback is granted; github-admin is not heidi's",
    );
    const writer = await say("mallory", n, "/deny no");
    assert.deepEqual(await reactions(writer), ["-1", "eyes"]);
    let s = await stateOf(n);
    assert.equal(s.parts!["model-rollback"]!.status, "active");
    assert.equal(s.parts!["github-admin"]!.status, "requested");
    // Each owner decides their own resource only.
    await say("erin", n, "/deny not now");
    s = await stateOf(n);
    assert.equal(s.parts!["github-admin"]!.status, "denied");
    assert.equal(s.parts!["model-rollback"]!.status, "active");
    assert.equal((await issueOf(n)).state, "open", "the live resource goes on");
  });

  it("A288: one comment of an owner of both resources approves both; deleted once one is granted, it withdraws only the waiting one's approval", async () => {
    sb.emulator.setTeamMembers("acme/platform", ["erin", "ivan", "grace"]);
    try {
      const n = await openRequest("dave", TWO);
      const both = await say("grace", n, "/approve");
      let s = await stateOf(n);
      assert.equal(s.parts!["model-rollback"]!.approvals.length, 1);
      assert.equal(s.parts!["github-admin"]!.approvals.length, 1, "1 of 2");
      const job = await sb.runJob(appRuns(n, "model-rollback")[0]!.id);
      assert.equal(job.exitCode, 0, `${job.stdout}\n${job.stderr}`);
      await sb.settle();
      await sb.as("mallory").rest.issues.deleteComment({ owner, repo, comment_id: both });
      await sb.settle();
      s = await stateOf(n);
      assert.equal(s.parts!["model-rollback"]!.status, "active", "granted: as for one resource, it stands");
      assert.equal(s.parts!["model-rollback"]!.approvals.length, 1);
      assert.equal(s.parts!["github-admin"]!.approvals.length, 0, "withdrawn where it still counted");
      await say("ivan", n, "/approve");
      assert.equal((await stateOf(n)).parts!["github-admin"]!.status, "requested", "1 of 2 again");
    } finally {
      sb.emulator.setTeamMembers("acme/platform", ["erin", "ivan"]);
    }
  });

  it("A289: a writer dispatches the grant workflow on their own branch naming the waiting resource: refused, nothing minted", async () => {
    const n = await openRequest("dave", TWO);
    await say("grace", n, "/approve");
    sb.emulator.pushBranch("mallory", `parts-${n}`, {});
    for (const resource of ["model-rollback", "github-admin"]) {
      const run = await dispatchByHand("mallory", n, resource, `parts-${n}`);
      const job = await sb.runJob(run.id);
      assert.notEqual(job.exitCode, 0, resource);
    }
    const s = await stateOf(n);
    assert.equal(s.parts!["model-rollback"]!.grant, null);
    assert.equal(s.parts!["github-admin"]!.grant, null);
    assert.ok(
      (await appTexts(n)).some((t) => t.includes("refused") && t.includes("wrong_ref")),
      "the refusal is recorded on the request",
    );
  });
});

describe("late and duplicate deliveries", () => {
  it("A286: an edit delivered late (after a newer edit and an approval) and the opening redelivered change nothing", async () => {
    const n = await openRequest("dave", TWO);
    await say("grace", n, "/approve");
    sb.emulator.faults.holdWebhooks((w) => w.event === "issues" && w.action === "edited");
    await edit("dave", n, requestFormBody({ ...TWO, more: ["github-admin admin 1h"] }));
    sb.emulator.faults.clear();
    await edit("dave", n, requestFormBody({ ...TWO, more: ["github-admin admin 30m"] }));
    await say("erin", n, "/approve");
    let s = await stateOf(n);
    assert.equal(s.parts!["github-admin"]!.request?.duration_seconds, 30 * 60);
    assert.equal(s.parts!["github-admin"]!.approvals.length, 1);
    assert.equal(s.parts!["model-rollback"]!.status, "approved", "its line did not change");
    const events = s.eventCount;
    assert.equal((await sb.emulator.releaseHeldWebhooks()).length, 1, "the 1h edit arrives late");
    const opened = sb.emulator.deliveries.find(
      (d) =>
        d.event === "issues" && d.action === "opened" && (d.payload.issue as { number: number }).number === n,
    )!;
    await sb.emulator.redeliver(opened.guid);
    await sb.settle();
    s = await stateOf(n);
    assert.equal(s.eventCount, events, "nothing recorded: the late bodies are not the issue's any more");
    assert.equal(s.parts!["github-admin"]!.request?.duration_seconds, 30 * 60);
    assert.equal(s.parts!["github-admin"]!.approvals.length, 1);
  });
});

describe("two replicas of the app behind one load balancer", () => {
  let lb: Awaited<ReturnType<typeof startLoadBalancer>>;
  let turn = 0;
  before(async () => {
    const b = await sb.startReplica();
    // Every webhook to both replicas (a duplicated delivery); the Action's calls alternate.
    lb = await startLoadBalancer(sb, (webhook) =>
      webhook ? [sb.app.url, b.url] : [[sb.app.url, b.url][turn++ % 2]!],
    );
  });
  after(async () => {
    await lb.close();
    sb.emulator.setWebhookUrl(`${sb.app.url}/api/github/webhooks`);
    sb.routeActionsTo(sb.app.url);
  });

  it("A285: the same /approve handled by both replicas records each resource's approval once and dispatches one run per resource; the same run's job twice at once gets one credential", async () => {
    const n = await openRequest("dave", TWO);
    await say("grace", n, "/approve");
    await say("erin", n, "/approve");
    await say("ivan", n, "/approve");
    const s = await stateOf(n);
    assert.deepEqual(
      [s.parts!["model-rollback"]!.approvals.length, s.parts!["github-admin"]!.approvals.length],
      [1, 2],
    );
    assert.equal(appRuns(n, "model-rollback").length, 1, "one run for model-rollback");
    assert.equal(appRuns(n, "github-admin").length, 1, "one run for github-admin");
    const run = appRuns(n, "github-admin")[0]!;
    const jobs = await Promise.all([sb.runJob(run.id), sb.runJob(run.id)]);
    await sb.settle();
    assert.equal(jobs.filter((j) => j.exitCode === 0).length, 1, "exactly one job got a credential");
    const after = await stateOf(n);
    assert.ok(after.parts!["github-admin"]!.grant);
    assert.equal(
      after.parts!["model-rollback"]!.grant,
      null,
      "github-admin's run took nothing of model-rollback",
    );
    const history = await RequestSession.open(sb.app.deps, (await sb.app.portFor(owner, repo))!, n);
    assert.deepEqual(history.problems, [], "the chain verifies");
    assert.equal(history.events.filter((e) => e.type === "granted").length, 1);
  });
});
