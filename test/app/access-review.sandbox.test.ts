/**
 * The periodic access review (issue 21): the sweep opens one review issue per repository per period,
 * listing per resource who may request and approve and when each person last used it; only a resource's
 * owners confirm it, with `/confirm`, recorded in the ledger. Ticks, edits and early closes count for nothing.
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { readAccessReview } from "../../src/app/infra/access-review-records.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import { auditExport } from "../support/audit-export.ts";
import { sandboxHelpers, withoutStepUp } from "../support/sandbox-helpers.ts";

const owner = "acme";
const repo = "ops";
const PERIOD = "2026-11";

let sb: Sandbox;
const h = sandboxHelpers(() => sb);
before(async () => {
  // No option: the sandbox opens access reviews as a deployment does. The clock starts on 2026-11-24.
  sb = await startSandbox();
  withoutStepUp(sb);
});
after(() => sb.close());

const reviewIssues = async () => {
  const all = await sb
    .as("dave")
    .paginate(sb.as("dave").rest.issues.listForRepo, { owner, repo, state: "all", per_page: 100 });
  return all.filter((i) => i.user?.login === sb.appLogin && i.title.startsWith("[breakglass access review]"));
};
const records = async () => {
  const port = await sb.app.portFor(owner, repo);
  assert.ok(port);
  return readAccessReview(sb.app.deps, port, PERIOD);
};

let review = 0;

it("the first sweep of a period opens one review listing who may request and approve each resource, and their last use; no second one across sweeps, replicas and restarts", async () => {
  const n = await h.openRequest("dave", {
    resource: "model-guardrail-override",
    role: "override",
    duration: "30m",
    severity: "critical",
    justification: "Classifier blocks every answer.",
    incident: "https://status.example.com/incidents/42",
  });
  await h.say("grace", n, "/approve");
  assert.equal((await h.stateOf(n)).status, "active", (await h.appTexts(n)).join("\n---\n"));
  // github-admin may be requested by two teams' members only; olga (on call) has only read access.
  sb.emulator.setFile(
    "policies/github-admin.yml",
    `${sb.emulator.state.repository.files["policies/github-admin.yml"]}\nrequesters:\n  teams: ["@acme/oncall", "@acme/sre"]\n`,
  );
  sb.emulator.setPermission("olga", "read");

  const reports = await sb.app.reconcileAll();
  await sb.settle();
  const opened = await reviewIssues();
  assert.equal(opened.length, 1, JSON.stringify(reports));
  review = opened[0]!.number;
  assert.equal(opened[0]!.title, `[breakglass access review] ${PERIOD}`);
  const body = opened[0]!.body ?? "";
  for (const resource of [
    "aws-production",
    "drill",
    "github-admin",
    "model-guardrail-override",
    "model-rollback",
    "prod-database",
  ])
    assert.match(body, new RegExp(`### \`${resource}\` — ⏳ to confirm by 2026-12-08`), resource);
  // grace approved and dave requested today; heidi (same team) never did: flagged. Each may request
  // (write access, and the policy names no requester team).
  assert.match(body, /\| grace \| yes \| via @\u200Bacme\/ai-governance \| never \| 2026-11-24 \| \s*\|/);
  assert.match(body, /\| dave \| yes \| — \| 2026-11-24 \| never \|/);
  assert.match(
    body,
    /\| heidi \| yes \| via @\u200Bacme\/ai-governance \| never \| never \| ⚠️ unused: remove\? \|/,
  );
  const section = (resource: string) => body.split("### ").find((s) => s.startsWith(`\`${resource}\``)) ?? "";
  assert.match(
    section("model-rollback"),
    /Who may request: anyone who can open an issue in acme\/ops and has write access or more to it, not listed one by one: the table checks each person/,
  );
  // Requester teams are expanded with the API, and each member checked against the policy's permission.
  const admin = section("github-admin");
  assert.match(
    admin,
    /Who may request: write access or more, and a member of @\u200Bacme\/oncall \\\(olga\\\) or @\u200Bacme\/sre \\\(bob, ivan\\\)\./,
  );
  assert.match(admin, /\| ivan \| yes \| — \|/);
  assert.match(admin, /\| olga \| — \| — \|/);
  assert.match(admin, /\| erin \| — \| via @\u200Bacme\/platform \|/);
  sb.emulator.setPermission("olga", "write");
  assert.match(
    body,
    /\[open a PR to remove access\]\(https:\/\/github\.com\/acme\/ops\/edit\/main\/policies\/prod-database\.yml\)/,
  );

  const replica = await sb.startReplica();
  await Promise.all([sb.app.reconcileAll(), replica.reconcileAll()]);
  await sb.stopApp();
  await sb.startApp();
  await sb.app.reconcileAll();
  await sb.settle();
  assert.equal((await reviewIssues()).length, 1);
  assert.equal((await records()).state.issue, review);
});

it("A220: a writer who is not a resource's owner cannot confirm it", async () => {
  const id = await h.say("mallory", review, "/confirm model-rollback");
  assert.deepEqual(await h.reactions(id), ["-1", "eyes"]);
  assert.match((await h.appTexts(review)).at(-1)!, /refused \(`not_codeowner`\)/);
  const all = await h.say("mallory", review, "/confirm all");
  assert.deepEqual(await h.reactions(all), ["-1", "eyes"]);
  assert.equal((await records()).state.confirmations.size, 0);
});

it("A221: ticking every box in the body (or rewriting it) confirms nothing, and the text is put back from the records", async () => {
  const before = (await h.issueOf(review)).body ?? "";
  const ticked = before
    .replace(/- \[ \]/g, "- [x]")
    .replace(/⏳ to confirm by \S+/g, "✅ confirmed by @mallory");
  await sb.as("mallory").rest.issues.update({ owner, repo, issue_number: review, body: ticked });
  await sb.settle();
  assert.equal((await h.issueOf(review)).body, before);
  assert.match((await h.appTexts(review)).at(-1)!, /@mallory: this review's text is written by the app/);
  await sb.as("mallory").rest.issues.update({ owner, repo, issue_number: review, title: "done" });
  await sb.settle();
  assert.equal((await h.issueOf(review)).title, `[breakglass access review] ${PERIOD}`);
  // A253b: retitled as another period's review, it is still this one (the former title says which).
  await sb.as("mallory").rest.issues.update({
    owner,
    repo,
    issue_number: review,
    title: "[breakglass access review] 2026-10",
  });
  await sb.settle();
  assert.equal((await h.issueOf(review)).title, `[breakglass access review] ${PERIOD}`);
  assert.equal((await records()).state.confirmations.size, 0);
});

it("A222: closing the review before every resource is confirmed reopens it", async () => {
  await sb.as("mallory").rest.issues.update({ owner, repo, issue_number: review, state: "closed" });
  await sb.settle();
  assert.equal((await h.issueOf(review)).state, "open");
  assert.match((await h.appTexts(review)).at(-1)!, /6 resource\(s\) nobody confirmed/);
});

it("A226: an edit and a close while the app is down (webhooks lost) are undone by the next sweep, and an owner's /confirm is taken then", async () => {
  const before = (await h.issueOf(review)).body ?? "";
  await sb.stopApp();
  const lost = await h.say("bob", review, "/confirm prod-database");
  await sb.as("mallory").rest.issues.update({
    owner,
    repo,
    issue_number: review,
    body: before.replace(/- \[ \]/g, "- [x]"),
    state: "closed",
  });
  await sb.startApp(); // its start-up reconcile is a sweep
  await sb.settle();
  const issue = await h.issueOf(review);
  assert.equal(issue.state, "open");
  assert.equal(
    issue.body,
    before
      .replace(
        /### `prod-database` — ⏳ to confirm by \S+/,
        "### `prod-database` — ✅ confirmed by @bob on 2026-11-24",
      )
      .replace("- [ ] Confirmed (comment `/confirm prod-database`)", "- [x] Confirmed by @bob")
      .replace("**6 of 6** still to confirm", "**5 of 6** still to confirm"),
  );
  assert.deepEqual([...(await records()).state.confirmations.keys()], ["prod-database"]);
  assert.deepEqual(await h.reactions(lost), ["eyes", "rocket"]);
  // A second sweep handles nothing twice.
  const comments = (await h.appTexts(review)).length;
  await sb.app.reconcileAll();
  await sb.settle();
  assert.equal((await h.appTexts(review)).length, comments);
});

it("A250: a retitle and an edit of the review while the app is down are put back at restart and said so, and a /confirm posted meanwhile is still read", async () => {
  const before = (await h.issueOf(review)).body ?? "";
  const earlier = (await h.appTexts(review)).length;
  await sb.stopApp();
  await sb.as("mallory").rest.issues.update({
    owner,
    repo,
    issue_number: review,
    title: "old review, nothing to do",
    body: "All confirmed.",
  });
  const lost = await h.say("mallory", review, "/confirm all");
  await sb.startApp();
  const issue = await h.issueOf(review);
  assert.equal(issue.title, `[breakglass access review] ${PERIOD}`);
  assert.equal(issue.body, before);
  // Read on the review as the app wrote it (a retitle does not hide it), and refused: mallory owns nothing.
  assert.deepEqual(await h.reactions(lost), ["-1", "eyes"]);
  const texts = await h.appTexts(review);
  assert.equal(
    texts.slice(earlier).filter((t) => /changed while the app was not running, so it was put back/.test(t))
      .length,
    1,
  );
  // Overdue status changes are the app's own writes, not edits: a second restart says nothing more.
  await sb.stopApp();
  await sb.startApp();
  assert.equal((await h.appTexts(review)).length, texts.length);
});

it("A255: a writer who edits or deletes a comment of the app on the review gets it put back (or posted again, quoted) with their name; one edited while the app is down is flagged at restart, once", async () => {
  const appComments = async () =>
    (
      await sb.as("mallory").paginate(sb.as("mallory").rest.issues.listComments, {
        owner,
        repo,
        issue_number: review,
        per_page: 100,
      })
    ).filter((c) => c.user?.login === sb.appLogin);
  const [first, second, third] = await appComments();
  assert.ok(first && second && third);
  sb.clock.advance(5_000); // GitHub's updated_at (1-second grain) then tells an edit from the post
  await sb.as("mallory").rest.issues.updateComment({
    owner,
    repo,
    comment_id: first.id,
    body: "All resources confirmed by the owners.",
  });
  await sb.settle();
  assert.equal((await appComments()).find((c) => c.id === first.id)?.body, first.body);
  assert.match(
    (await h.appTexts(review)).at(-1)!,
    new RegExp(`@mallory edited a comment of the app here \\(${first.id}\\); it was put back`),
  );

  await sb.as("mallory").rest.issues.deleteComment({ owner, repo, comment_id: second.id });
  await sb.settle();
  const reposted = (await h.appTexts(review)).at(-1)!;
  assert.match(
    reposted,
    new RegExp(`@mallory deleted a comment of the app here \\(${second.id}\\)\\. It said:`),
  );
  assert.ok(reposted.includes("> "), reposted);

  await sb.stopApp();
  await sb.as("mallory").rest.issues.updateComment({
    owner,
    repo,
    comment_id: third.id,
    body: "Nothing to do here: the review is void.",
  });
  await sb.startApp();
  const flags = (await h.appTexts(review)).filter((t) =>
    t.includes(`A comment of the app here (${third.id}) was edited while the app was not running`),
  );
  assert.equal(flags.length, 1);
  // The app's own put-back of the first comment is not taken for an edit, and a second restart flags nothing more.
  assert.ok(!(await h.appTexts(review)).some((t) => t.includes(`(${first.id}) was edited while`)));
  const count = (await h.appTexts(review)).length;
  await sb.stopApp();
  await sb.startApp();
  assert.equal((await h.appTexts(review)).length, count);
});

const exportAs = (...args: string[]) => auditExport(sb, `${owner}/${repo}`, ...args);

it("a review not confirmed within 14 days is overdue on the dashboard and in every audit export format", async () => {
  assert.doesNotMatch(await (await fetch(`${sb.app.url}/breakglass`)).text(), /overdue since/);
  sb.clock.advance(15 * 86_400_000);
  await sb.app.runDue();
  await sb.settle();
  const dashboard = await (await fetch(`${sb.app.url}/breakglass`)).text();
  assert.match(dashboard, /Access reviews to confirm \(5 overdue\)/);
  assert.match(
    dashboard,
    /<code>aws-production<\/code><\/td><td><span class="bad">overdue since 2026-12-08<\/span>/,
  );

  const md = await exportAs("--format", "md");
  assert.match(md, /## Access reviews/);
  assert.match(md, /\*\*5 resource\(s\) overdue\*\*/);
  assert.match(md, new RegExp(`\\| ${PERIOD} \\| #${review} \\| aws-production \\| \\*\\*OVERDUE\\*\\* \\|`));
  const html = await exportAs("--format", "html");
  assert.match(html, /<h2>Access reviews <span class="bad">5 overdue<\/span><\/h2>/);
  const json = JSON.parse(await exportAs("--access-reviews", "--format", "json")) as Array<{
    resource: string;
    status: string;
    issue: number;
  }>;
  assert.equal(json.length, 6);
  assert.deepEqual(
    json.filter((r) => r.status !== "overdue").map((r) => [r.resource, r.status]),
    [["prod-database", "confirmed"]],
  );
  assert.ok(json.every((r) => r.issue === review));
  const csv = await exportAs("--access-reviews", "--format", "csv");
  assert.match(csv, /^repository,period,issue,resource,status,due_at,/);
  assert.match(csv, new RegExp(`acme/ops,${PERIOD},${review},aws-production,overdue,`));
  assert.match(await exportAs("--access-reviews", "--format", "md"), /OVERDUE/);
  assert.match(await exportAs("--access-reviews", "--format", "html"), /5 overdue/);
  // The review's signed records travel with the jsonl evidence and verify offline as their own chain.
  const jsonl = await exportAs("--format", "jsonl");
  assert.ok(jsonl.split("\n").some((l) => l.includes(`"repo":"acme/.access-review.ops.${PERIOD}"`)));
});

it("A251: past its due date, the sweep tells the owners of the unconfirmed resources once, on the issue and the policies' notify targets, and records it; no second sweep or replica tells again", async () => {
  const sent = sb.notifier.sent.length;
  // The first sweep records the overdue resources, then GitHub refuses its comment (as a process dying
  // between the two would leave it): the next sweep must still tell the owners, once.
  const refuse = sb.emulator.faults.add({
    method: "POST",
    route: new RegExp(`/issues/${review}/comments$`),
    status: 403,
    times: 1,
  });
  await sb.app.reconcileAll();
  assert.equal(refuse.hits, 1, "the first notice was refused");
  assert.equal((await records()).state.overdue_notified.size, 5, "after the record was written");
  await sb.app.reconcileAll();
  assert.equal(
    (await h.appTexts(review)).filter((t) => t.startsWith("🚨 Overdue")).length,
    0,
    "a record this fresh is still its writer's to tell",
  );
  // Once the record has settled, any sweep (any replica) posts the notice that never arrived.
  await sb.advance(11 * 60_000);
  const replica = await sb.startReplica();
  await Promise.all([sb.app.reconcileAll(), replica.reconcileAll()]);
  await sb.app.reconcileAll();
  await sb.settle();
  const notes = (await h.appTexts(review)).filter((t) => t.startsWith("🚨 Overdue"));
  assert.equal(notes.length, 1, notes.join("\n---\n"));
  assert.match(
    notes[0]!,
    /`aws-production`, `drill`, `github-admin`, `model-guardrail-override`, `model-rollback` were not confirmed in time/,
  );
  assert.match(notes[0]!, /@grace\b.*@heidi\b/);
  assert.doesNotMatch(notes[0]!, /mallory|prod-database/);
  const told = sb.notifier.sent
    .slice(sent)
    .filter((m) => m.notification.event === "access_review_overdue" && m.notification.issue === review);
  assert.equal(told.length, 1, "model-rollback's notify targets, once");
  assert.match(told[0]!.notification.summary, /aws-production, drill, github-admin/);
  const state = (await records()).state;
  assert.deepEqual([...state.overdue_notified.keys()].sort(), [
    "aws-production",
    "drill",
    "github-admin",
    "model-guardrail-override",
    "model-rollback",
  ]);
  assert.match(
    await (await fetch(`${sb.app.url}/breakglass`)).text(),
    /overdue since 2026-12-08<\/span> · owners told 2026-12-09/,
  );
  const json = JSON.parse(await exportAs("--access-reviews", "--format", "json")) as Array<{
    resource: string;
    overdue_notified_at: string | null;
  }>;
  assert.ok(json.find((r) => r.resource === "aws-production")?.overdue_notified_at?.startsWith("2026-12-09"));
  assert.equal(json.find((r) => r.resource === "prod-database")?.overdue_notified_at, null);
  assert.match(await exportAs("--access-reviews", "--format", "csv"), /,overdue_notified_at\r\n/);
});

it("A291: a writer's comment carrying the overdue notice's marker does not stand for the app's notice; a writer who deletes the app's notice gets it quoted back at once and the notice told again, once, when its record has settled", async () => {
  const notices = async () => (await h.appTexts(review)).filter((t) => t.startsWith("🚨 Overdue"));
  const before = await notices();
  assert.equal(before.length, 1);
  const marker = /<!-- breakglass:access-review-overdue:[^>]* -->/.exec(before[0]!)?.[0];
  assert.ok(marker, "the app's notice carries its marker");
  const sent = sb.notifier.sent.length;
  const comments = async () =>
    await sb.as("mallory").paginate(sb.as("mallory").rest.issues.listComments, {
      owner,
      repo,
      issue_number: review,
      per_page: 100,
    });
  const notice = (await comments()).find((c) => c.user?.login === sb.appLogin && c.body?.includes(marker));
  assert.ok(notice);
  // A writer's copy of the marker, then the app's notice deleted: the marker in the writer's comment must not count.
  await sb.as("mallory").rest.issues.createComment({
    owner,
    repo,
    issue_number: review,
    body: `🚨 Overdue: nothing to see.\n\n${marker}`,
  });
  await sb.as("mallory").rest.issues.deleteComment({ owner, repo, comment_id: notice.id });
  await sb.settle();
  const reposted = (await h.appTexts(review)).at(-1)!;
  assert.match(reposted, new RegExp(`@mallory deleted a comment of the app here \\(${notice.id}\\)`));
  // The put-back quotes the notice's text, not its marker: once the record has settled, a sweep tells
  // the owners again, once (two processes sweeping at once included), and never because of the writer's copy.
  await sb.advance(11 * 60_000);
  const replica = await sb.startReplica();
  await Promise.all([sb.app.reconcileAll(), replica.reconcileAll()]);
  await sb.app.reconcileAll();
  await sb.settle();
  const again = await notices();
  assert.equal(again.length, 1, again.join("\n---\n"));
  assert.ok(again[0]!.includes(marker));
  assert.ok(
    sb.notifier.sent.slice(sent).filter((m) => m.notification.event === "access_review_overdue").length <= 1,
    "a notify target is told again at most once",
  );
});

it("owners confirm their resources with /confirm; the body shows it from the records and the last confirmation closes the review", async () => {
  const id = await h.say("grace", review, "/confirm model-rollback model-guardrail-override");
  assert.deepEqual(await h.reactions(id), ["eyes", "rocket"]);
  let body = (await h.issueOf(review)).body ?? "";
  assert.match(body, /### `model-rollback` — ✅ confirmed by @grace on 2026-12-09/);
  assert.match(body, /- \[x\] Confirmed by @grace/);
  assert.match(body, /### `aws-production` — 🚨 overdue \(was due 2026-12-08\)/);
  const again = await h.say("heidi", review, "/confirm model-rollback");
  assert.match((await h.appTexts(review)).at(-1)!, /`already_confirmed`/);
  assert.deepEqual(await h.reactions(again), ["-1", "eyes"]);

  await h.say("bob", review, "/confirm all"); // drill (sre): prod-database (dba) he confirmed already
  body = (await h.issueOf(review)).body ?? "";
  assert.match(body, /### `prod-database` — ✅ confirmed by @bob/);
  assert.match(body, /### `drill` — ✅ confirmed by @bob/);
  assert.equal((await h.issueOf(review)).state, "open");
  await h.say("erin", review, "/confirm all");
  const state = (await records()).state;
  assert.equal(state.confirmations.size, 6);
  assert.ok(state.completed_at);
  const issue = await h.issueOf(review);
  assert.equal(issue.state, "closed");
  assert.match(issue.body ?? "", /Every resource was confirmed/);
});

it("A252: an edit of a completed review while the app is down is put back at restart", async () => {
  const before = (await h.issueOf(review)).body ?? "";
  await sb.stopApp();
  await sb
    .as("mallory")
    .rest.issues.update({ owner, repo, issue_number: review, body: "Nobody confirmed anything." });
  await sb.startApp();
  assert.equal((await h.issueOf(review)).body, before);
  assert.match(
    (await h.appTexts(review)).at(-1)!,
    /changed while the app was not running, so it was put back/,
  );
});
