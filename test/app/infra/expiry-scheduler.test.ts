import { test } from "node:test";
import assert from "node:assert/strict";
import { createExpiryScheduler } from "../../../src/app/infra/expiry-scheduler.ts";
import type { GitHubPort } from "../../../src/github/github-port.ts";

const port = { owner: "acme", repo: "ops" } as GitHubPort;

test("with a fake clock, due() hands out exactly the timers whose time has come, once", () => {
  let now = 1_000;
  const s = createExpiryScheduler({
    now: () => now,
    retryBaseMs: 100,
    realTimers: false,
    fire: async () => undefined,
  });
  s.schedule(port, 1, 5_000);
  s.schedule(port, 2, 9_000);
  assert.deepEqual(s.due(now), []);
  now = 5_000;
  assert.deepEqual(
    s.due(now).map((d) => d.issue),
    [1],
  );
  assert.deepEqual(s.due(now), []);
  now = 10_000;
  assert.deepEqual(
    s.due(now).map((d) => d.issue),
    [2],
  );
});

test("an issue's timer is at the earliest time due: a later schedule (another resource's grant, an extension) never pushes back an earlier one", () => {
  let now = 0;
  const s = createExpiryScheduler({
    now: () => now,
    retryBaseMs: 100,
    realTimers: false,
    fire: async () => undefined,
  });
  s.schedule(port, 1, 1_000);
  s.schedule(port, 2, 3_000);
  s.schedule(port, 1, 4_000); // a second resource of #1, granted for longer
  s.schedule(port, 2, 2_000); // an earlier time wins
  now = 1_000;
  assert.deepEqual(
    s.due(now).map((d) => d.issue),
    [1],
    "#1's first grant is not pushed back to 4 000",
  );
  // The reconcile the timer ran schedules what is due next on #1.
  s.schedule(port, 1, 4_000);
  now = 2_000;
  assert.deepEqual(
    s.due(now).map((d) => d.issue),
    [2],
  );
  now = 4_000;
  assert.deepEqual(
    s.due(now).map((d) => d.issue),
    [1],
  );
  assert.deepEqual(s.due(10_000), []);
});

test("retries back off exponentially and are capped at 15 minutes", () => {
  let now = 0;
  const s = createExpiryScheduler({
    now: () => now,
    retryBaseMs: 1_000,
    realTimers: false,
    fire: async () => undefined,
  });
  s.retry(port, 1, 3); // 4 s
  now = 3_999;
  assert.equal(s.due(now).length, 0);
  now = 4_000;
  assert.equal(s.due(now).length, 1);
  s.retry(port, 1, 30);
  now += 15 * 60_000;
  assert.equal(s.due(now).length, 1);
});

test("real timers fire the callback", async () => {
  const fired: number[] = [];
  const s = createExpiryScheduler({
    now: () => Date.now(),
    retryBaseMs: 100,
    realTimers: true,
    fire: async (_p, issue) => void fired.push(issue),
  });
  s.schedule(port, 7, Date.now() + 10);
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(fired, [7]);
  s.stop();
});
