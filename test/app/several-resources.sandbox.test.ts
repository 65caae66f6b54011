/**
 * Several resources in one request, through the real app in the sandbox: each resource is approved
 * by its own policy's owners, granted to its own run and revoked on its own, in one issue's trail and
 * one post-event review; edits, other people's edits and bad lines are handled like a one-resource
 * request's.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { requestFormBody } from "../../src/sandbox/request-body.ts";
import { fakeGitHubProvider } from "../support/fake-github-provider.ts";
import { SANDBOX_TEAMS, startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import { sandboxHelpers } from "../support/sandbox-helpers.ts";
import { auditExport } from "../support/audit-export.ts";
import { collectDashboard } from "../../src/app/http/dashboard/collect-dashboard.ts";

const owner = "acme";
const repo = "ops";
let sb: Sandbox;
const { openRequest, say, appTexts, issueOf, labelsOf, stateOf, reactions } = sandboxHelpers(() => sb);

/** github-admin's provider: what it minted and revoked. */
const github = fakeGitHubProvider();
const { minted, revoked } = github;

before(async () => {
  sb = await startSandbox({
    // github-admin needs two approvals from @acme/platform: give it a second member.
    teams: { ...SANDBOX_TEAMS, "acme/platform": ["erin", "ivan"] },
    providers: { github },
  });
});
after(() => sb.close());

const TWO = {
  resource: "model-rollback",
  role: "rollback",
  duration: "20m",
  severity: "high",
  more: ["github-admin admin 15m"],
};

async function statusComment(n: number): Promise<string> {
  return (await appTexts(n)).find((t) => t.startsWith("<!-- breakglass:status")) ?? "";
}
const runsOf = (n: number) => sb.runs.filter((r) => r.issue === n);

async function edit(who: string, n: number, body: string): Promise<void> {
  await sb.as(who).rest.issues.update({ owner, repo, issue_number: n, body });
  await sb.settle();
}

describe("one request, two resources, each decided by its own owners", () => {
  let n: number;
  before(async () => {
    n = await openRequest("dave", TWO);
  });

  it("records one part per resource and shows both in the status comment", async () => {
    const s = await stateOf(n);
    assert.equal(s.status, "requested");
    assert.deepEqual(Object.keys(s.parts ?? {}), ["model-rollback", "github-admin"]);
    assert.equal(s.parts!["github-admin"]!.request?.duration_seconds, 15 * 60);
    assert.equal(s.parts!["github-admin"]!.required_approvals, 2);
    const status = await statusComment(n);
    assert.match(status, /several resources/);
    assert.match(status, /#### `model-rollback`/);
    assert.match(status, /#### `github-admin`/);
    assert.ok((await labelsOf(n)).includes("breakglass:requested"));
  });

  it("an owner of one resource approves that one only; it is granted to its own run and ends with it", async () => {
    const id = await say("grace", n, "/approve");
    assert.deepEqual(await reactions(id), ["eyes", "rocket"]);
    const runs = runsOf(n);
    assert.equal(runs.length, 1, "one run, for the approved resource");
    const action = await runs[0]!.result;
    assert.equal(action.exitCode, 0, `${action.stdout}\n${action.stderr}`);
    assert.ok(action.env.BREAKGLASS_TOKEN, "model-rollback's credential went to its run");
    assert.equal(action.env.GITHUB_ADMIN_TOKEN, undefined, "and nothing of github-admin's");
    await sb.settle();
    const s = await stateOf(n);
    assert.equal(s.parts!["model-rollback"]!.approvals.length, 1);
    assert.equal(
      s.parts!["model-rollback"]!.grant?.ended?.reason,
      "job_ended",
      "its job ended, so did its grant",
    );
    assert.equal(s.parts!["github-admin"]!.status, "requested", "grace owns no part of github-admin");
    assert.equal(s.parts!["github-admin"]!.approvals.length, 0);
    assert.equal(s.status, "requested", "the request goes on while one resource waits");
    assert.equal((await issueOf(n)).state, "open");
    assert.equal(s.review_issue, null, "the review waits for every resource");
  });

  it("the dashboard shows a row per resource: the ended one with its approval, the waiting one with its own approvers", async () => {
    const board = await collectDashboard(sb.app.deps, [(await sb.app.portFor(owner, repo))!]);
    const pending = board.pending.filter((r) => r.issue === n);
    const recent = board.recent.filter((r) => r.issue === n);
    assert.deepEqual(
      pending.map((r) => [r.resource, r.status, r.approvers.sort(), r.approvals]),
      [["github-admin", "requested", ["@acme/platform"], []]],
    );
    assert.deepEqual(
      recent.map((r) => [r.resource, r.status, r.approvals]),
      [["model-rollback", "revoked", ["grace"]]],
    );
    assert.ok(recent[0]!.uses >= 0 && recent[0]!.ended_at, "the ended resource has its own end");
  });

  it("the second resource needs its own two owners, then gets its own run and credential", async () => {
    await say("erin", n, "/approve");
    assert.equal((await stateOf(n)).parts!["github-admin"]!.status, "requested", "1 of 2");
    assert.equal(runsOf(n).length, 1);
    await say("ivan", n, "/approve");
    const runs = runsOf(n);
    assert.equal(runs.length, 2);
    const action = await runs[1]!.result;
    assert.equal(action.exitCode, 0, `${action.stdout}\n${action.stderr}`);
    assert.ok(action.env.GITHUB_ADMIN_TOKEN?.startsWith("ghs_fake_"));
    await sb.settle();
    const s = await stateOf(n);
    const a = s.parts!["model-rollback"]!.grant!;
    const b = s.parts!["github-admin"]!.grant!;
    assert.equal(a.provider, "jwt");
    assert.equal(b.provider, "github");
    assert.deepEqual(minted, [b.credential_id]);
    assert.deepEqual(revoked, minted, "revoked at its provider when its job ended");
    assert.notEqual(a.run_id, b.run_id, "each resource went to its own run");
  });

  it("once every resource has ended, the issue closes with one review naming both", async () => {
    const s = await stateOf(n);
    assert.equal(s.status, "revoked");
    assert.ok(s.closed);
    assert.ok(s.review_issue);
    const review = (await sb.as("dave").rest.issues.get({ owner, repo, issue_number: s.review_issue })).data;
    assert.match(review.body ?? "", /`rollback` on `model-rollback`, `admin` on `github-admin`/);
    assert.equal((await issueOf(n)).state, "closed");
    const reviews = (
      await sb.as("dave").rest.issues.listForRepo({ owner, repo, state: "all", per_page: 100 })
    ).data.filter((i) => i.title.startsWith(`[breakglass audit] Review #${n} `));
    assert.equal(reviews.length, 1, "one review for the request");
  });

  it("`breakglass audit export` gives one verified row per resource, each with its own approvals and grant", async () => {
    const out = JSON.parse(await auditExport(sb, `${owner}/${repo}`, "--format", "json")) as Array<
      Record<string, unknown>
    >;
    const rows = out.filter((r) => r.issue === n);
    assert.deepEqual(
      rows.map((r) => [r.resource, r.role, r.status, r.provider, r.chain_status]),
      [
        ["model-rollback", "rollback", "revoked", "jwt", "verified"],
        ["github-admin", "admin", "revoked", "github", "verified"],
      ],
    );
    assert.deepEqual(
      rows.map((r) => (r.approvals as Array<{ login: string }>).map((a) => a.login)),
      [["grace"], ["erin", "ivan"]],
    );
    assert.ok(
      rows.every((r) => typeof r.checklist_issue === "number"),
      "both rows name the one review",
    );
  });
});

describe("edits of a request naming several resources", () => {
  it("someone else's edit adding a resource is refused and records no part", async () => {
    const n = await openRequest("dave", { ...TWO, more: ["github-admin admin 15m"] });
    await edit(
      "mallory",
      n,
      requestFormBody({ ...TWO, more: ["github-admin admin 15m", "aws-production read 30m"] }),
    );
    const s = await stateOf(n);
    assert.deepEqual(Object.keys(s.parts!), ["model-rollback", "github-admin"]);
    assert.ok((await appTexts(n)).some((t) => t.includes("edit_not_by_requester")));
  });

  it("the requester's edit that drops a resource withdraws it and keeps the other's approval", async () => {
    const n = await openRequest("dave", {
      ...TWO,
      resource: "github-admin",
      role: "admin",
      duration: "15m",
      more: ["model-rollback rollback 20m"],
    });
    await say("erin", n, "/approve");
    await edit(
      "dave",
      n,
      requestFormBody({ ...TWO, resource: "github-admin", role: "admin", duration: "15m", more: [] }),
    );
    const s = await stateOf(n);
    assert.equal(s.parts!["model-rollback"]!.status, "cancelled");
    assert.equal(s.parts!["github-admin"]!.approvals.length, 1, "its content did not change");
    assert.ok((await appTexts(n)).some((t) => t.includes("`model-rollback` is no longer in the request")));
    await say("dave", n, "/cancel");
    const ended = await stateOf(n);
    assert.equal(ended.status, "cancelled");
    assert.equal((await issueOf(n)).state, "closed");
  });

  it("a bad line of More resources is named by its line, and nothing is recorded as a request", async () => {
    const n = await openRequest("dave", { ...TWO, more: ["github-admin superuser", "aws-production"] });
    const s = await stateOf(n);
    assert.equal(s.status, "invalid");
    const fix = ((await appTexts(n)).find((t) => t.includes("cannot be considered yet")) ?? "")
      .replace(/&#96;/g, "`")
      .replace(/\\/g, "");
    assert.match(fix, /Line 1 of More resources \(`github-admin`\)/);
    assert.match(fix, /Line 2 of More resources reads "aws-production"/);
    assert.ok(fix.indexOf("Line 1") < fix.indexOf("Line 2"), "in line order");
  });

  it("a request recorded for one resource cannot grow more: a new request is asked for", async () => {
    const n = await openRequest("carol", { resource: "model-rollback", role: "rollback", duration: "20m" });
    await edit("carol", n, requestFormBody({ ...TWO }));
    const s = await stateOf(n);
    assert.equal(s.status, "requested", "recorded as a request (carol is within her limits)");
    assert.equal(s.parts, null);
    assert.equal(s.request?.resource, "model-rollback");
    assert.ok((await appTexts(n)).some((t) => t.includes("not_several")));
  });
});

describe("tampering with a request naming several resources", () => {
  it("a writer deleting the app's record comment is put back and every resource's notify targets hear of it, once each", async () => {
    const n = await openRequest("tina", TWO);
    await say("grace", n, "/approve");
    const comments = await sb.as("mallory").paginate(sb.as("mallory").rest.issues.listComments, {
      owner,
      repo,
      issue_number: n,
      per_page: 100,
    });
    const record = comments.find(
      (c) => c.user?.login === sb.appLogin && (c.body ?? "").includes("breakglass:record"),
    )!;
    await sb.as("mallory").rest.issues.deleteComment({ owner, repo, comment_id: record.id });
    await sb.settle();
    const alerts = sb.notifier.sent.filter(
      (s) => s.notification.event === "records_tampered" && s.notification.issue === n,
    );
    assert.equal(alerts.length, 1);
    assert.match(alerts[0]!.notification.summary, /mallory deleted/);
    assert.deepEqual(
      alerts[0]!.targets.map((t) => t.url_env),
      ["SLACK_WEBHOOK_URL"],
      "both policies notify Slack: told once",
    );
    assert.ok((await appTexts(n)).some((t) => t.startsWith("🛡️ **Records tampered with.**")));
  });
});
