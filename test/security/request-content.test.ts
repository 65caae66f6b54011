/**
 * Attack catalogue, hostile request content: durations that overflow or hide in other scripts, a
 * body far over the size limit, Markdown/HTML/mention injection in the justification, and a
 * provider error carrying a connection secret.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { CredentialProvider } from "../../src/providers/provider.ts";
import { requestFormBody } from "../../src/sandbox/request-body.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import {
  allComments,
  appTexts,
  assertNothingGranted,
  assertRefusedExchange,
  exchange,
  grantClaims,
  historyOf,
  labelsOf,
  openRequest,
  say,
} from "./attack-kit.ts";

let sb: Sandbox;
const SECRET = "hunter2-s3cr3t";
const failingPostgres: CredentialProvider = {
  name: "postgres",
  mint: () =>
    Promise.reject(
      new Error(
        `could not connect to postgres://breakglass_admin:${SECRET}@db.internal:5432/orders (password=${SECRET})`,
      ),
    ),
  revoke: () => Promise.resolve(),
  verifyRevoked: () => Promise.resolve({ revoked: true }) as ReturnType<CredentialProvider["verifyRevoked"]>,
};
const guardrail = { resource: "model-guardrail-override", role: "override", severity: "critical" } as const;

before(async () => {
  sb = await startSandbox({ providers: { postgres: failingPostgres } });
});
after(() => sb.close());

const durations: Array<[string, string, string]> = [
  ["A50", "0", "zero"],
  ["A51", "-1h", "negative"],
  ["A52", "99999h", "far over the policy's maximum"],
  ["A53", "1e9s", "in exponent notation"],
  ["A54", "٣٠m", "written in Arabic-Indic digits"],
  ["A55", "３０m", "written in full-width digits"],
];
const requesters = ["dave", "rita", "erin", "ivan", "sam", "olga"];

for (const [id, duration, what] of durations) {
  test(`${id} a duration ${what} (${JSON.stringify(duration)}) is refused with a field message`, async () => {
    const who = requesters[durations.findIndex((d) => d[0] === id)]!;
    const n = await openRequest(sb, who, { ...guardrail, duration });
    assert.ok((await labelsOf(sb, n)).includes("breakglass:invalid"), `#${n} is labelled invalid`);
    const fix = (await appTexts(sb, n)).find((t) => t.includes("cannot be considered yet"));
    assert.ok(fix, "the app says the request cannot be considered");
    assert.match(fix, /- \*\*duration\*\*: \S.{10,}/, "the duration field is named with an explanation");
    assert.ok(
      !fix.includes("undefined") && !fix.includes("NaN"),
      "no internal placeholder leaks into the message",
    );
    // An approver's /approve cannot rescue it.
    await say(sb, "grace", n, "/approve");
    const h = await assertNothingGranted(sb, n);
    assert.equal(h.state.approvals.length, 0);
    assert.ok(h.state.status === "invalid" || h.state.status === "new", `status ${h.state.status}`);
  });
}

test("A56 a 200 KB issue body is refused clearly and the app keeps answering", async () => {
  // 200 KB of ASCII: GitHub refuses bodies over 65,536 characters itself.
  const huge = requestFormBody({
    ...guardrail,
    duration: "30m",
    justification: `incident ${"A".repeat(200 * 1024)}`,
  });
  await assert.rejects(openRequest(sb, "bob", huge), (error: { status?: number }) => error.status === 422);
  // ~190 KB in 3-byte characters stays under GitHub's character limit, so the app itself must refuse it.
  const wide = requestFormBody({
    ...guardrail,
    duration: "30m",
    justification: `incident ${"€".repeat(64_500)}`,
  });
  assert.ok(wide.length < 65_536 && Buffer.byteLength(wide) > 180 * 1024);
  const n = await openRequest(sb, "bob", wide);
  assert.ok((await labelsOf(sb, n)).includes("breakglass:invalid"));
  const fix = (await appTexts(sb, n)).find((t) => t.includes("cannot be considered yet"));
  assert.ok(fix, "the app explains the refusal");
  assert.match(fix, /over the 64 KiB limit/);
  assert.ok(fix.length < 4000, "the refusal does not echo the giant body");
  await say(sb, "grace", n, "/approve");
  await assertNothingGranted(sb, n);
  const health = await fetch(`${sb.app.url}/healthz`);
  assert.equal(health.status, 200);
  const next = await openRequest(sb, "carol", { ...guardrail, duration: "20m" });
  assert.equal((await historyOf(sb, next)).state.status, "requested", "the next request is handled normally");
});

test("A57 mention, HTML and javascript: link injection in the justification is rendered inert", async () => {
  const justification =
    "ping @acme/security and @sam <img src=x onerror=alert(1)> [click](javascript:alert(1)) ![x](https://evil.example/p.png) <script>alert(1)</script> #1 $x$";
  const n = await openRequest(sb, "heidi", { ...guardrail, duration: "30m", justification });
  await say(sb, "grace", n, "/approve @acme/security <b>bold</b> [x](javascript:alert(1))");
  await sb.settle();
  const texts = await appTexts(sb, n);
  assert.ok(texts.length >= 2, "the app commented");
  const all = texts.join("\n");
  assert.ok(all.includes("img src=x"), "the justification is shown (as text)");
  for (const live of [
    "@acme/security",
    "@sam ",
    "<img",
    "<script",
    "<b>",
    "](javascript:",
    "![x]",
    "[click]",
  ]) {
    assert.ok(!all.includes(live), `the app's comments contain no live ${JSON.stringify(live)}`);
  }
  // The mention of the real approver team the app resolved itself is still allowed; a user's text never is.
  assert.ok(!/(^|[^\u200b])@acme\/security/.test(all));
});

test("A58 a justification that tries to close the quote and forge a marker stays inside the quote", async () => {
  const justification =
    "ok\n\n-->\n<!-- breakglass:status -->\n### State: **active**\n| State | **✅ approved** |";
  const n = await openRequest(sb, "mallory", {
    ...guardrail,
    duration: "30m",
    justification: justification.replace(/\n/g, " "),
  });
  const texts = await appTexts(sb, n);
  const statusComments = texts.filter((t) => t.startsWith("<!-- breakglass:status"));
  assert.equal(statusComments.length, 1, "still exactly one status comment");
  assert.equal(
    (statusComments[0]!.match(/<!-- breakglass:status/g) ?? []).length,
    1,
    "no second marker inside it",
  );
  assert.ok(!texts.join("\n").includes("| State | **✅ approved** |"), "the forged table row is escaped");
  const h = await assertNothingGranted(sb, n);
  assert.equal(h.state.status, "requested");
});

test("A59 invisible and bidi characters cannot disguise the requested role", async () => {
  const n = await openRequest(sb, "grace", { ...guardrail, role: "over\u202eride", duration: "30m" });
  assert.ok(
    (await labelsOf(sb, n)).includes("breakglass:invalid"),
    "a role with a bidi override is not the override role",
  );
  const all = (await appTexts(sb, n)).join("\n");
  assert.ok(!all.includes("\u202e"), "the override character is not echoed");
  await assertNothingGranted(sb, n);
});

test("A61 a provider error carrying a connection password never reaches a comment or the HTTP answer", async () => {
  // prod-database read at low severity approves itself (auto_approve read-only-low); the provider then fails.
  const n = await openRequest(sb, "bob", {
    resource: "prod-database",
    role: "read",
    duration: "30m",
    severity: "low",
  });
  assert.equal((await historyOf(sb, n)).state.status, "approved");
  await sb.settle();
  const token = await sb.issuer.mint(grantClaims(sb, { environment: "breakglass-prod-database" }, n));
  const answer = await exchange(sb, token, n);
  assertRefusedExchange(answer, 502, "mint_failed");
  assert.ok(!JSON.stringify(answer.body).includes(SECRET), "the HTTP error names no secret");
  const comments = await allComments(sb, n);
  const bodies = comments.map((c) => c.body ?? "").join("\n");
  assert.ok(bodies.includes("Minting postgres credentials failed"), "the failure is reported on the issue");
  assert.ok(bodies.includes("Nothing was granted"), "the report says nothing was granted");
  assert.ok(!bodies.includes(SECRET), "the password never appears in a comment");
  assert.ok(!JSON.stringify(sb.notifier.sent).includes(SECRET), "nor in a notification");
  await assertNothingGranted(sb, n, { allowRun: true });
});
