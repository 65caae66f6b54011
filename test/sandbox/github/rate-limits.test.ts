/**
 * The emulator's production-limits mode, as GitHub documents it ("Rate limits for the REST API",
 * "Best practices for using the REST API"): x-ratelimit-* headers, the primary limit per hour, the
 * secondary limits (content-generating requests a minute and an hour, points a minute, concurrent
 * requests) answered 403 with retry-after, and conditional requests answered 304 not counted.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { GITHUB_REST_LIMITS, RateLimiter } from "../../../src/sandbox/github/rate-limits.ts";
import { startTestEmulator, type TestEmulator } from "./helpers.ts";

describe("RateLimiter", () => {
  const clock = {
    t: 1_000_000,
    now() {
      return this.t;
    },
  };
  const admitted = (
    l: RateLimiter,
    method: string,
    route = "/repos/{owner}/{repo}/issues/{issue_number}/comments",
  ) => {
    const r = l.admit("installation ID 1", method, route);
    if (r.ok) r.admission.finish(200);
    return r;
  };

  it("refuses the 81st content-generating request of a minute with retry-after, and admits it once the minute has passed", () => {
    const l = new RateLimiter(clock);
    for (let i = 0; i < 80; i++) assert.equal(admitted(l, "POST").ok, true);
    const refused = admitted(l, "POST");
    assert.equal(refused.ok, false);
    if (!refused.ok) {
      assert.equal(refused.result.status, 403);
      assert.match(String((refused.result.body as { message: string }).message), /secondary rate limit/);
      assert.equal(refused.result.headers?.["retry-after"], "60");
    }
    assert.equal(admitted(l, "GET").ok, true, "reads are not content");
    assert.equal(
      admitted(l, "POST", "/app/installations/{installation_id}/access_tokens").ok,
      true,
      "minting a token is not content",
    );
    clock.t += 60_001;
    assert.equal(admitted(l, "POST").ok, true);
  });

  it("refuses content beyond 500 an hour even when spread under 80 a minute", () => {
    const l = new RateLimiter(clock);
    for (let i = 0; i < 500; i++) {
      if (i % 50 === 0) clock.t += 60_001;
      assert.equal(admitted(l, "PATCH").ok, true, `request ${i + 1}`);
    }
    clock.t += 60_001;
    const refused = admitted(l, "PATCH");
    assert.equal(refused.ok, false);
    assert.equal(l.refusals.contentPerHour, 1);
  });

  it("counts the primary limit per hour, gives a 304 back, and answers 403 with x-ratelimit-remaining 0 at the limit", () => {
    const l = new RateLimiter(clock, { ...GITHUB_REST_LIMITS, primaryPerHour: 3, pointsPerMinute: 10_000 });
    const a = l.admit("user dave", "GET", "/x");
    assert.ok(a.ok);
    assert.equal(a.admission.finish(304)["x-ratelimit-used"], "0", "a 304 does not count");
    const k = "user erin";
    for (let i = 0; i < 3; i++) {
      const r = l.admit(k, "GET", "/x");
      assert.ok(r.ok);
      r.admission.finish(200);
    }
    const refused = l.admit(k, "GET", "/x");
    assert.equal(refused.ok, false);
    if (!refused.ok) {
      assert.equal(refused.result.status, 403);
      assert.equal(refused.result.headers?.["x-ratelimit-remaining"], "0");
      assert.ok(Number(refused.result.headers?.["x-ratelimit-reset"]) > clock.t / 1000);
    }
    clock.t += 3_600_000;
    assert.equal(l.admit(k, "GET", "/x").ok, true, "a new window");
  });

  it("refuses a 101st concurrent request", () => {
    const l = new RateLimiter(clock, { ...GITHUB_REST_LIMITS, pointsPerMinute: 10_000 });
    const open = Array.from({ length: 100 }, () => l.admit("user dave", "GET", "/x"));
    assert.ok(open.every((r) => r.ok));
    assert.equal(l.admit("user dave", "GET", "/x").ok, false);
    for (const r of open) if (r.ok) r.admission.finish(200);
    assert.equal(l.admit("user dave", "GET", "/x").ok, true);
  });
});

describe("emulator with rate limits", () => {
  let t: TestEmulator;
  before(async () => {
    t = await startTestEmulator({ rateLimits: true });
  });
  after(() => t.emulator.close());

  it("sends x-ratelimit-* and an etag; If-None-Match with it is answered 304 and not counted", async () => {
    const url = `${t.emulator.apiUrl}/repos/acme/ops/contents/policies/model.yml`;
    const auth = { authorization: `token ${t.emulator.userToken("dave")}` };
    const first = await fetch(url, { headers: auth });
    assert.equal(first.status, 200);
    const etag = first.headers.get("etag");
    assert.ok(etag, "an etag");
    const used = Number(first.headers.get("x-ratelimit-used"));
    assert.equal(first.headers.get("x-ratelimit-limit"), "5000");
    const again = await fetch(url, { headers: { ...auth, "if-none-match": etag } });
    assert.equal(again.status, 304);
    assert.equal(Number(again.headers.get("x-ratelimit-used")), used, "the 304 did not count");
    t.emulator.setFile("policies/model.yml", "description: Model v2\n");
    const changed = await fetch(url, { headers: { ...auth, "if-none-match": etag } });
    assert.equal(changed.status, 200, "a changed file is sent again");
    assert.notEqual(changed.headers.get("etag"), etag);
    assert.equal(Number(changed.headers.get("x-ratelimit-used")), used + 1);
  });

  it("answers the 81st comment of a minute 403 with retry-after and does not create it", async () => {
    const bob = t.emulator.octokitFor("bob");
    const { data: issue } = await bob.rest.issues.create({
      owner: "acme",
      repo: "ops",
      title: "t",
      body: "b",
    });
    for (let i = 0; i < 79; i++)
      await bob.rest.issues.createComment({
        owner: "acme",
        repo: "ops",
        issue_number: issue.number,
        body: `c${i}`,
      });
    const error = await bob.rest.issues
      .createComment({ owner: "acme", repo: "ops", issue_number: issue.number, body: "one too many" })
      .then(
        () => null,
        (e: { status: number; response: { headers: Record<string, string> }; message: string }) => e,
      );
    assert.ok(error, "refused");
    assert.equal(error.status, 403);
    assert.match(error.message, /secondary rate limit/);
    assert.ok(Number(error.response.headers["retry-after"]) >= 1);
    const comments = await bob.paginate(bob.rest.issues.listComments, {
      owner: "acme",
      repo: "ops",
      issue_number: issue.number,
      per_page: 100,
    });
    assert.equal(comments.length, 79, "the refused comment was not created");
  });
});
