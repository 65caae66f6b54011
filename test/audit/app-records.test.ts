import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { decodePayload, isAppAuthored, peekSeq } from "../../src/audit/app-records.ts";
import {
  APP_LOGIN,
  at,
  buildRepo,
  mixedHistory,
  recordComment,
  T0,
  type BuiltRepo,
} from "./history-fixtures.ts";

describe("app-records (who wrote a comment, what a record claims)", () => {
  let repo: BuiltRepo;
  let jws: string[];
  before(async () => {
    repo = await buildRepo(mixedHistory().specs.filter((s) => s.number === 1));
    jws = repo.chains.get(1)!.map((e) => e.jws);
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
