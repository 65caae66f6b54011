/**
 * Attack catalogue, approvals that must hold at the moment of the grant, not only when given:
 * an /approve delivered after an edit it never saw, edits by someone other than the requester,
 * approvers who lost ownership or access, policies changed after approval, approvals never
 * collected, comments an integration posted in a person's name, and requesters the policy does not
 * admit. Workflows do not run by themselves here: each case runs the grant workflow (the real
 * Action) when it wants the exchange to be tried, so the exchange's own checks are what refuse.
 * model-guardrail-override needs 1 approval from @acme/ai-governance (grace, heidi);
 * prod-database needs 2 from @acme/dba (bob, carol) and auto-approves read/low requests.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Octokit } from "@octokit/rest";
import { requestFormBody } from "../../src/sandbox/request-body.ts";
import {
  repositoryFilesFrom,
  SANDBOX_TEAMS,
  startSandbox,
  type Sandbox,
} from "../../src/sandbox/start-sandbox.ts";
import {
  approve,
  appTexts,
  assertNothingGranted,
  assertRefusedExchange,
  exchange,
  grantClaims,
  historyOf,
  openRequest,
  owner,
  refusalFor,
  repo,
  guardrail,
} from "./attack-kit.ts";

let sb: Sandbox;
let guardrailPolicy: string;
const database = { resource: "prod-database", role: "read", duration: "1h", severity: "high" } as const;
const GUARDRAIL_FILE = "policies/model-guardrail-override.yml";

before(async () => {
  sb = await startSandbox({ runWorkflows: false, permissions: { oscar: "read" } });
  guardrailPolicy = (await repositoryFilesFrom(process.cwd()))[GUARDRAIL_FILE]!;
});
after(() => sb.close());

const resetGuardrail = () => {
  sb.emulator.setFile(GUARDRAIL_FILE, guardrailPolicy);
  sb.emulator.setTeamMembers("acme/ai-governance", SANDBOX_TEAMS["acme/ai-governance"]!);
  sb.emulator.setTeamPermission("acme/ai-governance", "write");
};

/** The grant workflow's exchange, as the real Action in a real run would make it. */
async function exchangeAsGrantRun(n: number) {
  return exchange(sb, await sb.issuer.mint(grantClaims(sb, {}, n)), n);
}

async function approvedGuardrail(requester: string): Promise<number> {
  const n = await openRequest(sb, requester, guardrail);
  sb.clock.advance(2_000);
  await approve(sb, "grace", n);
  assert.equal((await historyOf(sb, n)).state.status, "approved", "grace's approval completes the request");
  return n;
}

test("A100 an /approve written before the requester's edit but delivered after it does not count for the edited request", async () => {
  const n = await openRequest(sb, "dave", guardrail);
  sb.clock.advance(2_000);
  // GitHub neither orders nor guarantees deliveries: grace's comment reaches the app only after the edit.
  sb.emulator.faults.holdWebhooks(
    ({ event, action, payload }) =>
      event === "issue_comment" &&
      action === "created" &&
      (payload.comment as { user: { login: string } }).user.login === "grace",
  );
  const { data: early } = await sb
    .as("grace")
    .rest.issues.createComment({ owner, repo, issue_number: n, body: "/approve for 30 minutes" });
  sb.clock.advance(2_000);
  await sb.as("dave").rest.issues.update({
    owner,
    repo,
    issue_number: n,
    body: requestFormBody({
      ...guardrail,
      duration: "2h",
      justification: "Now I need it for the whole evening.",
    }),
  });
  await sb.settle();
  const released = await sb.emulator.releaseHeldWebhooks();
  sb.emulator.faults.clear();
  await sb.settle();
  assert.equal(released.length, 1, "the held /approve was delivered late");
  assert.equal(released[0]!.status, 202, "acknowledged (the work runs after the answer)");
  const message = await refusalFor(sb, n, "grace", "approval_predates_request");
  assert.match(message, /before the request's current content/);
  assert.match(message, /approve again in a new comment/);
  const h = await assertNothingGranted(sb, n);
  assert.equal(h.state.status, "requested");
  assert.equal(h.state.approvals.length, 0);
  assert.equal(h.state.request?.duration_seconds, 2 * 3600, "the recorded request is the edited one");
  // An approval written after the edit was recorded counts: the refusal is about timing, not about grace.
  sb.clock.advance(2_000);
  const fresh = await approve(sb, "grace", n, "for the evening");
  assert.ok(fresh > early.id);
  assert.equal((await historyOf(sb, n)).state.status, "approved");
});

test("A101 a redelivered /approve given for the old content does not count after the edit voided it", async () => {
  const n = await openRequest(sb, "erin", database);
  sb.clock.advance(2_000);
  await approve(sb, "bob", n, "read is fine");
  const delivery = sb.emulator.deliveries.findLast(
    (d) =>
      d.event === "issue_comment" &&
      d.action === "created" &&
      (d.payload.comment as { user: { login: string } }).user.login === "bob",
  )!;
  sb.clock.advance(2_000);
  await sb.as("erin").rest.issues.update({
    owner,
    repo,
    issue_number: n,
    body: requestFormBody({ ...database, role: "write" }),
  });
  await sb.settle();
  assert.equal((await historyOf(sb, n)).state.approvals.length, 0, "the edit voided bob's approval");
  await sb.emulator.redeliver(delivery.guid);
  await sb.settle();
  await refusalFor(sb, n, "bob", "approval_predates_request");
  sb.clock.advance(2_000);
  await approve(sb, "carol", n);
  const h = await assertNothingGranted(sb, n);
  assert.equal(h.state.status, "requested", "only carol's approval counts: 1 of 2");
  assert.deepEqual(
    h.state.approvals.map((a) => a.actor),
    ["carol"],
  );
});

test("A102 an edit of the request by someone other than the requester is refused and recorded with the editor's login", async () => {
  const n = await openRequest(sb, "dave", database);
  await sb.as("mallory").rest.issues.update({
    owner,
    repo,
    issue_number: n,
    body: requestFormBody({
      ...database,
      role: "write",
      duration: "4h",
      justification: "Rewritten by someone else.",
    }),
  });
  await sb.settle();
  const texts = await appTexts(sb, n);
  const refusal = texts.find((t) => t.includes("(`edit_not_by_requester`)"));
  assert.ok(refusal, `a refusal of the edit; got:\n${texts.map((t) => t.slice(0, 200)).join("\n---\n")}`);
  assert.match(refusal, /@mallory edited this request, but only @dave/);
  assert.match(refusal, /edit the issue yourself/);
  assert.ok(
    !texts.some((t) => t.includes("`write`") && t.includes("requests")),
    "nobody is told that dave requests write",
  );
  const h = await assertNothingGranted(sb, n);
  assert.equal(h.state.request?.role, "read", "the recorded request stands");
  assert.equal(h.state.request?.duration_seconds, 3600);
  const refused = h.events.find((e) => e.type === "edit_refused");
  assert.ok(refused && refused.type === "edit_refused");
  assert.equal(refused.actor, "mallory");
  assert.equal(refused.requester, "dave");
  const status = texts.find((t) => t.startsWith("<!-- breakglass:status"));
  assert.ok(
    status?.includes("read") && !status.includes("`write`"),
    "the status comment shows the recorded request",
  );
  // The requester's own edit still changes the request.
  await sb.as("dave").rest.issues.update({
    owner,
    repo,
    issue_number: n,
    body: requestFormBody({ ...database, duration: "2h" }),
  });
  await sb.settle();
  assert.equal((await historyOf(sb, n)).state.request?.duration_seconds, 2 * 3600);
});

test("A103 an approver removed from the owning team before the completing approval no longer counts", async () => {
  const n = await openRequest(sb, "ivan", database);
  sb.clock.advance(2_000);
  await approve(sb, "bob", n);
  sb.emulator.setTeamMembers("acme/dba", ["carol"]);
  try {
    await approve(sb, "carol", n);
    const texts = await appTexts(sb, n);
    assert.ok(
      texts.some(
        (t) => t.includes("approval(s) no longer count") && t.includes("@bob is no longer a CODEOWNER"),
      ),
      `the app says bob's approval no longer counts; got:\n${texts.map((t) => t.slice(0, 200)).join("\n---\n")}`,
    );
    const h = await assertNothingGranted(sb, n);
    assert.equal(h.state.status, "requested", "carol alone is 1 of 2");
    assert.deepEqual(
      h.state.approvals.map((a) => a.actor),
      ["carol"],
    );
    assert.ok(
      h.events.some(
        (e) =>
          e.type === "approvals_voided" &&
          e.voided.some((v) => v.actor === "bob" && v.reason === "not_codeowner"),
      ),
    );
  } finally {
    sb.emulator.setTeamMembers("acme/dba", SANDBOX_TEAMS["acme/dba"]!);
  }
});

test("A104 an approver removed from the owning team after approval stops the grant at the exchange", async () => {
  const n = await approvedGuardrail("bob");
  sb.emulator.setTeamMembers("acme/ai-governance", ["heidi"]);
  try {
    const answer = await exchangeAsGrantRun(n);
    assertRefusedExchange(answer, 409, "approval_stale");
    assert.match(answer.body.message!, /@grace is no longer a CODEOWNER/);
    assert.match(answer.body.message!, /approve` again/);
    const h = await assertNothingGranted(sb, n);
    assert.equal(h.state.status, "requested", "the request waits for a fresh approval");
    assert.ok(
      (await appTexts(sb, n)).some(
        (t) => t.includes("@grace is no longer a CODEOWNER") && t.includes("`/approve` again"),
      ),
    );
  } finally {
    resetGuardrail();
  }
});

test("A105 an owning team without write access of its own cannot approve, and its approvals stop counting", async () => {
  const n = await approvedGuardrail("erin");
  // GitHub: a CODEOWNERS team must itself have write access, even if each member has it personally.
  sb.emulator.setTeamPermission("acme/ai-governance", "read");
  try {
    const answer = await exchangeAsGrantRun(n);
    assertRefusedExchange(answer, 409, "approval_stale");
    assert.match(answer.body.message!, /through a team that no longer has write access/);
    sb.clock.advance(2_000);
    await approve(sb, "heidi", n);
    await refusalFor(sb, n, "heidi", "not_codeowner");
    const h = await assertNothingGranted(sb, n);
    assert.equal(h.state.status, "requested");
    assert.equal(h.state.approvals.length, 0);
  } finally {
    resetGuardrail();
  }
});

for (const [id, what, edit] of [
  ["A106", "a longer max_duration", (text: string) => text.replace("max_duration: 2h", "max_duration: 8h")],
  [
    "A107",
    "wider role scopes",
    (text: string) =>
      text.replace("scopes: [guardrail:disable]", "scopes: [guardrail:disable, guardrail:delete]"),
  ],
] as const) {
  test(`${id} a policy widened after approval (${what}) needs fresh approval before anything is minted`, async () => {
    const n = await approvedGuardrail(id === "A106" ? "rita" : "sam");
    const widened = edit(guardrailPolicy);
    assert.notEqual(widened, guardrailPolicy);
    sb.emulator.setFile(GUARDRAIL_FILE, widened);
    try {
      const answer = await exchangeAsGrantRun(n);
      assertRefusedExchange(answer, 409, "approval_stale");
      assert.match(answer.body.message!, /approved under policy terms that have changed/);
      const h = await assertNothingGranted(sb, n);
      assert.equal(h.state.status, "requested");
      assert.ok(
        h.events.some(
          (e) =>
            e.type === "approvals_voided" &&
            e.voided.some((v) => v.actor === "grace" && v.reason === "policy_changed"),
        ),
      );
      // Approved again under the policy in force, the same request is granted.
      sb.clock.advance(2_000);
      await approve(sb, "grace", n, "under the new terms");
      const granted = await exchangeAsGrantRun(n);
      assert.equal(granted.status, 200, JSON.stringify(granted.body));
      assert.equal((await historyOf(sb, n)).state.status, "active");
    } finally {
      resetGuardrail();
    }
  });
}

test("A108 a policy tightened after approval (more approvals required) stops the grant", async () => {
  const n = await approvedGuardrail("mallory");
  sb.emulator.setFile(GUARDRAIL_FILE, guardrailPolicy.replace(/required: 1\b/, "required: 2"));
  try {
    const answer = await exchangeAsGrantRun(n);
    assertRefusedExchange(answer, 409, "approval_stale");
    const h = await assertNothingGranted(sb, n);
    assert.equal(h.state.status, "requested");
    assert.equal(h.state.required_approvals, 2, "the policy in force decides how many are needed");
    assert.ok((await appTexts(sb, n)).some((t) => t.includes("now asks for **2** approval(s)")));
  } finally {
    resetGuardrail();
  }
});

test("A109 an approved request nobody collected expires: the timers record it and the issue says so", async () => {
  const n = await approvedGuardrail("ivan");
  await sb.advance(61 * 60_000);
  const h = await assertNothingGranted(sb, n);
  assert.equal(h.state.status, "timed_out");
  assert.ok(h.events.some((e) => e.type === "approval_expired"));
  const texts = await appTexts(sb, n);
  assert.ok(
    texts.some((t) => t.includes("**the approval expired**") && t.includes("Open a new request")),
    "the issue says why",
  );
  const answer = await exchangeAsGrantRun(n);
  assertRefusedExchange(answer, 409, "request_expired");
  assert.equal((await sb.as("dave").rest.issues.get({ owner, repo, issue_number: n })).data.state, "closed");
});

test("A110 the exchange itself refuses an approval past its collect deadline, even if no timer fired", async () => {
  const n = await approvedGuardrail("carol");
  sb.clock.advance(30 * 24 * 3600_000); // a month later, with no timer or sweep run in between
  const answer = await exchangeAsGrantRun(n);
  assertRefusedExchange(answer, 409, "request_expired");
  assert.match(answer.body.message!, /not collected within 1h/);
  const h = await assertNothingGranted(sb, n);
  assert.equal(h.state.status, "timed_out");
  assert.ok((await appTexts(sb, n)).some((t) => t.includes("**the approval expired**")));
});

test("A111 an /approve an integration posted on the approver's behalf (performed_via_github_app) is not a command", async () => {
  const n = await openRequest(sb, "rita", guardrail);
  sb.clock.advance(2_000);
  const chatops = new Octokit({
    auth: sb.emulator.userToServerToken("grace", "chatops"),
    baseUrl: sb.emulator.apiUrl,
  });
  const { data } = await chatops.rest.issues.createComment({
    owner,
    repo,
    issue_number: n,
    body: "/approve",
  });
  await sb.settle();
  assert.equal(data.user?.login, "grace", "GitHub attributes the comment to the person");
  assert.equal(data.performed_via_github_app?.slug, "chatops", "and names the app that posted it");
  const message = await refusalFor(sb, n, "grace", "posted_via_app");
  assert.match(message, /through the app chatops/);
  assert.match(message, /Write the command yourself/);
  const h = await assertNothingGranted(sb, n);
  assert.equal(h.state.approvals.length, 0);
});

test("A112 a policy can opt in to commands posted through a named app", async () => {
  // About the app channel only (step-up is test/security/step-up.test.ts): without step-up, so an app's plain comment can count.
  sb.emulator.setFile(
    GUARDRAIL_FILE,
    `${guardrailPolicy.replace("step_up: ssh-signature", "step_up: none")}\ncommands_via_apps: [chatops]\n`,
  );
  try {
    const n = await openRequest(sb, "erin", guardrail);
    sb.clock.advance(2_000);
    const other = new Octokit({
      auth: sb.emulator.userToServerToken("heidi", "otherbot"),
      baseUrl: sb.emulator.apiUrl,
    });
    await other.rest.issues.createComment({ owner, repo, issue_number: n, body: "/approve" });
    await sb.settle();
    await refusalFor(sb, n, "heidi", "posted_via_app");
    const chatops = new Octokit({
      auth: sb.emulator.userToServerToken("grace", "chatops"),
      baseUrl: sb.emulator.apiUrl,
    });
    await chatops.rest.issues.createComment({ owner, repo, issue_number: n, body: "/approve" });
    await sb.settle();
    assert.equal((await historyOf(sb, n)).state.status, "approved", "only the listed app's comment counts");
  } finally {
    resetGuardrail();
  }
});

test("A300 on a request naming several resources, a command posted through an app acts only on the resources whose policy names that app", async () => {
  sb.emulator.setFile(
    GUARDRAIL_FILE,
    `${guardrailPolicy.replace("step_up: ssh-signature", "step_up: none")}\ncommands_via_apps: [chatops]\n`,
  );
  try {
    const n = await openRequest(sb, "uma", { ...guardrail, more: ["model-rollback rollback 20m"] });
    sb.clock.advance(2_000);
    const chatops = new Octokit({
      auth: sb.emulator.userToServerToken("grace", "chatops"),
      baseUrl: sb.emulator.apiUrl,
    });
    await chatops.rest.issues.createComment({ owner, repo, issue_number: n, body: "/approve" });
    await sb.settle();
    const { state } = await historyOf(sb, n);
    assert.equal(state.parts!["model-guardrail-override"]!.approvals.length, 1, "its policy names chatops");
    assert.equal(state.parts!["model-rollback"]!.approvals.length, 0, "model-rollback's does not");
    assert.equal(state.parts!["model-rollback"]!.status, "requested");
  } finally {
    resetGuardrail();
  }
});

test("A113 a read-only outside collaborator's severity: low request is refused, never auto-approved", async () => {
  const { data: permission } = await sb
    .as("dave")
    .rest.repos.getCollaboratorPermissionLevel({ owner, repo, username: "oscar" });
  assert.equal(permission.permission, "read", "GitHub's permission API reports read for oscar");
  const { data: membership } = await sb
    .as("dave")
    .request("GET /orgs/{org}/members/{username}", { org: owner, username: "oscar" })
    .catch((e: { status: number }) => ({ data: e.status }));
  assert.equal(membership, 404, "oscar is not an organisation member: an outside collaborator");
  // Through the REST API GitHub drops the labels a read-only user sets (the issue form would apply
  // them); a triager labelling it, as the form does, makes it a request by oscar all the same.
  const n = await openRequest(sb, "oscar", { ...database, severity: "low" });
  await sb.as("dave").rest.issues.addLabels({ owner, repo, issue_number: n, labels: ["breakglass"] });
  await sb.settle();
  const texts = await appTexts(sb, n);
  assert.ok(
    texts.some(
      (t) =>
        t.includes("(`requester_not_allowed`)") &&
        t.includes("need at least write access") &&
        t.includes("oscar has read"),
    ),
    `the app says why; got:\n${texts.map((t) => t.slice(0, 200)).join("\n---\n")}`,
  );
  assert.ok(!texts.some((t) => t.includes("Auto-approved")), "no auto-approval");
  const h = await assertNothingGranted(sb, n);
  assert.equal(h.state.status, "invalid");
  // The same request by someone with write access is auto-approved by the rule, as the policy means.
  const control = await openRequest(sb, "dave", { ...database, severity: "low" });
  assert.equal((await historyOf(sb, control)).state.status, "approved");
});

test("A114 a requester whose write access was taken away after approval gets nothing: the exchange refuses requester_not_allowed, the same code an /approve would get", async () => {
  const n = await approvedGuardrail("tina");
  sb.emulator.setPermission("tina", "read");
  try {
    const answer = await exchangeAsGrantRun(n);
    assertRefusedExchange(answer, 409, "requester_not_allowed");
    assert.match(answer.body.message!, /tina has read/);
    sb.clock.advance(2_000);
    await approve(sb, "heidi", n);
    await refusalFor(sb, n, "heidi", "requester_not_allowed");
    await assertNothingGranted(sb, n);
  } finally {
    sb.emulator.setPermission("tina", "write");
  }
});
