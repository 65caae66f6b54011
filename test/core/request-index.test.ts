import assert from "node:assert/strict";
import { test } from "node:test";
import { initialState } from "../../src/core/lifecycle.ts";
import { isSettled } from "../../src/core/request-index.ts";

const state = (patch: Partial<ReturnType<typeof initialState>>) => ({ ...initialState(), ...patch });

test("a request leaves the index only when it ended, is closed and, for a grant, has its review", () => {
  assert.equal(isSettled(state({ status: "requested" })), false);
  assert.equal(
    isSettled(state({ status: "active", closed: true })),
    false,
    "a live grant stays, even if marked closed",
  );
  assert.equal(isSettled(state({ status: "revoke_failed" })), false);
  assert.equal(isSettled(state({ status: "denied", closed: false })), false, "not closed yet");
  assert.equal(isSettled(state({ status: "denied", closed: true })), true);
  assert.equal(
    isSettled(state({ status: "expired", closed: true, review_issue: null })),
    false,
    "no review issue yet",
  );
  assert.equal(isSettled(state({ status: "expired", closed: true, review_issue: 12 })), true);
});
