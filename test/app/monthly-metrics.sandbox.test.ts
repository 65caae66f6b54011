/**
 * The monthly metrics issue (issue 21): the first sweep of a month opens one issue with last month's
 * figures from the app's signed records; a second sweep, a second replica or a restart never opens
 * another, and a month with nothing in it opens nothing.
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import { auditExport } from "../support/audit-export.ts";
import { sandboxHelpers, withoutStepUp } from "../support/sandbox-helpers.ts";

const owner = "acme";
const repo = "ops";
const DAY = 86_400_000;

let sb: Sandbox;
const h = sandboxHelpers(() => sb);
before(async () => {
  sb = await startSandbox(); // the clock starts on 2026-11-24
  withoutStepUp(sb); // this suite is about the figures, not step-up
});
after(() => sb.close());

const metricsIssues = async () => {
  const all = await sb
    .as("dave")
    .paginate(sb.as("dave").rest.issues.listForRepo, { owner, repo, state: "all", per_page: 100 });
  return all.filter((i) => i.user?.login === sb.appLogin && i.title.startsWith("[breakglass metrics]"));
};

it("a month with no request opens nothing; the first sweep after a month with requests opens one metrics issue, and only one", async () => {
  await sb.app.reconcileAll(); // November: October had nothing
  await sb.settle();
  assert.equal((await metricsIssues()).length, 0, "no figures for a month without a request");

  // November: one granted request with an incident link, one break-glass grant without, one denied.
  const withIncident = await h.openRequest("dave", {
    resource: "model-guardrail-override",
    role: "override",
    duration: "30m",
    severity: "critical",
    justification: "Classifier blocks every answer.",
    incident: "https://status.example.com/incidents/42",
  });
  await h.say("grace", withIncident, "/approve");
  const selfApproved = await h.openRequest("mallory", {
    resource: "model-rollback",
    role: "rollback",
    duration: "30m",
    severity: "high",
    justification: "Wrong language in every answer.",
  });
  await h.say(
    "mallory",
    selfApproved,
    "/break-glass The approvers are all asleep and customers are affected",
  );
  const denied = await h.openRequest("rita", {
    resource: "model-guardrail-override",
    role: "override",
    duration: "30m",
    severity: "critical",
    justification: "Want to see whether the override still works after the deploy.",
  });
  await h.say("grace", denied, "/deny not an emergency");
  await sb.settle();
  assert.equal(
    (await h.stateOf(withIncident)).status,
    "active",
    (await h.appTexts(withIncident)).join("\n---\n"),
  );
  // model-rollback's grant ends with its job (no keep_alive_after_job): granted, then revoked.
  assert.ok(
    ["active", "revoked"].includes((await h.stateOf(selfApproved)).status),
    (await h.appTexts(selfApproved)).join("\n---\n"),
  );
  assert.equal((await h.stateOf(denied)).status, "denied", (await h.appTexts(denied)).join("\n---\n"));

  sb.clock.advance(60 * 60_000); // both grants end and are revoked on time
  await sb.app.runDue();
  await sb.settle();

  sb.clock.advance(8 * DAY); // 2026-12-02
  await sb.app.runDue();
  await sb.settle();
  const reports = await sb.app.reconcileAll();
  await sb.settle();
  const opened = await metricsIssues();
  assert.equal(opened.length, 1, JSON.stringify(reports));
  const issue = opened[0]!;
  assert.equal(issue.title, "[breakglass metrics] 2026-11");
  assert.ok(issue.labels.some((l) => (typeof l === "string" ? l : l.name) === "breakglass:metrics"));
  const body = issue.body ?? "";
  assert.match(body, /\| Requests \(drills apart\) \| 3 \|/);
  assert.match(body, /\| Denied \/ timed out \| 1 \/ 0 \|/);
  assert.match(body, new RegExp(`\\| Grants without an incident link \\| 1: #${selfApproved} \\|`));
  assert.match(body, /\| Break-glass \(self-approved\) share of grants \| 1 \(50 %\) \|/);
  assert.match(body, /No drill this month/);

  // A second sweep, a second replica's sweep and a restart open nothing more.
  const replica = await sb.startReplica();
  await Promise.all([sb.app.reconcileAll(), replica.reconcileAll()]);
  await sb.stopApp();
  await sb.startApp();
  await sb.app.reconcileAll();
  await sb.settle();
  assert.equal((await metricsIssues()).length, 1);
});

it("A253: a writer who edits the metrics issue's figures or title gets them put back from the ledger, with a note; the export gives the figures as posted", async () => {
  const [issue] = await metricsIssues();
  const posted = issue!.body ?? "";
  const forged = posted.replace(/\| Requests \(drills apart\) \| 3 \|/, "| Requests (drills apart) | 0 |");
  assert.notEqual(forged, posted);
  await sb.as("mallory").rest.issues.update({ owner, repo, issue_number: issue!.number, body: forged });
  await sb.settle();
  assert.equal((await h.issueOf(issue!.number)).body, posted);
  assert.match(
    (await h.appTexts(issue!.number)).at(-1)!,
    /@mallory: this issue's text is written by the app from its records, so your edit was put back/,
  );
  await sb.as("mallory").rest.issues.update({
    owner,
    repo,
    issue_number: issue!.number,
    title: "[breakglass metrics] nothing to see",
  });
  await sb.settle();
  assert.equal((await h.issueOf(issue!.number)).title, "[breakglass metrics] 2026-11");
  const rows = JSON.parse(await auditExport(sb, `${owner}/${repo}`, "--metrics")) as Array<{
    month: string;
    issue: number;
    requests: number;
    verified: boolean;
  }>;
  assert.deepEqual(
    rows.map((r) => [r.month, r.issue, r.requests, r.verified]),
    [["2026-11", issue!.number, 3, true]],
  );
});

it("A254: figures forged while the app is down are not what the export gives, and are put back at restart, said so", async () => {
  const [issue] = await metricsIssues();
  const posted = issue!.body ?? "";
  await sb.stopApp();
  await sb.as("mallory").rest.issues.update({
    owner,
    repo,
    issue_number: issue!.number,
    body: posted.replace(/\| Granted \(one per resource\) \| \d+ \|/, "| Granted (one per resource) | 0 |"),
  });
  await sb.startApp();
  assert.equal((await h.issueOf(issue!.number)).body, posted);
  assert.match(
    (await h.appTexts(issue!.number)).at(-1)!,
    /changed while the app was not running, so it was put back/,
  );
  assert.match(
    await auditExport(sb, `${owner}/${repo}`, "--metrics", "--format", "csv"),
    /^repository,month,issue,posted_at,verified,requests,granted,/,
  );
});

it("a sweep that fails to open the issue (GitHub refuses, or the process dies) does not lose the month: the next sweep opens it, once", async () => {
  // December: one request, so its figures are due in January.
  const n = await h.openRequest("dave", {
    resource: "model-guardrail-override",
    role: "override",
    duration: "30m",
    severity: "critical",
    justification: "Classifier blocks every answer again.",
  });
  await h.say("grace", n, "/deny handled without access");
  await sb.settle();
  sb.clock.advance(31 * DAY); // 2027-01-02
  await sb.app.runDue();
  await sb.settle();
  const refuse = sb.emulator.faults.add({
    method: "POST",
    route: "/repos/{owner}/{repo}/issues",
    status: 500,
  });
  const failed = await sb.app.reconcileAll();
  refuse.remove();
  await sb.settle();
  assert.ok(refuse.hits > 0, "the sweep tried to open the issue");
  const december = async () =>
    (await metricsIssues()).filter((i) => i.title === "[breakglass metrics] 2026-12");
  assert.equal((await december()).length, 0, JSON.stringify(failed));
  await sb.app.reconcileAll();
  await sb.settle();
  assert.equal((await december()).length, 1, "the next sweep opened it");
  // A restart (its memo gone) and another sweep find the month taken and open nothing more.
  await sb.stopApp();
  await sb.startApp();
  await sb.app.reconcileAll();
  await sb.settle();
  assert.equal((await december()).length, 1);
});

it("an issue opened by a sweep that died before its reservation is adopted by the next sweep, not opened again", async () => {
  const n = await h.openRequest("dave", {
    resource: "model-guardrail-override",
    role: "override",
    duration: "30m",
    severity: "critical",
    justification: "Classifier blocks every answer, January.",
  });
  await h.say("grace", n, "/deny handled without access");
  await sb.settle();
  sb.clock.advance(31 * DAY); // 2027-02-02
  await sb.app.runDue();
  await sb.settle();
  // The reservation is a ref in the ledger repository: refusing its creation is the crash after the issue.
  const refuse = sb.emulator.faults.add({
    method: "POST",
    route: "/repos/{owner}/{repo}/git/refs",
    status: 500,
  });
  await sb.app.reconcileAll();
  refuse.remove();
  await sb.settle();
  assert.ok(refuse.hits > 0, "the sweep tried to take the reservation");
  const january = async () =>
    (await metricsIssues()).filter((i) => i.title === "[breakglass metrics] 2027-01");
  assert.equal((await january()).length, 1, "opened, its reservation not taken");
  await sb.stopApp();
  await sb.startApp();
  await sb.app.reconcileAll();
  await sb.settle();
  const after = await january();
  assert.equal(after.length, 1, "adopted, not opened again");
  assert.equal(after[0]!.state, "open");
});

it("two replicas sweeping the first day of a month at once leave one metrics issue; a duplicate, if both opened one, is closed and unlabelled", async () => {
  const n = await h.openRequest("dave", {
    resource: "model-guardrail-override",
    role: "override",
    duration: "30m",
    severity: "critical",
    justification: "Classifier blocks every answer, February.",
  });
  await h.say("grace", n, "/deny handled without access");
  await sb.settle();
  sb.clock.advance(28 * DAY); // 2027-03-02
  await sb.app.runDue();
  await sb.settle();
  const replica = await sb.startReplica();
  await Promise.all([sb.app.reconcileAll(), replica.reconcileAll()]);
  await sb.settle();
  const february = (await metricsIssues()).filter((i) => i.title === "[breakglass metrics] 2027-02");
  assert.equal(february.length, 1, "exactly one issue carries the month's title");
  assert.equal(february[0]!.state, "open");
  const all = await sb
    .as("dave")
    .paginate(sb.as("dave").rest.issues.listForRepo, { owner, repo, state: "all", per_page: 100 });
  for (const duplicate of all.filter((i) => i.title === "[breakglass metrics] duplicate for 2027-02")) {
    assert.equal(duplicate.state, "closed");
    assert.ok(!duplicate.labels.some((l) => (typeof l === "string" ? l : l.name) === "breakglass:metrics"));
  }
});

it("an older app issue a writer retitles as this month's is put back and not taken for it: the sweep opens the month's own", async () => {
  const n = await h.openRequest("dave", {
    resource: "model-guardrail-override",
    role: "override",
    duration: "30m",
    severity: "critical",
    justification: "Classifier blocks every answer, March.",
  });
  await h.say("grace", n, "/deny handled without access");
  await sb.settle();
  // A writer takes February's issue (the app's, labelled) and renames it to March's before April's first sweep.
  const [feb] = (await metricsIssues()).filter((i) => i.title === "[breakglass metrics] 2027-02");
  await sb
    .as("dave")
    .rest.issues.update({ owner, repo, issue_number: feb!.number, title: "[breakglass metrics] 2027-03" });
  sb.clock.advance(31 * DAY); // 2027-04-02
  await sb.app.runDue();
  await sb.settle();
  await sb.app.reconcileAll();
  await sb.settle();
  const march = (await metricsIssues()).filter((i) => i.title === "[breakglass metrics] 2027-03");
  // February's title was put back from its ledger record at once (A253): only the month's own is March's.
  assert.equal((await h.issueOf(feb!.number)).title, "[breakglass metrics] 2027-02");
  assert.equal(march.length, 1, "the month's own");
  const own = march.find((i) => i.number !== feb!.number)!;
  assert.match(own.body ?? "", /\| Requests \(drills apart\) \| 1 \|/);
});

it("a sweep that dies after the reservation but before recording the figures does not lose them: the next process records them for the month's issue", async () => {
  const n = await h.openRequest("dave", {
    resource: "model-guardrail-override",
    role: "override",
    duration: "30m",
    severity: "critical",
    justification: "Classifier blocks every answer, April.",
  });
  await h.say("grace", n, "/deny handled without access");
  await sb.settle();
  sb.clock.advance(31 * DAY); // 2027-05-03
  await sb.app.runDue();
  await sb.settle();
  // The figures' record is the month's first ledger commit: refusing commits is the crash after the reservation.
  const refuse = sb.emulator.faults.add({
    method: "POST",
    route: "/repos/{owner}/{repo}/git/commits",
    status: 500,
  });
  await sb.app.reconcileAll();
  refuse.remove();
  await sb.settle();
  assert.ok(refuse.hits > 0, "the sweep tried to record the figures");
  const april = async () => (await metricsIssues()).filter((i) => i.title === "[breakglass metrics] 2027-04");
  assert.equal((await april()).length, 1, "opened and reserved");
  const exported = async () =>
    await auditExport(sb, `${owner}/${repo}`, "--metrics", "--format", "csv", "--since", "2027-04-01");
  assert.doesNotMatch(await exported(), /,2027-04,/, "no figures recorded yet");
  // Meanwhile a writer forges the unrecorded figures.
  const [issue] = await april();
  await sb.as("mallory").rest.issues.update({
    owner,
    repo,
    issue_number: issue!.number,
    body: (issue!.body ?? "").replace(
      /\| Requests \(drills apart\) \| \d+ \|/,
      "| Requests (drills apart) | 0 |",
    ),
  });
  await sb.stopApp();
  await sb.startApp();
  await sb.app.reconcileAll();
  await sb.settle();
  const after = await april();
  assert.equal(after.length, 1, "the month's issue, not a second one");
  assert.match(await exported(), new RegExp(`,2027-04,${issue!.number},`), "the figures are recorded for it");
  assert.match(after[0]!.body ?? "", /\| Requests \(drills apart\) \| 1 \|/, "and put back on it");
});

it("A290: while a reserved month's figures are unrecorded, another app issue a writer labels and retitles as the month's is not taken for it (its body is not overwritten with figures)", async () => {
  const n = await h.openRequest("dave", {
    resource: "model-guardrail-override",
    role: "override",
    duration: "30m",
    severity: "critical",
    justification: "Classifier blocks every answer, May.",
  });
  await h.say("grace", n, "/deny handled without access");
  await sb.settle();
  sb.clock.advance(31 * DAY); // 2027-06-03
  await sb.app.runDue();
  await sb.settle();
  const refuse = sb.emulator.faults.add({
    method: "POST",
    route: "/repos/{owner}/{repo}/git/commits",
    status: 500,
  });
  await sb.app.reconcileAll();
  refuse.remove();
  await sb.settle();
  const may = async () => (await metricsIssues()).filter((i) => i.title === "[breakglass metrics] 2027-05");
  const [own] = await may();
  assert.ok(own, "May's issue was opened and reserved");
  // Another of the app's issues, older than May's: the writer gives it the label and May's title while the app is down.
  const all = await sb
    .as("dave")
    .paginate(sb.as("dave").rest.issues.listForRepo, { owner, repo, state: "all", per_page: 100 });
  const other = all
    .filter((i) => i.user?.login === sb.appLogin && !i.title.startsWith("[breakglass metrics]"))
    .sort((a, b) => a.number - b.number)[0];
  assert.ok(other && other.number < own.number, "an older app issue to retitle");
  await sb.stopApp();
  await sb.as("dave").rest.issues.update({
    owner,
    repo,
    issue_number: other.number,
    title: "[breakglass metrics] 2027-05",
    labels: ["breakglass:metrics"],
  });
  await sb.startApp();
  await sb.app.reconcileAll();
  await sb.settle();
  const exported = await auditExport(
    sb,
    `${owner}/${repo}`,
    "--metrics",
    "--format",
    "csv",
    "--since",
    "2027-05-01",
  );
  assert.match(
    exported,
    new RegExp(`,2027-05,${own.number},`),
    "the figures are recorded for May's own issue",
  );
  assert.equal((await h.issueOf(other.number)).body, other.body, "the other issue's body is untouched");
});
