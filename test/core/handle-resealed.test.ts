import { test } from "node:test";
import assert from "node:assert/strict";
import { foldEvents } from "../../src/core/lifecycle.ts";
import type { TimedEvent } from "../../src/core/lifecycle-events.ts";
import type { AccessRequest } from "../../src/core/types.ts";

const at = (m: number) => new Date(Date.UTC(2026, 10, 24, 9, m)).toISOString();
const request = { resource: "db", role: "read", duration_seconds: 1800 } as unknown as AccessRequest;
const live: TimedEvent[] = [
  { type: "requested", actor: "erin", request, hash: "h", required_approvals: 1, at: at(0) },
  { type: "approved", actor: "grace", hash: "h", via: "codeowner", at: at(1) },
  {
    type: "granted",
    actor: "bot",
    grant_id: "g1",
    run_id: "7",
    provider: "jwt",
    credential_id: "c1",
    expires_at: at(31),
    sealed_handle: "v1.old",
    at: at(2),
  },
];

test("handle_resealed replaces the live grant's sealed handle and nothing else", () => {
  const folded = foldEvents([
    ...live,
    { type: "handle_resealed", actor: "bot", grant_id: "g1", sealed_handle: "v1.new", at: at(3) },
  ]);
  assert.ok(folded.ok);
  const before = foldEvents(live);
  assert.ok(before.ok);
  assert.deepEqual({ ...folded.state.grant, sealed_handle: "v1.old" }, before.state.grant);
  assert.equal(folded.state.grant?.sealed_handle, "v1.new");
  assert.equal(folded.state.status, "active");
});

test("handle_resealed is refused for another grant, an ended grant, or a grant without a handle", () => {
  const wrongGrant = foldEvents([
    ...live,
    { type: "handle_resealed", actor: "bot", grant_id: "g2", sealed_handle: "v1.new", at: at(3) },
  ]);
  assert.equal(wrongGrant.ok, false);
  const ended = foldEvents([
    ...live,
    { type: "revoked", actor: "bot", grant_id: "g1", reason: "revoked", evidence: "e", at: at(3) },
    { type: "handle_resealed", actor: "bot", grant_id: "g1", sealed_handle: "v1.new", at: at(4) },
  ]);
  assert.equal(ended.ok, false);
  const noHandle = live.map((e) =>
    e.type === "granted" ? { ...e, sealed_handle: undefined } : e,
  ) as TimedEvent[];
  assert.equal(
    foldEvents([
      ...noHandle,
      { type: "handle_resealed", actor: "bot", grant_id: "g1", sealed_handle: "v1.new", at: at(3) },
    ]).ok,
    false,
  );
  assert.equal(
    foldEvents([
      live[0]!,
      { type: "handle_resealed", actor: "bot", grant_id: "g1", sealed_handle: "v1.new", at: at(1) },
    ]).ok,
    false,
  );
});
