import assert from "node:assert/strict";
import { it } from "node:test";
import { renderProgressBar } from "../../src/audit/progress-bar.ts";

it("draws a bar redrawn in place, never past full", () => {
  assert.equal(renderProgressBar(0, 40, 10), "\r[..........]  0/40 issues");
  assert.equal(renderProgressBar(12, 40, 10), "\r[###.......] 12/40 issues");
  assert.equal(renderProgressBar(40, 40, 10), "\r[##########] 40/40 issues");
  assert.equal(renderProgressBar(50, 40, 10), "\r[##########] 40/40 issues");
  assert.equal(renderProgressBar(0, 0, 4), "\r[####] 0/0 issues");
});
