/**
 * Issue 7 through the real app in the sandbox: expiry with the app running, /revoke, /extend without
 * disturbing another grant, duplicate deliveries, the sweep path, failing revocation, and the review
 * issue that cannot be closed with unchecked items. Grants use model-guardrail-override (jwt provider,
 * one approval from @acme/ai-governance, keep_alive_after_job: the grant outlives its job).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { RequestSession } from "../../src/app/infra/request-session.ts";
import { generateSigningKeyPem, signingKeysFromPem } from "../../src/app/infra/signing-keys.ts";
import { createJwtProvider, memoryRevocationStore } from "../../src/providers/jwt.ts";
import type { CredentialProvider } from "../../src/providers/provider.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import { sandboxHelpers } from "../support/sandbox-helpers.ts";

const owner = "acme";
const repo = "ops";
const MIN = 60_000;
const RESOURCE = "model-guardrail-override";

function helpers(get: () => Sandbox) {
  const base = sandboxHelpers(get);
  const h = {
    ...base,
    open: (who: string, duration = "30m", resource = RESOURCE): Promise<number> =>
      base.openRequest(who, { resource, role: "override", duration, severity: "critical" }),
    /** Opens a request and has grace approve it; returns the issue and the credential the Action got. */
    async granted(who: string, duration = "30m", resource = RESOURCE): Promise<{ n: number; token: string }> {
      const n = await h.open(who, duration, resource);
      await h.approve("grace", n);
      const run = get().runs.find((r) => r.issue === n);
      assert.ok(run, `the grant workflow ran for #${n}: ${(await h.appTexts(n)).join("\n---\n")}`);
      const action = await run.result;
      assert.equal(action.exitCode, 0, `${action.stdout}\n${action.stderr}`);
      assert.equal((await h.state(n)).status, "active");
      return { n, token: action.env.BREAKGLASS_TOKEN ?? action.env.EXTENDABLE_SECRET ?? "" };
    },
    issue: base.issueOf,
    labels: base.labelsOf,
    state: base.stateOf,
    /** Review issues (any state) that review request #n. */
    async reviewsOf(n: number) {
      const sb = get();
      const all = await sb.as("dave").paginate(sb.as("dave").rest.issues.listForRepo, {
        owner,
        repo,
        labels: "breakglass:audit",
        state: "all",
        per_page: 100,
      });
      return all.filter((i) => i.title.startsWith(`[breakglass audit] Review #${n} `));
    },
    /** The grant ended, was verified, closed as completed with exactly one assigned review issue. */
    async assertEnded(n: number, status: "expired" | "revoked"): Promise<void> {
      const s = await h.state(n);
      assert.equal(s.status, status);
      assert.equal(s.closed, true);
      const issue = await h.issue(n);
      assert.equal(issue.state, "closed");
      assert.equal(issue.state_reason, "completed");
      assert.ok((await h.labels(n)).includes(`breakglass:${status}`));
      const reviews = await h.reviewsOf(n);
      assert.equal(reviews.length, 1, `one review issue for #${n}`);
      assert.equal(s.review_issue, reviews[0]!.number);
      assert.ok(reviews[0]!.assignees?.length, "the review issue is assigned");
      const texts = await h.appTexts(n);
      assert.equal(texts.filter((t) => t.includes("Post-event review opened")).length, 1);
    },
  };
  return h;
}

/**
 * A provider whose credentials can be extended in place, as PostgreSQL's VALID UNTIL can (that one is
 * tested against a real server in test/providers/postgres.test.ts). A credential is usable while it
 * exists and the sandbox clock is before its expiry.
 */
function extendableProvider(now: () => number) {
  const live = new Map<string, { secret: string; expiresAt: number }>();
  const control = { failExtend: false };
  const provider: CredentialProvider = {
    name: "postgres",
    async mint(request) {
      const id = `ext_${request.issue}`;
      const secret = `extendable-secret-${request.issue}-${request.now}`;
      live.set(id, { secret, expiresAt: request.expiresAt });
      return {
        credentialId: id,
        expiresAt: request.expiresAt,
        secrets: { EXTENDABLE_SECRET: secret },
        outputs: {},
      };
    },
    async revoke(ref) {
      live.delete(ref.credentialId);
    },
    async verifyRevoked(ref) {
      return {
        revoked: !live.has(ref.credentialId),
        evidence: live.has(ref.credentialId) ? "still live" : "gone",
      };
    },
    async extend(ref, expiresAt) {
      if (control.failExtend) throw new Error("the database is not answering");
      const credential = live.get(ref.credentialId);
      if (!credential) throw new Error(`${ref.credentialId} does not exist`);
      credential.expiresAt = expiresAt;
      return expiresAt;
    },
  };
  const usable = (secret: string) =>
    [...live.values()].some((c) => c.secret === secret && now() < c.expiresAt);
  return { provider, usable, control };
}
const EXTENDABLE = "model-extendable";
const extendablePolicy = readFileSync("policies/model-guardrail-override.yml", "utf8")
  .replace("provider: jwt", "provider: postgres")
  .replace(/settings:\n(?: {6}.*\n)+/, "settings:\n      grant_role: bg_model_ops\n");

describe("expiry and revocation with the app running", () => {
  let sb: Sandbox;
  const h = helpers(() => sb);
  let extendable: ReturnType<typeof extendableProvider>;
  before(async () => {
    let clock: () => number = () => 0;
    extendable = extendableProvider(() => clock());
    sb = await startSandbox({
      files: { [`policies/${EXTENDABLE}.yml`]: extendablePolicy },
      providers: { postgres: extendable.provider },
    });
    clock = () => sb.clock.now();
  });
  after(() => sb.close());

  it("a grant expires on time: revoked, verified, closed completed, one assigned review issue", async () => {
    const { n, token } = await h.granted("erin");
    assert.equal((await sb.app.deps.introspect!(token)).active, true);
    await sb.advance(29 * MIN);
    assert.equal((await h.state(n)).status, "active", "not before its time");
    await sb.advance(2 * MIN);
    await h.assertEnded(n, "expired");
    assert.equal((await sb.app.deps.introspect!(token)).active, false, "the credential no longer works");
    const review = (await h.reviewsOf(n))[0]!;
    assert.ok(
      review.assignees?.some((a) => a.login === "grace"),
      "the approver is assigned",
    );
    assert.match(review.body ?? "", /- \[ \] Ethical review/);
    assert.ok(sb.notifier.sent.some((s) => s.notification.event === "revoked" && s.notification.issue === n));
  });

  it("closing the review issue with unchecked items reopens it with a comment", async () => {
    const n = await h.open("dave");
    await h.approve("grace", n);
    await h.say("grace", n, "/revoke incident over");
    const review = (await h.reviewsOf(n))[0];
    assert.ok(review, "a review issue was opened");
    await sb.as("grace").rest.issues.update({ owner, repo, issue_number: review.number, state: "closed" });
    await sb.settle();
    assert.equal((await h.issue(review.number)).state, "open");
    const texts = await h.appTexts(review.number);
    assert.ok(
      texts.some((t) => t.includes("unchecked items") && t.includes("reopened")),
      texts.join("\n---\n"),
    );
  });

  it("/revoke by the approver ends the grant early", async () => {
    const { n, token } = await h.granted("mallory");
    const id = await h.say("heidi", n, "/revoke rollback finished");
    const reactions = await h.reactions(id);
    assert.deepEqual(reactions, ["eyes", "rocket"]);
    await h.assertEnded(n, "revoked");
    assert.equal((await sb.app.deps.introspect!(token)).active, false);
    assert.ok((await h.appTexts(n)).some((t) => t.includes("was revoked (by @heidi)")));
  });

  it("/revoke by someone who is neither requester, approver nor owner is refused", async () => {
    const { n } = await h.granted("rita");
    await h.say("mallory", n, "/revoke");
    assert.equal((await h.state(n)).status, "active");
    assert.ok((await h.appTexts(n)).some((t) => t.includes("`not_allowed_to_revoke`")));
    await h.say("rita", n, "/cancel done");
    await h.assertEnded(n, "revoked");
  });

  it("/extend on a credential with a signed expiry (jwt) is refused as not_extendable; the grant is untouched", async () => {
    const { n, token } = await h.granted("heidi");
    const before = await h.state(n);
    const id = await h.say("heidi", n, "/extend 30m still rolling back");
    const reactions = await h.reactions(id);
    assert.deepEqual(reactions, ["-1", "eyes"]);
    assert.ok(
      (await h.appTexts(n)).some((t) => t.includes("`not_extendable`") && t.includes("open a new request")),
    );
    const s = await h.state(n);
    assert.equal(s.extension, null, "no extension is pending");
    assert.equal(s.grant!.expires_at, before.grant!.expires_at);
    assert.equal(
      (await sb.app.deps.introspect!(token)).active,
      true,
      "the running credential is not disturbed",
    );
    await h.say("heidi", n, "/revoke done");
  });

  it("/extend 30m then an approval moves this grant's expiry; an overlapping grant on the same resource is untouched", async () => {
    const a = await h.granted("olga", "30m", EXTENDABLE);
    const b = await h.granted("ivan", "30m", EXTENDABLE);
    const before = await h.state(b.n);
    const aExpires = Date.parse((await h.state(a.n)).grant!.expires_at);
    const bExpires = Date.parse(before.grant!.expires_at);

    await h.say("ivan", b.n, "/extend 30m the rollback is still running");
    let s = await h.state(b.n);
    assert.equal(s.extension?.seconds, 30 * 60);
    assert.equal(Date.parse(s.grant!.expires_at), bExpires, "nothing moves before the approval");
    assert.equal(s.status, "active");
    const own = await h.say("ivan", b.n, "/approve");
    const ownReactions = await h.reactions(own);
    assert.deepEqual(ownReactions, ["-1", "eyes"], "the requester cannot approve their own extension");
    assert.equal(Date.parse((await h.state(b.n)).grant!.expires_at), bExpires);
    // The policy requires step-up, so the extension is approved as the grant was: signed (over the extension).
    await h.approve("heidi", b.n);
    s = await h.state(b.n);
    assert.equal(Date.parse(s.grant!.expires_at), bExpires + 30 * MIN);
    assert.equal(s.status, "active");
    assert.equal(s.grant!.credential_id, before.grant!.credential_id, "the running grant was not replaced");
    assert.ok((await h.appTexts(b.n)).some((t) => t.includes("The grant now expires at")));
    assert.ok(extendable.usable(b.token), "the credential still works");

    const other = await h.state(a.n);
    assert.equal(other.status, "active", "the other grant is not revoked");
    assert.equal(Date.parse(other.grant!.expires_at), aExpires, "nor is its expiry moved");
    assert.equal(other.extension, null);

    await sb.advance(31 * MIN);
    await h.assertEnded(a.n, "expired");
    assert.equal((await h.state(b.n)).status, "active", "the extended grant outlives its first expiry");
    assert.equal((await h.issue(b.n)).state, "open");
    assert.ok(extendable.usable(b.token), "the extended credential itself works past the original expiry");
    assert.ok(!extendable.usable(a.token), "the other one does not");
    await sb.advance(30 * MIN);
    await h.assertEnded(b.n, "expired");
    assert.ok(!extendable.usable(b.token), "and it is revoked at the extended expiry");
  });

  it("a provider that cannot extend right now: the approval is refused, the extension stays pending, a later approval extends", async () => {
    const { n, token } = await h.granted("sam", "30m", EXTENDABLE);
    const before = Date.parse((await h.state(n)).grant!.expires_at);
    await h.say("sam", n, "/extend 15m still restoring");
    extendable.control.failExtend = true;
    await h.approve("grace", n);
    extendable.control.failExtend = false;
    let s = await h.state(n);
    assert.equal(Date.parse(s.grant!.expires_at), before, "nothing moved");
    assert.ok(s.extension, "the extension is still pending");
    assert.ok(
      (await h.appTexts(n)).some((t) => t.includes("`extension_failed`") && t.includes("Approve again")),
    );
    await h.approve("grace", n);
    s = await h.state(n);
    assert.equal(Date.parse(s.grant!.expires_at), before + 15 * MIN);
    assert.equal(s.extension, null);
    await sb.advance(31 * MIN);
    assert.ok(extendable.usable(token), "the credential itself was extended");
    await h.say("sam", n, "/revoke done");
    assert.ok(!extendable.usable(token));
  });

  it("closing a granted issue by hand revokes the grant at once (a closed issue never hides a live credential)", async () => {
    const { n, token } = await h.granted("carol");
    await sb.as("carol").rest.issues.update({ owner, repo, issue_number: n, state: "closed" });
    await sb.settle();
    const s = await h.state(n);
    assert.equal(s.status, "revoked", "closing the issue ends the grant");
    assert.ok(s.grant?.ended);
    assert.equal((await h.issue(n)).state, "closed");
    assert.equal((await sb.app.deps.introspect!(token)).active, false);
    assert.equal((await h.reviewsOf(n)).length, 1);
  });

  it("a grant whose breakglass label someone removed still expires and is revoked", async () => {
    const { n } = await h.granted("olga");
    await sb.as("olga").rest.issues.removeLabel({ owner, repo, issue_number: n, name: "breakglass" });
    await sb.settle();
    await sb.advance(31 * MIN);
    assert.equal((await h.state(n)).status, "expired", "removing the label must not keep the grant alive");
    assert.equal((await h.issue(n)).state, "closed");
  });

  it("duplicate webhook deliveries and a second reconcile give one revocation, one close, one review", async () => {
    const { n } = await h.granted("bob");
    sb.emulator.faults.duplicateWebhooks((w) => w.event === "issue_comment" || w.event === "issues");
    try {
      await h.say("grace", n, "/revoke duplicate test");
      await sb.app.reconcileAll();
      await sb.settle();
      const revokes = sb.emulator.deliveries.filter(
        (d) =>
          d.event === "issue_comment" &&
          (d.payload.comment as { body?: string } | undefined)?.body === "/revoke duplicate test",
      );
      assert.equal(revokes.length, 2, "the /revoke comment was delivered twice");
      assert.ok(
        revokes.every((d) => d.status !== null && d.status < 300),
        "both deliveries were accepted",
      );
      await sb.emulator.redeliver(revokes[0]!.guid);
      await sb.settle();
      const closed = sb.emulator.deliveries.filter(
        (d) =>
          d.event === "issues" &&
          d.action === "closed" &&
          (d.payload.issue as { number?: number }).number === n,
      );
      assert.ok(closed.length >= 2, "the close was delivered twice as well");
    } finally {
      sb.emulator.faults.clear();
    }
    await h.assertEnded(n, "revoked");
    const texts = await h.appTexts(n);
    assert.equal(texts.filter((t) => t.startsWith("🔒 The grant")).length, 1, "one revocation comment");
    const port = (await sb.app.portFor(owner, repo))!;
    const session = await RequestSession.open(sb.app.deps, port, n);
    assert.equal(session.chain.filter((e) => e.entry.id === "closed").length, 1);
    assert.equal(session.chain.filter((e) => e.entry.id.startsWith("revoked:")).length, 1);
    assert.deepEqual([...session.problems], []);
    assert.equal(
      sb.notifier.sent.filter((s) => s.notification.event === "revoked" && s.notification.issue === n).length,
      1,
    );
  });

  it("with the app's timers stopped, the sweep (reconcileAll) revokes and closes an overdue grant", async () => {
    const { n, token } = await h.granted("sam");
    sb.app.scheduler.stop();
    sb.clock.advance(45 * MIN);
    await sb.app.runDue();
    await sb.settle();
    assert.equal((await h.state(n)).status, "active", "nothing fired: the timers were stopped");
    assert.equal((await h.issue(n)).state, "open");
    const reports = await sb.app.reconcileAll();
    await sb.settle();
    assert.ok(
      reports.some((r) => r.revoked.includes(n)),
      JSON.stringify(reports),
    );
    await h.assertEnded(n, "expired");
    assert.equal((await sb.app.deps.introspect!(token)).active, false);
    const again = await sb.app.reconcileAll();
    assert.ok(
      !again.some((r) => r.revoked.includes(n) || r.finished.includes(n)),
      "a second sweep does nothing",
    );
  });
});

describe("a provider whose revoke fails", () => {
  let sb: Sandbox;
  const h = helpers(() => sb);
  let failuresLeft = 0;
  let revokeCalls = 0;
  before(async () => {
    const keys = await signingKeysFromPem(await generateSigningKeyPem());
    let now = () => Date.now();
    const real = createJwtProvider({
      issuer: "http://breakglass.sandbox",
      signingKey: keys.privateKey,
      kid: keys.kid,
      revocations: memoryRevocationStore(() => now()),
      now: () => now(),
    });
    const failing: CredentialProvider = {
      name: "jwt",
      mint: (r) => real.mint(r),
      async revoke(ref) {
        revokeCalls++;
        if (failuresLeft > 0) {
          failuresLeft--;
          throw new Error("gateway unreachable: ECONNREFUSED 10.0.0.7:443");
        }
        return real.revoke(ref);
      },
      verifyRevoked: (ref) => real.verifyRevoked(ref),
    };
    sb = await startSandbox({ providers: { jwt: failing } });
    now = () => sb.clock.now();
  });
  after(() => sb.close());

  it("is labelled revoke-failed, stays open, says the error, alerts, and a retry closes it", async () => {
    const { n } = await h.granted("erin");
    failuresLeft = 2;
    await sb.advance(31 * MIN);
    let s = await h.state(n);
    assert.equal(s.status, "revoke_failed");
    assert.equal((await h.issue(n)).state, "open");
    assert.ok((await h.labels(n)).includes("breakglass:revoke-failed"));
    const failed = (await h.appTexts(n)).filter((t) => t.startsWith("🚨 **Revocation failed**"));
    assert.equal(failed.length, 1);
    assert.match(failed[0]!, /ECONNREFUSED/);
    assert.ok(
      sb.notifier.sent.some(
        (x) => x.notification.event === "revocation_failed" && x.notification.issue === n,
      ),
    );
    assert.equal((await h.reviewsOf(n)).length, 0, "no review before the revocation is verified");

    // First retry (after the base backoff) fails again; the second succeeds.
    await sb.advance(61_000);
    s = await h.state(n);
    assert.equal(s.status, "revoke_failed");
    assert.equal((await h.appTexts(n)).filter((t) => t.startsWith("🚨 **Revocation failed**")).length, 2);
    await sb.advance(5 * MIN);
    await h.assertEnded(n, "expired");
    assert.ok(!(await h.labels(n)).includes("breakglass:revoke-failed"), "the failure label is removed");
    assert.equal(revokeCalls, 3);
  });
});
