import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { collectAudit, type AuditCollection } from "../../src/audit/collect.ts";
import { formatJson } from "../../src/audit/format-json.ts";
import { formatJsonl } from "../../src/audit/format-jsonl.ts";
import { parseChainRecords } from "../../src/audit/parse-jsonl.ts";
import { verifyChainRecords } from "../../src/audit/verify-records.ts";
import { buildRepo, DAY, fakePort, mixedHistory, T0, type BuiltRepo } from "./history-fixtures.ts";

describe("json and jsonl exports", () => {
  let repo: BuiltRepo;
  let collection: AuditCollection;
  before(async () => {
    const { specs, reviews } = mixedHistory();
    repo = await buildRepo(specs, reviews);
    collection = await collectAudit(fakePort(repo), { jwks: repo.jwks, now: T0 + 30 * DAY });
  });

  it("json is the pretty array of rows, nothing more", () => {
    const text = formatJson(collection);
    assert.deepEqual(JSON.parse(text), collection.rows);
    assert.match(text, /^\[\n {2}\{\n {4}"repository": "acme\/ops",/);
    assert.ok(text.endsWith("]\n"));
  });

  it("jsonl has exactly {repo, issue, jws} per line, and verify takes it back offline", async () => {
    const text = formatJsonl(collection);
    const lines = text.trimEnd().split("\n");
    assert.equal(lines.length, collection.records.length);
    for (const line of lines)
      assert.deepEqual(Object.keys(JSON.parse(line) as object), ["repo", "issue", "jws"]);
    const parsed = parseChainRecords(text);
    assert.ok(parsed.ok);
    const report = await verifyChainRecords(parsed.value, repo.jwks);
    assert.equal(report.ok, true);
    assert.equal(report.chains.length, 10, "every request with records");
  });

  it("jsonl of an empty export is empty", () => {
    assert.equal(formatJsonl({ ...collection, rows: [], records: [] }), "");
  });
});
