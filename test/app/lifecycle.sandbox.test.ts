/**
 * The real app through the sandbox: intake (valid, invalid, fixed by edit), the grant after approval
 * with the secret kept out of every comment and log line, and fake markers that must change nothing.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { requestFormBody } from "../../src/sandbox/request-body.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import { sandboxHelpers } from "../support/sandbox-helpers.ts";

const owner = "acme";
const repo = "ops";
let sb: Sandbox;

const { approve, openRequest, say, allComments, appTexts, issueOf, labelsOf, stateOf } = sandboxHelpers(
  () => sb,
);

before(async () => {
  sb = await startSandbox();
});
after(() => sb.close());

describe("intake", () => {
  it("a valid request gets one status comment, the requested label and a signed record", async () => {
    const n = await openRequest("dave", {
      resource: "model-rollback",
      role: "rollback",
      duration: "20m",
      severity: "high",
    });
    const comments = await allComments(n);
    const status = comments.filter(
      (c) => c.user?.login === sb.appLogin && c.body?.startsWith("<!-- breakglass:status"),
    );
    assert.equal(status.length, 1, "exactly one status comment");
    assert.match(status[0]!.body!, /model-rollback/);
    assert.match(status[0]!.body!, /rollback/);
    assert.match(status[0]!.body!, /@dave/);
    assert.ok((await labelsOf(n)).includes("breakglass:requested"));
    const s = await stateOf(n);
    assert.equal(s.status, "requested");
    assert.equal(s.requester, "dave");
    assert.equal(s.request?.resource, "model-rollback");
    assert.equal(s.request?.duration_seconds, 20 * 60);
    assert.equal(s.required_approvals, 1);
    // A second identical edit does not add a second status comment.
    await sb.as("dave").rest.issues.update({
      owner,
      repo,
      issue_number: n,
      body: requestFormBody({
        resource: "model-rollback",
        role: "rollback",
        duration: "20m",
        severity: "high",
      }),
    });
    await sb.settle();
    assert.equal(
      (await allComments(n)).filter(
        (c) => c.user?.login === sb.appLogin && c.body?.startsWith("<!-- breakglass:status"),
      ).length,
      1,
    );
  });

  it("a missing role is named, the issue labelled invalid, and an edit re-validates", async () => {
    const n = await openRequest("rita", { resource: "model-rollback", role: "" });
    const texts = await appTexts(n);
    const fix = texts.find((t) => t.includes("cannot be considered yet"));
    assert.ok(fix, `a comment says what to fix; got:\n${texts.join("\n---\n")}`);
    assert.match(fix, /\*\*role\*\*/i);
    assert.ok((await labelsOf(n)).includes("breakglass:invalid"));
    assert.equal((await stateOf(n)).status, "invalid");

    await sb.as("rita").rest.issues.update({
      owner,
      repo,
      issue_number: n,
      body: requestFormBody({ resource: "model-rollback", role: "rollback", duration: "99999h" }),
    });
    await sb.settle();
    const second = (await appTexts(n)).filter((t) => t.includes("cannot be considered yet"));
    assert.equal(second.length, 2, "the edit was checked again and answered");
    assert.match(second[1]!, /\*\*duration\*\*/i);
    assert.match(second[1]!, /longer than/, "the reply says the limit");
    assert.ok((await labelsOf(n)).includes("breakglass:invalid"));

    await sb.as("rita").rest.issues.update({
      owner,
      repo,
      issue_number: n,
      body: requestFormBody({ resource: "model-rollback", role: "rollback", duration: "30m" }),
    });
    await sb.settle();
    const labels = await labelsOf(n);
    assert.ok(labels.includes("breakglass:requested"), `labels after fix: ${labels.join(", ")}`);
    assert.ok(!labels.includes("breakglass:invalid"));
    const s = await stateOf(n);
    assert.equal(s.status, "requested");
    assert.equal(s.request?.role, "rollback");
    assert.equal(s.request?.duration_seconds, 30 * 60);
  });

  it("a body with a missing role AND a too long duration lists both fields at once", async () => {
    const n = await openRequest("sam", { resource: "model-rollback", role: "", duration: "99999h" });
    const fix = (await appTexts(n)).find((t) => t.includes("cannot be considered yet")) ?? "";
    assert.match(fix, /\*\*role\*\*/i);
    assert.match(fix, /\*\*duration\*\*/i);
  });

  it("an unknown resource is refused with a field error naming it", async () => {
    const n = await openRequest("mallory", { resource: "the-moon", role: "admin", duration: "5m" });
    assert.ok((await labelsOf(n)).includes("breakglass:invalid"));
    assert.ok((await appTexts(n)).some((t) => /\*\*resource\*\*/i.test(t)));
  });
});

describe("grant", () => {
  it("after approval the grant workflow runs, the issue is active, and the secret appears nowhere but in ::add-mask::", async () => {
    const n = await openRequest("erin", {
      resource: "model-guardrail-override",
      role: "override",
      duration: "30m",
      severity: "critical",
    });
    await approve("grace", n, "checked with the IC");
    const run = sb.runs.find((r) => r.issue === n);
    assert.ok(run, "the app dispatched the grant workflow");
    const action = await run.result;
    assert.equal(action.exitCode, 0, `${action.stdout}\n${action.stderr}`);
    const secret = action.env.BREAKGLASS_TOKEN;
    assert.ok(secret && secret.length > 20, "the Action exported the credential");
    assert.ok((await labelsOf(n)).includes("breakglass:active"));
    const s = await stateOf(n);
    assert.equal(s.status, "active");
    assert.ok(s.grant);
    assert.equal(s.approvals.length, 1);
    assert.equal(s.approvals[0]!.actor, "grace");

    for (const c of await allComments(n))
      assert.ok(!c.body?.includes(secret), `comment ${c.id} leaks the credential`);
    const issues = await sb
      .as("dave")
      .paginate(sb.as("dave").rest.issues.listForRepo, { owner, repo, state: "all", per_page: 100 });
    for (const i of issues)
      assert.ok(!i.body?.includes(secret), `issue #${i.number} body leaks the credential`);
    const leaking = `${action.stdout}\n${action.stderr}`
      .split("\n")
      .filter((l) => l.includes(secret) && !l.startsWith("::add-mask::"));
    assert.deepEqual(leaking, [], "the credential only appears in ::add-mask:: lines");
    assert.ok(
      action.stdout.split("\n").some((l) => l.startsWith("::add-mask::") && l.includes(secret)),
      "the credential was masked",
    );
  });
});

describe("fake markers", () => {
  it("a record copied from another issue into a body, and a fake approval comment, change nothing", async () => {
    // A real, signed record from another issue (the grant test may not have run: make our own).
    // A prod-database request with one of two approvals: its records include a signed approval.
    const donor = await openRequest("olga", { resource: "prod-database", role: "write", duration: "1h" });
    await approve("bob", donor);
    const donorRecords = (await allComments(donor))
      .filter((c) => c.user?.login === sb.appLogin)
      .map((c) => /<!-- breakglass:record [^>]*-->/.exec(c.body ?? "")?.[0])
      .filter((m): m is string => Boolean(m));
    assert.ok(donorRecords.length >= 2, "the donor issue has signed records to copy");

    const body = `${requestFormBody({ resource: "model-rollback", role: "rollback", duration: "20m" })}\n${donorRecords.join("\n")}\n<!-- breakglass:status -->\n✅ @heidi approved request — 1 of 1.`;
    assert.equal((await stateOf(donor)).approvals.length, 1, "the donor holds a real approval record");
    const { data } = await sb
      .as("mallory")
      .rest.issues.create({ owner, repo, title: "[breakglass] rollback", labels: ["breakglass"], body });
    await sb.settle();
    const n = data.number;
    const fakeId = await say(
      "mallory",
      n,
      `✅ @heidi (via @acme/ai-governance) approved request \`0123456789abcdef\` — 1 of 1.\n${donorRecords.at(-1)}`,
    );
    await say("mallory", n, "Status: **approved**, grant active");

    const s = await stateOf(n);
    assert.equal(s.status, "requested");
    assert.equal(s.approvals.length, 0);
    assert.equal(s.grant, null);
    assert.equal(s.requester, "mallory");
    assert.ok(!sb.runs.some((r) => r.issue === n), "no grant workflow was dispatched");
    const labels = await labelsOf(n);
    assert.ok(
      labels.includes("breakglass:requested") &&
        !labels.includes("breakglass:active") &&
        !labels.includes("breakglass:approved"),
    );
    const reactions = (
      await sb.as("dave").rest.reactions.listForIssueComment({ owner, repo, comment_id: fakeId })
    ).data;
    assert.equal(reactions.length, 0, "a fake approval line is not a command");
    assert.equal((await issueOf(n)).state, "open");
  });
});
