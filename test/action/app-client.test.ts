import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { AppRefusal, postToApp, retryDelayMs, type PostOptions } from "../../src/action/app-client.ts";

type Answer = (req: IncomingMessage, res: ServerResponse) => void;

/** A local app that answers the n-th request with answers[n] (the last one repeats); counts what came. */
async function app(answers: Answer[]) {
  const seen: Array<{ body: string; requestId: string | undefined }> = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      seen.push({ body, requestId: req.headers["x-request-id"] as string | undefined });
      answers[Math.min(seen.length, answers.length) - 1]!(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { url, seen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Answer =>
  (_req, res) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  };
const hangUp: Answer = (req) => req.socket.destroy();

/** Records the waits instead of sleeping. */
function options(extra: Partial<PostOptions> = {}) {
  const waits: number[] = [];
  const logs: string[] = [];
  return {
    waits,
    logs,
    options: {
      wait: async (ms: number) => void waits.push(ms),
      log: (l: string) => void logs.push(l),
      ...extra,
    } satisfies PostOptions,
  };
}

test("fails twice (a 503, then a dropped connection), then answers: the third try's answer comes back", async () => {
  const a = await app([
    json(503, { error: "unavailable", message: "restarting" }),
    hangUp,
    json(200, { ok: true }),
  ]);
  try {
    const o = options();
    assert.deepEqual(await postToApp(a.url, "breakglass/exchange", { token: "t" }, o.options), { ok: true });
    assert.equal(a.seen.length, 3);
    assert.deepEqual(o.waits, [1_000, 2_000], "exponential back-off from 1 s");
    assert.ok(
      a.seen.every((s) => s.body === JSON.stringify({ token: "t" })),
      "the same body each time",
    );
    assert.equal(
      new Set(a.seen.map((s) => s.requestId)).size,
      1,
      "one request id across the tries, to find them in the app's logs",
    );
    assert.match(o.logs[0]!, /answered 503 \(unavailable\); trying again in 1000 ms \(try 2 of 4\)/);
    assert.match(
      o.logs[1]!,
      /Could not reach the Breakglass app at http:\/\/127\.0\.0\.1:\d+: .*trying again in 2000 ms \(try 3 of 4\)/,
    );
  } finally {
    await a.close();
  }
});

test("a 4xx is the app's answer: never tried again", async () => {
  for (const status of [400, 401, 403, 404, 409, 422]) {
    const a = await app([
      json(status, { error: "run_not_recorded", message: "no" }),
      json(200, { ok: true }),
    ]);
    try {
      const o = options();
      await assert.rejects(
        postToApp(a.url, "breakglass/exchange", {}, o.options),
        (e: unknown) => e instanceof AppRefusal && e.status === status && e.code === "run_not_recorded",
      );
      assert.equal(a.seen.length, 1, `${status} is final`);
      assert.deepEqual(o.waits, []);
    } finally {
      await a.close();
    }
  }
});

test("429 and 5xx honour Retry-After (seconds or a date), capped", async () => {
  const a = await app([
    json(429, { error: "rate_limited" }, { "retry-after": "3" }),
    json(502, {}, { "retry-after": "3600" }),
    json(200, { done: 1 }),
  ]);
  try {
    const o = options();
    assert.deepEqual(await postToApp(a.url, "breakglass/release", {}, o.options), { done: 1 });
    assert.deepEqual(o.waits, [3_000, 10_000], "Retry-After wins over back-off; an hour is capped at 10 s");
  } finally {
    await a.close();
  }
  const now = Date.parse("2026-12-01T10:00:00Z");
  const retry = { attempts: 4, baseDelayMs: 1_000, maxDelayMs: 10_000 };
  assert.equal(retryDelayMs(1, "Tue, 01 Dec 2026 10:00:05 GMT", retry, now), 5_000);
  assert.equal(
    retryDelayMs(1, "Tue, 01 Dec 2026 09:00:00 GMT", retry, now),
    0,
    "a date in the past: no wait",
  );
  assert.equal(
    retryDelayMs(3, "soon", retry, now),
    4_000,
    "an unreadable Retry-After falls back to back-off",
  );
  assert.equal(retryDelayMs(6, null, retry, now), 10_000, "back-off is bounded");
});

test("bounded: after the last try the last failure is reported", async () => {
  const a = await app([json(500, { error: "internal", message: "boom" })]);
  try {
    const o = options({ retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 15 } });
    await assert.rejects(
      postToApp(a.url, "breakglass/exchange", {}, o.options),
      (e: unknown) => e instanceof AppRefusal && e.status === 500 && /boom \(request id run-/.test(e.message),
    );
    assert.equal(a.seen.length, 3);
    assert.deepEqual(o.waits, [10, 15]);
  } finally {
    await a.close();
  }
  const closed = await app([json(200, {})]);
  await closed.close();
  const o = options({ retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
  await assert.rejects(
    postToApp(closed.url, "breakglass/exchange", {}, o.options),
    /Could not reach the Breakglass app at .* \(after 2 tries\)/,
  );
});
