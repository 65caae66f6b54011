import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import { Faults } from "../../../src/sandbox/github/faults.ts";
import { startReceiver, startTestEmulator, type TestEmulator } from "./helpers.ts";

describe("fault injection", () => {
  let t: TestEmulator;
  let token: string;
  before(async () => {
    t = await startTestEmulator();
    token = t.emulator.userToken("dave");
  });
  after(() => t.emulator.close());
  afterEach(() => t.emulator.faults.clear());

  it("adds latency to matching routes only", async () => {
    const rule = t.emulator.faults.add({ method: "GET", route: "/repos/{owner}/{repo}", latencyMs: 120 });
    const started = performance.now();
    assert.equal(
      (await t.api("GET", "/repos/acme/ops", token)).status,
      200,
      "latency alone still answers normally",
    );
    assert.ok(performance.now() - started >= 110, "the matching route was delayed");
    assert.equal(rule.hits, 1);
    // Which requests the rule delayed is read from the rule, not from a clock (a loaded machine is slow anyway).
    await t.api("GET", "/repos/acme/ops/issues", token);
    await t.api("GET", "/repos/acme/ops/labels", token);
    assert.equal(rule.hits, 1, "other routes are not delayed");
  });

  it("fails a route with a 5xx the given number of times; Octokit's retry plugin recovers", async () => {
    const rule = t.emulator.faults.add({
      route: "/repos/{owner}/{repo}/issues",
      method: "POST",
      status: 502,
      times: 1,
    });
    const first = await t.api("POST", "/repos/acme/ops/issues", token, { title: "first try" });
    assert.equal(first.status, 502);
    assert.equal((first.json as { message: string }).message, "Bad Gateway");
    assert.equal(t.emulator.state.issues.size, 0, "a failed request changes nothing");
    assert.equal((await t.api("POST", "/repos/acme/ops/issues", token, { title: "second try" })).status, 201);
    assert.equal(rule.hits, 1);

    t.emulator.faults.add({ route: /\/issues$/, method: "POST", status: 500, times: 2 });
    const RetryingOctokit = Octokit.plugin(retry);
    const octokit = new RetryingOctokit({
      auth: token,
      baseUrl: t.emulator.apiUrl,
      retry: { retryAfterBaseValue: 5 },
    });
    const { data } = await octokit.rest.issues.create({ owner: "acme", repo: "ops", title: "retried" });
    assert.equal(data.title, "retried");
    const attempts = t.emulator.apiRequests
      .filter((r) => r.method === "POST" && r.route === "/repos/{owner}/{repo}/issues")
      .slice(-3);
    assert.deepEqual(
      attempts.map((r) => r.status),
      [500, 500, 201],
    );
  });

  it("answers secondary rate limits with retry-after and GitHub's message; Octokit's throttling plugin waits and retries", async () => {
    t.emulator.faults.add({
      route: "/repos/{owner}/{repo}/issues/{issue_number}/comments",
      rateLimit: { retryAfterSeconds: 1 },
      times: 1,
    });
    await t.api("POST", "/repos/acme/ops/issues", token, { title: "limited" });
    const n = t.emulator.state.issues.size;
    const limited = await t.api("GET", `/repos/acme/ops/issues/${n}/comments`, token);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get("retry-after"), "1");
    assert.match((limited.json as { message: string }).message, /You have exceeded a secondary rate limit/);

    t.emulator.faults.add({
      route: "/repos/{owner}/{repo}/issues/{issue_number}/comments",
      method: "POST",
      rateLimit: { retryAfterSeconds: 1, status: 403 },
      times: 1,
    });
    const waits: number[] = [];
    const ThrottledOctokit = Octokit.plugin(throttling);
    const octokit = new ThrottledOctokit({
      auth: token,
      baseUrl: t.emulator.apiUrl,
      throttle: {
        onRateLimit: () => false,
        onSecondaryRateLimit: (
          retryAfter: number,
          _options: unknown,
          _octokit: unknown,
          retryCount: number,
        ) => {
          waits.push(retryAfter);
          return retryCount < 1;
        },
      },
    });
    const started = performance.now();
    const { data } = await octokit.rest.issues.createComment({
      owner: "acme",
      repo: "ops",
      issue_number: n,
      body: "after the limit",
    });
    assert.equal(data.body, "after the limit");
    assert.deepEqual(waits, [1]);
    assert.ok(performance.now() - started >= 950, "the client honoured retry-after");
  });

  it("answers the primary rate limit with x-ratelimit-remaining: 0 and a reset time", async () => {
    t.emulator.faults.add({
      route: /^\/repos\/acme\/ops$/,
      rateLimit: { retryAfterSeconds: 30, kind: "primary", status: 403 },
    });
    const res = await t.api("GET", "/repos/acme/ops", token);
    assert.equal(res.status, 403);
    assert.equal(res.headers.get("x-ratelimit-remaining"), "0");
    const reset = Number(res.headers.get("x-ratelimit-reset"));
    assert.ok(Math.abs(reset - (Date.now() / 1000 + 30)) < 3, `reset ${reset} is about 30 s away`);
    assert.match((res.json as { message: string }).message, /API rate limit exceeded/);
    assert.equal(
      (await t.api("GET", "/repos/acme/ops", token)).status,
      403,
      "without `times` the rule lasts until cleared",
    );
    t.emulator.faults.clear();
    assert.equal((await t.api("GET", "/repos/acme/ops", token)).status, 200);
  });

  it("drops and duplicates webhook deliveries", async () => {
    const receiver = await startReceiver();
    t.emulator.setWebhookUrl(receiver.url);
    try {
      const dave = t.emulator.octokitFor("dave");
      t.emulator.faults.dropWebhooks(1);
      const { data: issue } = await dave.rest.issues.create({
        owner: "acme",
        repo: "ops",
        title: "dropped opened",
      });
      await dave.rest.issues.createComment({
        owner: "acme",
        repo: "ops",
        issue_number: issue.number,
        body: "delivered",
      });
      await t.emulator.waitForIdle();
      assert.deepEqual(
        receiver.received.map((h) => h.headers["x-github-event"]),
        ["issue_comment"],
      );
      const dropped = t.emulator.deliveries.find((d) => d.dropped)!;
      assert.equal(dropped.action, "opened");
      assert.equal(dropped.status, null);
      // A dropped delivery can be redelivered, as on GitHub.
      await t.emulator.redeliver(dropped.id);
      assert.equal(receiver.received.length, 2);

      receiver.received.length = 0;
      t.emulator.faults.duplicateWebhooks(
        (hook) => hook.event === "issue_comment" && hook.action === "created",
      );
      await dave.rest.issues.createComment({
        owner: "acme",
        repo: "ops",
        issue_number: issue.number,
        body: "twice",
      });
      await dave.rest.issues.update({
        owner: "acme",
        repo: "ops",
        issue_number: issue.number,
        title: "once",
      });
      await t.emulator.waitForIdle();
      assert.deepEqual(
        receiver.received.map((h) => h.headers["x-github-event"]),
        ["issue_comment", "issue_comment", "issues"],
      );
      assert.equal(
        receiver.received[0]!.headers["x-github-delivery"],
        receiver.received[1]!.headers["x-github-delivery"],
        "a duplicate carries the same GUID",
      );
      assert.equal(receiver.received[0]!.body, receiver.received[1]!.body);

      receiver.received.length = 0;
      t.emulator.faults.clear();
      t.emulator.faults.dropWebhooks((hook) => hook.event === "issues");
      await dave.rest.issues.update({
        owner: "acme",
        repo: "ops",
        issue_number: issue.number,
        title: "gone",
      });
      await dave.rest.issues.createComment({
        owner: "acme",
        repo: "ops",
        issue_number: issue.number,
        body: "kept",
      });
      await dave.rest.issues.update({
        owner: "acme",
        repo: "ops",
        issue_number: issue.number,
        title: "gone too",
      });
      await t.emulator.waitForIdle();
      assert.deepEqual(
        receiver.received.map((h) => h.headers["x-github-event"]),
        ["issue_comment"],
        "a predicate drops every match until cleared",
      );
    } finally {
      t.emulator.setWebhookUrl(null);
      await receiver.close();
    }
  });

  it("validates rules and matches method, template, regex and times", () => {
    const faults = new Faults();
    assert.throws(() => faults.add({ times: 0 }), RangeError);
    assert.throws(() => faults.add({ latencyMs: -1 }), RangeError);
    const byTemplate = faults.add({
      method: "post",
      route: "/repos/{owner}/{repo}/issues",
      status: 503,
      times: 2,
    });
    assert.equal(
      faults.take("GET", "/repos/{owner}/{repo}/issues", "/repos/acme/ops/issues"),
      null,
      "method must match",
    );
    assert.equal(faults.take("POST", "/repos/{owner}/{repo}/issues", "/repos/acme/ops/issues")?.status, 503);
    assert.equal(faults.take("POST", "/repos/{owner}/{repo}/issues", "/repos/acme/ops/issues")?.status, 503);
    assert.equal(
      faults.take("POST", "/repos/{owner}/{repo}/issues", "/repos/acme/ops/issues"),
      null,
      "times used up",
    );
    assert.equal(byTemplate.hits, 2);
    const byPath = faults.add({ route: /acme\/infra/, status: 500 });
    assert.equal(faults.take("GET", "/repos/{owner}/{repo}", "/repos/acme/ops"), null);
    assert.equal(faults.take("GET", "/repos/{owner}/{repo}", "/repos/acme/infra")?.status, 500);
    byPath.remove();
    assert.equal(faults.take("GET", "/repos/{owner}/{repo}", "/repos/acme/infra"), null);
  });
});
