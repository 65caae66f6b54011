import { test } from "node:test";
import assert from "node:assert/strict";
import { createIssueLock } from "../../../src/app/infra/issue-lock.ts";

test("work on one issue runs one at a time, in arrival order, even when a step fails", async () => {
  const lock = createIssueLock();
  const log: string[] = [];
  const slow = (name: string, ms: number, fail = false) =>
    lock("acme/ops#1", async () => {
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`end ${name}`);
      if (fail) throw new Error(name);
      return name;
    });
  const results = await Promise.allSettled([slow("a", 20, true), slow("b", 1), slow("c", 5)]);
  assert.deepEqual(log, ["start a", "end a", "start b", "end b", "start c", "end c"]);
  assert.equal(results[0]!.status, "rejected");
  assert.deepEqual(
    results.slice(1).map((r) => (r.status === "fulfilled" ? r.value : null)),
    ["b", "c"],
  );
});

test("different issues do not wait for each other", async () => {
  const lock = createIssueLock();
  const log: string[] = [];
  let release!: () => void;
  const blocked = lock("acme/ops#1", () => new Promise<void>((r) => (release = r)));
  await lock("acme/ops#2", async () => log.push("other issue ran"));
  assert.deepEqual(log, ["other issue ran"]);
  release();
  await blocked;
});
