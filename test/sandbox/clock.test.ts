import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock, githubTimestamp, systemClock } from "../../src/sandbox/clock.ts";

describe("clock", () => {
  it("systemClock reads the wall clock", () => {
    const before = Date.now();
    const now = systemClock.now();
    assert.ok(now >= before && now <= Date.now());
  });

  it("FakeClock only moves when told to, and tells its listeners", () => {
    const clock = new FakeClock(1_000);
    const heard: Array<[number, number]> = [];
    const unsubscribe = clock.onAdvance((now, previous) => heard.push([now, previous]));
    assert.equal(clock.now(), 1_000);
    clock.advance(500);
    clock.advance(0);
    clock.set(200);
    assert.equal(clock.now(), 200, "set may jump backwards (a clock jump)");
    unsubscribe();
    clock.advance(1);
    assert.deepEqual(heard, [
      [1_500, 1_000],
      [1_500, 1_500],
      [200, 1_500],
    ]);
  });

  it("refuses moves that are not finite or go backwards through advance", () => {
    const clock = new FakeClock(0);
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY])
      assert.throws(() => clock.advance(bad), RangeError);
    assert.throws(() => clock.set(Number.NaN), RangeError);
    assert.throws(() => new FakeClock(Number.NaN), RangeError);
    assert.equal(clock.now(), 0);
  });

  it("lets every listener hear a move even when one throws, then rethrows the first error", () => {
    const clock = new FakeClock(0);
    const heard: string[] = [];
    clock.onAdvance(() => {
      throw new Error("first");
    });
    clock.onAdvance(() => {
      throw new Error("second");
    });
    clock.onAdvance(() => heard.push("third"));
    assert.throws(() => clock.advance(10), /first/);
    assert.deepEqual(heard, ["third"]);
    assert.equal(clock.now(), 10);
  });

  it("formats timestamps as GitHub does (UTC, no milliseconds)", () => {
    assert.equal(githubTimestamp(Date.parse("2026-11-24T09:00:00.999Z")), "2026-11-24T09:00:00Z");
    assert.equal(githubTimestamp(0), "1970-01-01T00:00:00Z");
  });
});
