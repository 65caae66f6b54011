/**
 * The sandbox in production-limits mode: the app's Octokit throttling exactly as deployed (one write
 * lane per installation, writes a second apart) against an emulator that enforces GitHub's primary
 * and secondary limits. Behaviour only, not timings (those are in bench/): every delivery answered,
 * nothing lost, while two incidents are opened and approved at once.
 */
import { withoutStepUp } from "../support/sandbox-helpers.ts";
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { readHistory } from "../../src/github/issue-records.ts";
import { requestFormBody } from "../../src/sandbox/request-body.ts";
import {
  SANDBOX_OWNER as owner,
  SANDBOX_REPO as repo,
  startSandbox,
  type Sandbox,
} from "../../src/sandbox/start-sandbox.ts";

let sb: Sandbox;

before(async () => {
  sb = await startSandbox({ rateLimits: "production" });
  withoutStepUp(sb); // this suite is about production limits, not step-up
});
after(() => sb.close());

it("two incidents opened and approved at once under GitHub's limits: every delivery answered 202, both granted, every record in place", async () => {
  const form = {
    resource: "model-guardrail-override",
    role: "override",
    duration: "30m",
    severity: "critical",
  } as const;
  const issues = await Promise.all(
    ["dave", "erin"].map(
      async (who) =>
        (
          await sb.as(who).rest.issues.create({
            owner,
            repo,
            title: `[breakglass] ${form.resource} ${form.role}`,
            labels: ["breakglass"],
            body: requestFormBody(form),
          })
        ).data.number,
    ),
  );
  // An approval counts only once the request it approves is on record (approval-freshness), so the
  // approvers answer once they see the app's status comments, both at once.
  await sb.settle();
  await Promise.all(
    issues.map((n) =>
      sb.as("grace").rest.issues.createComment({ owner, repo, issue_number: n, body: "/approve" }),
    ),
  );
  await sb.settle();

  const deliveries = sb.emulator.deliveries.filter((d) => !d.dropped);
  assert.ok(deliveries.length >= 4, "the opens and approvals were delivered");
  assert.deepEqual(
    deliveries.filter((d) => d.status !== 202).map((d) => `${d.event}.${d.action}: ${d.status ?? d.error}`),
    [],
    "every delivery acknowledged, none failed or timed out",
  );
  const port = (await sb.app.portFor(owner, repo))!;
  for (const n of issues) {
    const h = await readHistory(port, n, sb.app.deps.identity, sb.app.deps.jwks);
    assert.deepEqual(h.problems, [], `#${n}: the chain is complete and verifies`);
    assert.equal(h.state.status, "active", `#${n} granted`);
    assert.equal(h.events.filter((e) => e.type === "granted").length, 1, `#${n} granted once`);
  }
  // The app stayed inside the limits: GitHub never had to refuse its writes for content or concurrency.
  const limiter = sb.emulator.rateLimiter!;
  assert.equal(
    limiter.refusals.concurrent + limiter.refusals.contentPerMinute + limiter.refusals.primary,
    0,
    JSON.stringify(limiter.refusals),
  );
  // And its requests carried GitHub's rate-limit headers, which the throttling reads.
  assert.ok(limiter.used(`installation ID ${sb.app.deps.identity.appId}`) > 0);
});
