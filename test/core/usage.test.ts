import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  describeUseCount,
  MAX_USES_KEPT,
  mergeUses,
  normaliseStatement,
  summariseUses,
  type UseRecord,
} from "../../src/core/usage.ts";

const use = (over: Partial<UseRecord>): UseRecord => ({
  id: "x",
  at: "2026-01-01T00:00:00.000Z",
  provider: "postgres",
  credential_id: "bg_1_aaaaaa",
  kind: "statement",
  action: "SELECT ?",
  ...over,
});

describe("normaliseStatement keeps no literal", () => {
  it("replaces strings, escaped strings, dollar quotes, numbers and bind placeholders with ?", () => {
    assert.equal(normaliseStatement("ALTER ROLE x PASSWORD 'hunter2'"), "ALTER ROLE x PASSWORD ?");
    assert.equal(
      normaliseStatement("SELECT * FROM t WHERE a = 'it''s' AND b = 42 AND c = -1.5e3"),
      "SELECT * FROM t WHERE a = ? AND b = ? AND c = ?",
    );
    assert.equal(normaliseStatement("SELECT E'a\\'b', $$secret$$, $tag$more secret$tag$"), "SELECT ?, ?, ?");
    assert.equal(
      normaliseStatement("SELECT id FROM orders WHERE item = $1"),
      "SELECT id FROM orders WHERE item = ?",
    );
    assert.equal(
      normaliseStatement("SELECT  col1,\n  t2.x FROM t2"),
      "SELECT col1, t2.x FROM t2",
      "identifiers with digits stay",
    );
    assert.equal(normaliseStatement("SELECT 'unterminated secret"), "SELECT ?");
  });
  it("cuts long statements", () => {
    const long = normaliseStatement(`SELECT ${"a, ".repeat(200)}b`);
    assert.equal(long.length, 200);
    assert.ok(long.endsWith("…"));
  });
});

describe("summariseUses", () => {
  it("counts kinds, sessions, refusals, first and last, and ranks the top actions", () => {
    const s = summariseUses([
      use({ id: "1", at: "2026-01-01T00:00:02.000Z", action: "SELECT ?", source: "s1" }),
      use({ id: "2", at: "2026-01-01T00:00:01.000Z", action: "UPDATE t SET a = ?", source: "s1" }),
      use({ id: "3", at: "2026-01-01T00:00:03.000Z", action: "SELECT ?", source: "s2" }),
      use({ id: "4", at: "2026-01-01T00:00:00.500Z", kind: "session", action: "login", source: "s2" }),
      use({
        id: "5",
        at: "2026-01-01T00:00:04.000Z",
        kind: "introspection",
        action: "introspect by api",
        source: "api",
        result: "inactive: revoked",
      }),
    ]);
    assert.equal(s.count, 5);
    assert.equal(s.first, "2026-01-01T00:00:00.500Z");
    assert.equal(s.last, "2026-01-01T00:00:04.000Z");
    assert.deepEqual(s.by_kind, { statement: 3, session: 1, introspection: 1 });
    assert.equal(s.sessions, 2);
    assert.equal(s.refused, 1);
    assert.deepEqual(s.top[0], { action: "SELECT ?", count: 2 });
    assert.ok(!s.top.some((t) => t.action === "login"), "logins are counted, not ranked");
    assert.equal(
      describeUseCount(s),
      "5 uses (3 statements, 1 login, 1 introspection, 2 sessions, 1 refused)",
    );
    assert.equal(describeUseCount(summariseUses([])), "no use recorded");
  });
  it("keeps at most topN actions", () => {
    assert.equal(
      summariseUses(
        Array.from({ length: 9 }, (_, i) => use({ id: String(i), action: `A${i}` })),
        3,
      ).top.length,
      3,
    );
  });
});

describe("mergeUses", () => {
  it("drops uses already kept (by id), orders by time, and stops at MAX_USES_KEPT", () => {
    const first = mergeUses(
      [],
      [use({ id: "a", at: "2026-01-01T00:00:02.000Z" }), use({ id: "b", at: "2026-01-01T00:00:01.000Z" })],
    );
    assert.deepEqual(
      first.uses.map((u) => u.id),
      ["b", "a"],
    );
    const second = mergeUses(first.uses, [
      use({ id: "a" }),
      use({ id: "c", at: "2026-01-01T00:00:03.000Z" }),
      use({ id: "c" }),
    ]);
    assert.deepEqual(
      second.added.map((u) => u.id),
      ["c"],
    );
    const full = Array.from({ length: MAX_USES_KEPT }, (_, i) => use({ id: `k${i}` }));
    assert.deepEqual(mergeUses(full, [use({ id: "more" })]).added, []);
  });
});
