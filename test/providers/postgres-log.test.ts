import assert from "node:assert/strict";
import { it } from "node:test";
import { parseCsv } from "../../src/providers/postgres-log.ts";

it("parseCsv reads PostgreSQL's csvlog: quoted fields, doubled quotes, newlines inside quotes", () => {
  const text = [
    `2026-12-02 14:47:19.124 UTC,"bg_1_abc","postgres",10700,"127.0.0.1:47982",6b102f77.29cc,4,"idle",2026-12-02 14:47:19 UTC,4/2,0,LOG,00000,"statement: SELECT 'a'`,
    `, ""x""",,,,,,,,,"","client backend",,0`,
    `2026-12-02 14:47:19.126 UTC,"bg_1_abc","postgres",10700,,6b102f77.29cc,5,"SELECT",,4/3,0,LOG,00000,"execute <unnamed>: SELECT $1::text","parameters: $1 = 'param-secret'",,`,
    "",
  ].join("\n");
  const rows = parseCsv(text);
  assert.equal(rows.length, 2);
  assert.equal(rows[0]![1], "bg_1_abc");
  assert.equal(rows[0]![13], `statement: SELECT 'a'\n, "x"`);
  assert.equal(rows[1]![14], "parameters: $1 = 'param-secret'");
});
