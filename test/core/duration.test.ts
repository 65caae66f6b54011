import { test } from "node:test";
import assert from "node:assert/strict";
import { formatDuration, MAX_ANY_DURATION_SECONDS, parseDuration } from "../../src/core/duration.ts";

const accepted: Array<[string, number]> = [
  ["90m", 5400],
  ["1h30m", 5400],
  ["2h", 7200],
  ["45s", 45],
  ["1d", 86400],
  ["PT2H", 7200],
  ["pt1h30m", 5400],
  ["P1D", 86400],
  [" 2H ", 7200],
];
for (const [input, seconds] of accepted) {
  test(`parseDuration accepts ${JSON.stringify(input)}`, () => {
    assert.deepEqual(parseDuration(input), { ok: true, value: seconds });
  });
}

const refused: Array<[string, RegExp]> = [
  ["", /empty/],
  ["0", /no unit/],
  ["0h", /zero/],
  ["PT0S", /zero/],
  ["-1h", /negative/],
  ["−1h", /negative/],
  ["99999h", /longer than 7d/],
  ["1e9s", /not a duration/],
  ["1.5h", /not a duration/],
  ["١h", /not a duration/],
  ["２h", /not a duration/],
  ["2 hours", /not a duration/],
  ["h", /not a duration/],
  ["P", /not a duration/],
  ["PT", /not a duration/],
  ["30m1h", /not a duration/],
  ["x".repeat(100), /too long/],
];
for (const [input, message] of refused) {
  test(`parseDuration refuses ${JSON.stringify(input.slice(0, 20))} with a message`, () => {
    const result = parseDuration(input);
    assert.equal(result.ok, false);
    if (!result.ok) assert.match(result.error, message);
  });
}

test("the absolute cap is accepted and one second more is not", () => {
  assert.equal(parseDuration(`${MAX_ANY_DURATION_SECONDS}s`).ok, true);
  assert.equal(parseDuration(`${MAX_ANY_DURATION_SECONDS + 1}s`).ok, false);
});

test("formatDuration gives the shortest human form and round-trips", () => {
  assert.equal(formatDuration(5400), "1h30m");
  assert.equal(formatDuration(86400 + 61), "1d1m1s");
  assert.equal(formatDuration(0), "0s");
  for (const s of [1, 59, 60, 3599, 3600, 7322, 86399]) {
    assert.deepEqual(parseDuration(formatDuration(s)), { ok: true, value: s });
  }
});
