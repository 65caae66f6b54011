import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { parseChainRecords } from "../../src/audit/parse-jsonl.ts";
import { verifyChainRecords, type ChainRecord } from "../../src/audit/verify-records.ts";
import { createSigner, generateAuditKey, appendEntry, type SignedEntry } from "../../src/core/audit-chain.ts";
import { buildRepo, mixedHistory, REPOSITORY, tamperPayload, type BuiltRepo } from "./history-fixtures.ts";

describe("verifyChainRecords (an exported file)", () => {
  let repo: BuiltRepo;
  let lines: ChainRecord[];
  before(async () => {
    repo = await buildRepo(mixedHistory().specs.filter((s) => [1, 3, 5].includes(s.number)));
    lines = [...repo.chains.entries()].flatMap(([issue, chain]) =>
      chain.map((e) => ({ repo: REPOSITORY, issue, jws: e.jws })),
    );
  });
  const of = (issue: number) => lines.filter((l) => l.issue === issue);
  const others = (issue: number) => lines.filter((l) => l.issue !== issue);

  it("intact chains verify", async () => {
    const report = await verifyChainRecords(lines, repo.jwks);
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.chains.map((c) => [c.issue, c.entries, c.ok]),
      [
        [1, 6, true],
        [3, 5, true],
        [5, 4, true],
      ],
    );
    assert.equal(report.entries, 15);
    assert.equal(report.firstBroken, null);
  });

  it("an edited entry: bad signature at that entry", async () => {
    const three = of(3).map((l, i) => (i === 2 ? { ...l, jws: tamperPayload(l.jws) } : l));
    const report = await verifyChainRecords([...of(1), ...three, ...of(5)], repo.jwks);
    assert.equal(report.ok, false);
    assert.equal(report.firstBroken?.issue, 3);
    assert.deepEqual(report.firstBroken?.break, { index: 2, reason: "entry 2: bad signature" });
    assert.deepEqual(
      report.chains.map((c) => c.ok),
      [true, false, true],
    );
  });

  it("a dropped middle entry: the next one is out of sequence", async () => {
    const one = of(1).filter((_, i) => i !== 2);
    const report = await verifyChainRecords([...one, ...others(1)], repo.jwks);
    assert.equal(report.firstBroken?.issue, 1);
    assert.equal(report.firstBroken?.break?.index, 2);
    assert.match(
      report.firstBroken!.break!.reason,
      /seq is 3, expected 2 \(an entry is missing, duplicated or out of order\)/,
    );
  });

  it("reordered entries break where the order changes", async () => {
    const one = of(1);
    const swapped = [one[0]!, one[1]!, one[3]!, one[2]!, one[4]!, one[5]!];
    const report = await verifyChainRecords(swapped, repo.jwks);
    assert.equal(report.firstBroken?.break?.index, 2);
    assert.match(report.firstBroken!.break!.reason, /seq is 3, expected 2/);
  });

  it("a tail re-signed with a foreign key is refused at its first entry", async () => {
    const mallory = await generateAuditKey();
    const signer = createSigner(mallory.privateKey, mallory.kid);
    const chain: SignedEntry[] = repo.chains.get(1)!.slice(0, 3);
    const forged = await appendEntry(
      chain,
      {
        at: chain[2]!.entry.at,
        repo: REPOSITORY,
        issue: 1,
        id: "forged",
        event: { type: "revoked", actor: "mallory" },
      },
      signer,
    );
    const report = await verifyChainRecords(
      [...of(1).slice(0, 3), { repo: REPOSITORY, issue: 1, jws: forged.jws }],
      repo.jwks,
    );
    assert.deepEqual(report.firstBroken?.break?.index, 3);
    assert.match(report.firstBroken!.break!.reason, /unknown key id/);
  });

  it("a line claiming another issue than its payload is refused", async () => {
    const report = await verifyChainRecords(
      of(1).map((l) => ({ ...l, issue: 9 })),
      repo.jwks,
    );
    assert.match(report.firstBroken!.break!.reason, /entry 0: issue is 1, expected 9/);
  });

  it("the first broken chain is the first in file order", async () => {
    const bad = (issue: number) =>
      of(issue).map((l, i) => (i === 1 ? { ...l, jws: tamperPayload(l.jws) } : l));
    const report = await verifyChainRecords([...of(1), ...bad(5), ...bad(3)], repo.jwks);
    assert.equal(report.firstBroken?.issue, 5);
    assert.equal(report.chains.filter((c) => !c.ok).length, 2);
  });
});

describe("parseChainRecords", () => {
  const good = { repo: "acme/ops", issue: 3, jws: "aGVhZA.cGF5bG9hZA.c2ln" };

  it("reads one record per line, skipping blank lines, a BOM and CRLF", () => {
    const parsed = parseChainRecords(
      `\uFEFF${JSON.stringify(good)}\r\n\r\n${JSON.stringify({ ...good, issue: 4, extra: "ignored" })}\n`,
    );
    assert.deepEqual(parsed, { ok: true, value: [good, { ...good, issue: 4 }] });
  });

  it("names the first bad line and says what each line must hold", () => {
    const cases: Array<[string, RegExp]> = [
      ["not json", /^line 2 is not JSON/],
      ["[1,2]", /^line 2 is not a JSON object/],
      [JSON.stringify({ ...good, repo: "acme" }), /^line 2: "repo" must be "owner\/name"/],
      [JSON.stringify({ ...good, repo: "../../etc/passwd" }), /"repo" must be/],
      [JSON.stringify({ ...good, issue: "3" }), /^line 2: "issue" must be a positive whole number/],
      [JSON.stringify({ ...good, issue: 0 }), /"issue" must be/],
      [JSON.stringify({ ...good, issue: 1.5 }), /"issue" must be/],
      [JSON.stringify({ ...good, jws: "a.b" }), /^line 2: "jws" must be a compact JWS/],
      [JSON.stringify({ ...good, jws: "a.b.c<script>" }), /"jws" must be/],
    ];
    for (const [line, message] of cases) {
      const parsed = parseChainRecords(`${JSON.stringify(good)}\n${line}\n`);
      assert.equal(parsed.ok, false, line);
      if (!parsed.ok) {
        assert.match(parsed.error, message, line);
        assert.match(parsed.error, /\{"repo":"owner\/name","issue":123,"jws":"<compact JWS>"\}/);
      }
    }
  });

  it("an empty file is an error, not a pass", () => {
    for (const text of ["", "\n \n"]) {
      const parsed = parseChainRecords(text);
      assert.equal(parsed.ok, false);
      if (!parsed.ok) assert.match(parsed.error, /holds no records/);
    }
  });
});
