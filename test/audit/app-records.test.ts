import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { decodePayload, extractIssueRecords, isAppAuthored, peekSeq } from "../../src/audit/app-records.ts";
import type { IssueComment } from "../../src/app/github-port.ts";
import { APP_LOGIN, at, buildRepo, mixedHistory, recordComment, T0, type BuiltRepo } from "./history-fixtures.ts";

describe("extractIssueRecords", () => {
  let repo: BuiltRepo;
  let jws: string[];
  before(async () => {
    repo = await buildRepo(mixedHistory().specs.filter((s) => s.number === 1));
    jws = repo.chains.get(1)!.map((e) => e.jws);
  });
  const comments = (...records: Array<string | IssueComment>): IssueComment[] => records.map((r) => (typeof r === "string" ? recordComment(r, at(T0)) : r));

  it("reads the chain in order from the app's comments only", () => {
    const plain: IssueComment = { ...recordComment(jws[0]!, at(T0)), body: "no marker here" };
    const out = extractIssueRecords([plain, ...comments(...jws), recordComment(jws[1]!, at(T0), { login: "mallory", type: "User" })], APP_LOGIN);
    assert.deepEqual(out.chain, jws);
    assert.equal(out.ignored, 1);
    assert.deepEqual([out.duplicates, out.gap, out.unreadable], [[], null, []]);
  });

  it("keeps the first record of a seq and lists the later one as a duplicate (replicas racing)", () => {
    const out = extractIssueRecords(comments(jws[0]!, jws[1]!, jws[1]!, jws[2]!), APP_LOGIN);
    assert.deepEqual(out.chain, jws.slice(0, 3));
    assert.deepEqual(out.duplicates.map((d) => d.seq), [1]);
  });

  it("a missing entry leaves a gap: the records after it are not in the chain", () => {
    const out = extractIssueRecords(comments(jws[0]!, jws[1]!, jws[3]!, jws[4]!), APP_LOGIN);
    assert.deepEqual(out.chain, jws.slice(0, 2));
    assert.deepEqual([out.gap?.expected, out.gap?.found], [2, 3]);
  });

  it("a record posted out of order still fills its place, as the app reads it", () => {
    const out = extractIssueRecords(comments(jws[0]!, jws[2]!, jws[1]!), APP_LOGIN);
    assert.deepEqual(out.chain, jws.slice(0, 2));
    assert.deepEqual(out.duplicates.map((d) => d.seq), [], "seq 2 is not a duplicate");
    assert.deepEqual([out.gap?.expected, out.gap?.found], [2, 2]);
  });

  it("an app comment whose record cannot be read is reported, not skipped silently", () => {
    const broken = { ...recordComment(jws[1]!, at(T0)), body: "<!-- breakglass:record not.a.jws -->" };
    const out = extractIssueRecords([...comments(jws[0]!), broken], APP_LOGIN);
    assert.deepEqual(out.unreadable, [broken.id]);
  });

  it("knows the app by its bot login and type, whatever the case of the login", () => {
    const c = recordComment(jws[0]!, at(T0));
    assert.equal(isAppAuthored(c, "Breakglass[bot]"), true);
    assert.equal(isAppAuthored({ ...c, user: { login: APP_LOGIN, type: "User" } }, APP_LOGIN), false);
    assert.equal(isAppAuthored({ ...c, user: { login: "breakglass", type: "Bot" } }, APP_LOGIN), false);
  });

  it("peeks at seq and payloads without trusting them", () => {
    assert.equal(peekSeq(jws[3]!), 3);
    assert.equal(peekSeq("a.b.c"), null);
    assert.equal(peekSeq(`x.${Buffer.from('{"seq":-1}').toString("base64url")}.y`), null);
    assert.equal(peekSeq(`x.${Buffer.from('{"seq":"1"}').toString("base64url")}.y`), null);
    assert.equal(decodePayload(`x.${Buffer.from("[1]").toString("base64url")}.y`), null);
    assert.equal(decodePayload(jws[0]!)?.issue, 1);
  });
});
