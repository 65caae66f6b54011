import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { extendTarget } from "../../src/core/extend-part.ts";

const parts = (alpha: string, beta: string) =>
  ({ alpha: { status: alpha }, beta: { status: beta } }) as Parameters<typeof extendTarget>[0];

describe("which resource /extend extends on a request naming several", () => {
  it("the resource named first after the duration, the rest being the reason", () => {
    assert.deepEqual(extendTarget(parts("active", "active"), "beta still migrating"), {
      ok: true,
      value: { part: "beta", reason: "still migrating" },
    });
  });

  it("the only live grant when none is named; the whole text is then the reason", () => {
    assert.deepEqual(extendTarget(parts("active", "requested"), "still migrating"), {
      ok: true,
      value: { part: "alpha", reason: "still migrating" },
    });
  });

  it("several live and none named: refused, listing the live ones", () => {
    const r = extendTarget(parts("active", "active"), "still migrating");
    assert.ok(!r.ok);
    assert.equal(r.error.code, "part_required");
    assert.match(r.error.message, /`alpha`, `beta`/);
  });

  it("a named resource that is not live, none live, or a name without a reason: refused", () => {
    const notLive = extendTarget(parts("active", "expired"), "beta more time");
    assert.ok(!notLive.ok);
    assert.equal(notLive.error.code, "not_active");
    assert.match(
      notLive.error.message,
      /`beta` has no live grant to extend \(it is expired\); live now: `alpha`/,
    );
    const none = extendTarget(parts("expired", "revoked"), "more time");
    assert.ok(!none.ok);
    assert.equal(none.error.code, "not_active");
    const bare = extendTarget(parts("active", "active"), "beta");
    assert.ok(!bare.ok);
    assert.equal(bare.error.code, "invalid_command");
  });
});
