/**
 * `/break-glass <reason>` through the real app: self-approval only where the policy allows it, by the
 * requester only, everyone in `notify` alerted, a second-person review forced, and repeated use
 * flagged from the requester's earlier records.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, it } from "node:test";
import {
  SANDBOX_OWNER as owner,
  SANDBOX_REPO as repo,
  startSandbox,
  type Sandbox,
} from "../../src/sandbox/start-sandbox.ts";
import { sandboxHelpers } from "../support/sandbox-helpers.ts";

let sb: Sandbox;
const { openRequest, say, appTexts, stateOf, reactions } = sandboxHelpers(() => sb);
before(async () => {
  // A second resource that allows break-glass, for a request naming two.
  const canary = readFileSync("policies/model-rollback.yml", "utf8").replace(
    /^description: .*$/m,
    "description: Canary traffic shift of a production model",
  );
  sb = await startSandbox({ files: { "policies/model-canary.yml": canary } });
});
after(() => sb.close());

const rollback = (who: string) =>
  openRequest(who, { resource: "model-rollback", role: "rollback", duration: "30m", severity: "critical" });

it("the requester breaks the glass where the policy allows it: granted at once, alerted, a second-person review forced", async () => {
  const n = await rollback("ivan");
  const id = await say(
    "ivan",
    n,
    "/break-glass the model is serving harmful answers and no approver answers the page",
  );
  assert.deepEqual(await reactions(id), ["eyes", "rocket"]);
  const s = await stateOf(n);
  assert.ok(s.grant, "approved by break-glass and granted to the workflow");
  assert.equal(s.grant.ended?.reason, "job_ended", "model-rollback grants end with their job");
  assert.equal(s.break_glass?.actor, "ivan");
  assert.equal(s.break_glass?.prior_uses_30d, undefined, "a first use is not flagged as repeated");
  assert.ok(
    (await appTexts(n)).some((t) => t.includes("**broke the glass**") && !t.includes("Repeated use")),
  );
  const alerts = sb.notifier.sent.filter(
    (m) => m.notification.event === "break_glass" && m.notification.issue === n,
  );
  assert.equal(alerts.length, 1, "the policy's notify targets were alerted");
  assert.doesNotMatch(alerts[0]!.notification.summary, /REPEATED/);
  const review = (
    await sb.as("dave").rest.issues.listForRepo({ owner, repo, labels: "breakglass:audit", state: "all" })
  ).data.find((i) => i.title.includes(`Review #${n} `));
  assert.ok(review, "a post-event review issue was opened");
  assert.match(
    review.body ?? "",
    /- \[ \] .*(second person|someone other than)/i,
    "the review has the mandatory second-person item",
  );
});

it("a second break-glass by the same person within 30 days is flagged on the issue, in the record and to notify targets", async () => {
  const n = await rollback("ivan");
  await say("ivan", n, "/break-glass the same model regressed again after the redeploy");
  const s = await stateOf(n);
  assert.ok(s.grant);
  assert.equal(s.break_glass?.prior_uses_30d, 1, "the signed record carries the repeated use");
  assert.ok((await appTexts(n)).some((t) => t.includes("⚠️ **Repeated use**") && t.includes("1 other time")));
  const alert = sb.notifier.sent.filter(
    (m) => m.notification.event === "break_glass" && m.notification.issue === n,
  )[0];
  assert.match(alert?.notification.summary ?? "", /REPEATED USE: 1 earlier in 30 days/);
});

it("one /break-glass on a request naming two resources breaks the glass on both, and counts as one earlier use", async () => {
  const n = await openRequest("rita", {
    resource: "model-rollback",
    role: "rollback",
    duration: "30m",
    severity: "critical",
    more: ["model-canary rollback 30m"],
  });
  await say("rita", n, "/break-glass the model and its canary both serve harmful answers");
  const s = await stateOf(n);
  assert.equal(s.parts!["model-rollback"]!.break_glass?.actor, "rita");
  assert.equal(s.parts!["model-canary"]!.break_glass?.actor, "rita");
  assert.ok(s.parts!["model-rollback"]!.grant && s.parts!["model-canary"]!.grant, "both granted");
  const next = await rollback("rita");
  await say("rita", next, "/break-glass it regressed again");
  assert.equal((await stateOf(next)).break_glass?.prior_uses_30d, 1, "one command, one use");
});

it("break-glass is refused where the policy does not allow it, and for anyone but the requester", async () => {
  const n = await openRequest("erin", {
    resource: "model-guardrail-override",
    role: "override",
    duration: "30m",
    severity: "critical",
  });
  const own = await say("erin", n, "/break-glass nobody answers and users are harmed");
  assert.deepEqual(await reactions(own), ["-1", "eyes"]);
  assert.ok((await appTexts(n)).some((t) => t.includes("`break_glass_not_allowed`")));
  const m = await rollback("olga");
  const other = await say("mallory", m, "/break-glass let me approve it for olga quickly");
  assert.deepEqual(await reactions(other), ["-1", "eyes"]);
  assert.ok((await appTexts(m)).some((t) => t.includes("`not_requester`")));
  assert.equal((await stateOf(n)).status, "requested");
  assert.equal((await stateOf(m)).status, "requested");
});
