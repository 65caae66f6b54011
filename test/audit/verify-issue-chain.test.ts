import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { verifyRequest } from "../../src/audit/read-request.ts";
import { verifyRepository } from "../../src/audit/verify-repository.ts";
import { generateAuditKey } from "../../src/core/audit-chain.ts";
import type { IssueComment } from "../../src/github/github-port.ts";
import {
  APP_LOGIN,
  at,
  buildRepo,
  fakePort,
  mixedHistory,
  recordComment,
  T0,
  tamperPayload,
  type BuiltRepo,
} from "./history-fixtures.ts";

describe("verifyRequest (the ledger, and the comments checked against it)", () => {
  let repo: BuiltRepo;
  let original: IssueComment[];
  before(async () => {
    repo = await buildRepo(mixedHistory().specs.filter((s) => s.number === 1));
    original = repo.comments.get(1)!;
  });
  const verify = async (comments: IssueComment[], change?: (r: BuiltRepo) => void) => {
    const copy: BuiltRepo = { ...repo, comments: new Map([[1, comments]]), chains: new Map(repo.chains) };
    change?.(copy);
    return (await verifyRequest(fakePort(copy), 1, { appLogin: APP_LOGIN, jwks: repo.jwks })).verdict;
  };

  it("an intact chain, every record mirrored, verifies", async () => {
    const verdict = await verify(original);
    assert.equal(verdict.ok, true, JSON.stringify(verdict.break));
    assert.equal(verdict.entries, 6);
    assert.equal(verdict.verified.length, 6);
    assert.deepEqual(verdict.notes, []);
  });

  it("an edited record comment breaks at its entry, though the ledger still holds the original", async () => {
    const edited = original.map((c, i) =>
      i === 2
        ? { ...c, body: c.body.replace(/record (\S+)/, (_m, j: string) => `record ${tamperPayload(j)}`) }
        : c,
    );
    const verdict = await verify(edited);
    assert.equal(verdict.ok, false);
    assert.equal(verdict.break?.index, 2);
    assert.match(verdict.break!.reason, /entry 2: its \w+ record was deleted from the issue's comments/);
    assert.match(verdict.notes.join("\n"), /carries a record the ledger does not hold/);
    assert.equal(verdict.verified.length, 6, "the ledger's chain itself is intact");
  });

  it("a record comment whose text was changed (the record kept) is reported as edited", async () => {
    const edited = original.map((c, i) =>
      i === 1 ? { ...c, body: c.body.replace("Something happened.", "Approved by the CISO.") } : c,
    );
    const verdict = await verify(edited);
    assert.equal(verdict.break?.index, 1);
    assert.match(
      verdict.break!.reason,
      /entry 1: its \w+ record was edited in comment \d+; the ledger holds the original/,
    );
  });

  it("a deleted comment in the middle is a break at its entry", async () => {
    const verdict = await verify([...original.slice(0, 2), ...original.slice(3)]);
    assert.equal(verdict.break?.index, 2);
    assert.match(verdict.break!.reason, /entry 2: its \w+ record was deleted/);
  });

  it("a truncated tail (the last records deleted) is named as such", async () => {
    const verdict = await verify(original.slice(0, 4));
    assert.equal(verdict.break?.index, 4);
    assert.match(
      verdict.break!.reason,
      /entry 4: truncated tail: the issue's comments stop before this entry, the ledger holds 6 entries \(4–5 deleted\)/,
    );
  });

  it("a ledger entry that does not verify breaks the chain there, whatever the comments say", async () => {
    const verdict = await verify(original, (r) => {
      const chain = r.chains.get(1)!;
      r.chains.set(
        1,
        chain.map((e, i) => (i === 3 ? { ...e, jws: tamperPayload(e.jws) } : e)),
      );
    });
    assert.equal(verdict.break?.index, 3);
    assert.match(verdict.break!.reason, /bad signature/);
    assert.equal(verdict.verified.length, 3);
  });

  it("copies in other people's comments are never counted", async () => {
    const verdict = await verify([
      ...original,
      recordComment(repo.chains.get(1)![0]!.jws, at(T0), { login: "mallory", type: "User" }),
    ]);
    assert.equal(verdict.ok, true);
  });

  it("records of another issue are refused", async () => {
    const other = await buildRepo(
      mixedHistory().specs.filter((s) => s.number === 2),
      [],
      repo.key,
    );
    const verdict = await verify(original, (r) => r.chains.set(1, other.chains.get(2)!));
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
    comments[1] = {
      ...comments[1]!,
      body: comments[1]!.body.replace(/record (\S+)/, (_m, j: string) => `record ${tamperPayload(j)}`),
    };
    const progress: number[] = [];
    const broken = await verifyRepository(fakePort(repo), {
      appLogin: APP_LOGIN,
      jwks: repo.jwks,
      onProgress: (done) => progress.push(done),
    });
    assert.equal(broken.ok, false);
    assert.equal(broken.firstBroken?.issue, 5);
    assert.equal(broken.firstBroken?.break?.index, 1);
    assert.match(
      broken.firstBroken!.break!.reason,
      /entry 1: its \w+ record was deleted from the issue's comments; the ledger holds it/,
    );
    assert.equal(progress.at(-1), 11);
  });

  it("a foreign key set fails every chain", async () => {
    const repo = await buildRepo(mixedHistory().specs.slice(0, 2));
    const stranger = await generateAuditKey();
    const report = await verifyRepository(fakePort(repo), {
      appLogin: APP_LOGIN,
      jwks: { keys: [stranger.publicJwk] },
    });
    assert.equal(report.ok, false);
    assert.ok(report.chains.every((c) => c.break?.index === 0 && /unknown key id/.test(c.break.reason)));
  });
});
