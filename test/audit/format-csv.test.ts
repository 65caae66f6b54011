import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { collectAudit, type AuditCollection } from "../../src/audit/collect.ts";
import { csvCell, formatCsv } from "../../src/audit/format-csv.ts";
import { buildRepo, DAY, fakePort, FORMULA, mixedHistory, T0, XSS } from "./history-fixtures.ts";

/** A strict RFC 4180 reader, so the test checks the quoting rather than trusting it. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 2;
        continue;
      }
      if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') {
      assert.equal(cell, "", `a quote may only open a cell (at ${i})`);
      quoted = true;
    } else if (ch === ",") {
      row.push(cell);
      cell = "";
    } else if (ch === "\r" && text[i + 1] === "\n") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
      i += 2;
      continue;
    } else {
      assert.ok(ch !== "\n" && ch !== "\r", `bare line break outside quotes at ${i}`);
      cell += ch;
    }
    i++;
  }
  assert.equal(quoted, false, "unterminated quote");
  assert.deepEqual(row, [], "the file ends with CRLF");
  return rows;
}

describe("csv export", () => {
  let collection: AuditCollection;
  let table: string[][];
  let header: string[];
  const cellOf = (issue: number, column: string) =>
    table.find((r) => r[1] === String(issue))![header.indexOf(column)]!;
  before(async () => {
    const { specs, reviews } = mixedHistory();
    const repo = await buildRepo(specs, reviews);
    collection = await collectAudit(fakePort(repo), { jwks: repo.jwks, now: T0 + 30 * DAY });
    table = parseCsv(formatCsv(collection));
    header = table.shift()!;
  });

  it("has a header and one row per request, every row as wide as the header", () => {
    assert.deepEqual(header.slice(0, 6), ["repository", "issue", "url", "status", "requester", "resource"]);
    for (const name of [
      "approvers",
      "checklist_status",
      "chain_status",
      "time_to_revoke_seconds",
      "credential_id",
      "flags",
      "drill",
    ])
      assert.ok(header.includes(name), name);
    assert.equal(table.length, collection.rows.length);
    assert.ok(table.every((r) => r.length === header.length));
  });

  it("neutralises a formula a requester typed, and keeps the rest of the text intact", () => {
    assert.equal(cellOf(2, "justification"), `'${FORMULA}`);
    assert.equal(cellOf(3, "justification"), XSS);
    assert.equal(cellOf(10, "justification"), 'Long backfill,\nneeds "more" time');
  });

  it("writes approvers with how they approved, flags, numbers and empty cells for nulls", () => {
    assert.equal(cellOf(1, "approvers"), "bob (codeowner)");
    assert.equal(cellOf(3, "approvers"), "carol (team @acme/ai-governance)");
    assert.equal(cellOf(5, "approvers"), "olga (break-glass)");
    assert.equal(cellOf(6, "approvers"), "breakglass[bot] (auto: drills)");
    assert.equal(cellOf(4, "flags"), "outlived_expiry;revoke_failed");
    assert.equal(cellOf(1, "duration_used_seconds"), "3660");
    assert.equal(cellOf(2, "granted_at"), "");
    assert.equal(cellOf(6, "drill"), "true");
    assert.equal(cellOf(1, "checklist_checked"), "2");
    assert.equal(cellOf(1, "chain_status"), "verified");
  });

  it("csvCell: text starting with = + - @ tab or CR gets a leading quote; our numbers do not", () => {
    assert.equal(csvCell("=1+1"), "'=1+1");
    assert.equal(csvCell("+1"), "'+1");
    assert.equal(csvCell("-1"), "'-1");
    assert.equal(csvCell("@SUM(A1)"), "'@SUM(A1)");
    assert.equal(csvCell("\t=1"), "'\t=1");
    assert.equal(csvCell("\r=1"), "'\r=1");
    assert.equal(csvCell(" =1"), " =1");
    assert.equal(csvCell(-5), "-5");
    assert.equal(csvCell(false), "false");
    assert.equal(csvCell(null), "");
  });

  it("an empty export is the header alone", () => {
    const text = formatCsv({ ...collection, rows: [] });
    assert.equal(text.split("\r\n").length, 2);
    assert.ok(text.startsWith("repository,issue,url,"));
  });
});
