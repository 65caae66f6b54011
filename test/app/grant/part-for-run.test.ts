import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { resourceNamedIn } from "../../../src/app/grant/part-for-run.ts";

describe("the resource a grant run's title names", () => {
  test("the run-name's resource after its request", () => {
    assert.equal(resourceNamedIn("Break-glass grant for #12 github-admin", 12), "github-admin");
    assert.equal(resourceNamedIn("Break-glass grant for #12 github-admin ", 12), "github-admin");
  });

  test("none: a one-resource request's run (empty input), another request's, or no request", () => {
    assert.equal(resourceNamedIn("Break-glass grant for #12 ", 12), null);
    assert.equal(resourceNamedIn("Break-glass grant for #12", 12), null);
    assert.equal(resourceNamedIn("Break-glass grant for #123 github-admin", 12), null);
    assert.equal(resourceNamedIn("Break-glass grant for #1 github-admin", 12), null);
    assert.equal(resourceNamedIn("breakglass-grant", 12), null);
  });
});
