import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { extractIssueRecords } from "../../src/audit/app-records.ts";
import { verifyIssueRecords } from "../../src/audit/verify-issue-chain.ts";
import { verifyRepository } from "../../src/audit/verify-repository.ts";
import { appendEntry, createSigner, generateAuditKey } from "../../src/core/audit-chain.ts";
import { APP_LOGIN, at, buildRepo, fakePort, mixedHistory, recordComment, REPOSITORY, T0, tamperPayload, type BuiltRepo } from "./history-fixtures.ts";

describe("verifyIssueRecords (records as they are on GitHub)", () => {
  let repo: BuiltRepo;
  let jws: string[];
  before(async () => {
    repo = await buildRepo(mixedHistory().specs.filter((s) => s.number === 1));
    jws = repo.chains.get(1)!.map((e) => e.jws);
  });
  const verify = (records: string[], extra: Parameters<typeof extractIssueRecords>[0] = []) =>
    verifyIssueRecords(extractIssueRecords([...records.map((r) => recordComment(r, at(T0))), ...extra], APP_LOGIN), repo.jwks, { repo: REPOSITORY, issue: 1 });

  it("an intact chain verifies", async () => {
    const verdict = await verify(jws);
    assert.equal(verdict.ok, true);
    assert.equal(verdict.entries, 6);
    assert.equal(verdict.verified.length, 6);
    assert.deepEqual(verdict.notes, []);
  });

  it("an edited record breaks at its entry with a bad signature", async () => {
    const edited = [...jws];
    edited[2] = tamperPayload(edited[2]!);
    const verdict = await verify(edited);
    assert.deepEqual(verdict.break, { index: 2, reason: "entry 2: bad signature" });
    assert.equal(verdict.verified.length, 2);
  });

  it("a deleted comment in the middle is a break, although the app would just stop reading there", async () => {
    const verdict = await verify([...jws.slice(0, 2), ...jws.slice(3)]);
    assert.equal(verdict.ok, false);
    assert.equal(verdict.break?.index, 2);
    assert.match(verdict.break!.reason, /entry 2 is missing or out of order: the next record \(comment \d+\) has seq 3/);
  });

  it("a record that is not readable is a break", async () => {
    const verdict = await verify(jws, [{ ...recordComment(jws[0]!, at(T0)), body: "<!-- breakglass:record eyJ.eyJ.x -->" }]);
    assert.equal(verdict.ok, false);
    assert.match(verdict.break!.reason, /cannot be read \(was the comment edited\?\)/);
  });

  it("a genuine duplicate (replicas raced) verifies as a fork and is only noted", async () => {
    const signer = createSigner(repo.key.privateKey, repo.key.kid);
    const chain = repo.chains.get(1)!;
    const twin = await appendEntry(chain.slice(0, 3), { at: chain[3]!.entry.at, repo: REPOSITORY, issue: 1, id: "other-replica", event: chain[3]!.entry.event }, signer);
    const verdict = await verify([...jws.slice(0, 4), twin.jws, ...jws.slice(4)]);
    assert.equal(verdict.ok, true, JSON.stringify(verdict.break));
    assert.match(verdict.notes.join("\n"), /entry 3 was written twice/);
  });

  it("a duplicate that does not verify breaks the chain at its seq", async () => {
    const verdict = await verify([...jws.slice(0, 4), tamperPayload(jws[1]!), ...jws.slice(4)]);
    assert.equal(verdict.ok, false);
    assert.equal(verdict.break?.index, 1);
    assert.match(verdict.break!.reason, /a second record for entry 1 \(comment \d+\) does not verify: entry 1: bad signature/);
  });

  it("copies in other people's comments are noted, never counted", async () => {
    const verdict = await verify(jws, [recordComment(jws[0]!, at(T0), { login: "mallory", type: "User" })]);
    assert.equal(verdict.ok, true);
    assert.match(verdict.notes.join("\n"), /1 record marker\(s\) in comments not written by the app were ignored/);
  });

  it("records of another issue moved here are refused", async () => {
    const other = await buildRepo(mixedHistory().specs.filter((s) => s.number === 2), [], repo.key);
    const verdict = await verify(other.chains.get(2)!.map((e) => e.jws));
    assert.equal(verdict.break?.index, 0);
    assert.match(verdict.break!.reason, /issue is 2, expected 1/);
  });
});

describe("verifyRepository", () => {
  it("verifies every request issue and names the first broken one", async () => {
    const { specs, reviews } = mixedHistory();
    const repo = await buildRepo(specs, reviews);
    const intact = await verifyRepository(fakePort(repo), { appLogin: APP_LOGIN, jwks: repo.jwks });
    assert.equal(intact.ok, true);
    assert.equal(intact.chains.length, 11, "review issues are not request issues");
    assert.match(intact.chains.find((c) => c.issue === 11)!.notes.join(), /no signed records/);
    const comments = repo.comments.get(5)!;
    comments[1] = { ...comments[1]!, body: comments[1]!.body.replace(/record (\S+)/, (_m, j: string) => `record ${tamperPayload(j)}`) };
    const progress: number[] = [];
    const broken = await verifyRepository(fakePort(repo), { appLogin: APP_LOGIN, jwks: repo.jwks, onProgress: (done) => progress.push(done) });
    assert.equal(broken.ok, false);
    assert.equal(broken.firstBroken?.issue, 5);
    assert.deepEqual(broken.firstBroken?.break, { index: 1, reason: "entry 1: bad signature" });
    assert.equal(progress.at(-1), 11);
  });

  it("a foreign key set fails every chain", async () => {
    const repo = await buildRepo(mixedHistory().specs.slice(0, 2));
    const stranger = await generateAuditKey();
    const report = await verifyRepository(fakePort(repo), { appLogin: APP_LOGIN, jwks: { keys: [stranger.publicJwk] } });
    assert.equal(report.ok, false);
    assert.ok(report.chains.every((c) => c.break?.index === 0 && /unknown key id/.test(c.break.reason)));
  });
});
