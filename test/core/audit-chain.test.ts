import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { CompactSign, exportJWK, type JSONWebKeySet } from "jose";
import {
  appendEntry,
  AUDIT_TYP,
  createSigner,
  entryHash,
  exportPublicJwks,
  generateAuditKey,
  GENESIS_PREV,
  verifyChain,
  type AuditEntry,
  type AuditKey,
  type AuditSigner,
  type SignedEntry,
} from "../../src/core/audit-chain.ts";
import { canonicalJson } from "../../src/core/canonical-json.ts";

const REPO = "acme/ops";
const ISSUE = 42;
const T0 = Date.parse("2024-05-01T12:00:00.000Z");
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
const b64 = (value: unknown) =>
  Buffer.from(typeof value === "string" ? value : JSON.stringify(value), "utf8").toString("base64url");
const encode = (text: string) => new TextEncoder().encode(text);

const keyA = await generateAuditKey();
const keyB = await generateAuditKey();
const jwks: JSONWebKeySet = exportPublicJwks([keyA]);
const signerA = createSigner(keyA.privateKey, keyA.kid);

const EVENTS: AuditEntry["event"][] = [
  { type: "requested", actor: "alice", resource: "prod-database" },
  { type: "approved", actor: "bob", comment_id: 7 },
  { type: "granted", actor: "breakglass[bot]", credential_id: "cred-1" },
  { type: "revoked", actor: "alice", reason: "revoked" },
  { type: "closed", actor: "breakglass[bot]" },
];

async function buildChain(signer: AuditSigner = signerA, count = 5): Promise<SignedEntry[]> {
  const chain: SignedEntry[] = [];
  for (let i = 0; i < count; i++) {
    chain.push(
      await appendEntry(
        chain,
        { at: at(i), repo: REPO, issue: ISSUE, id: `event:${i}`, event: EVENTS[i % EVENTS.length]! },
        signer,
      ),
    );
  }
  return chain;
}

/** Signs arbitrary payload text with a real key, as an insider holding the key (or another key) could. */
async function signText(
  text: string,
  key: AuditKey = keyA,
  header: Record<string, unknown> = {},
): Promise<string> {
  const alg = (key.publicJwk.alg as string) ?? "ES256";
  return new CompactSign(encode(text))
    .setProtectedHeader({ alg, kid: key.kid, typ: AUDIT_TYP, ...header })
    .sign(key.privateKey);
}

const jwsOf = (chain: readonly SignedEntry[]) => chain.map((e) => e.jws);

function assertBroken(result: Awaited<ReturnType<typeof verifyChain>>, index: number, reason: RegExp): void {
  assert.equal(result.ok, false, "the chain must be refused");
  if (result.ok) return;
  assert.equal(result.index, index);
  assert.match(result.reason, reason);
  assert.ok(result.reason.startsWith(`entry ${index}: `), result.reason);
  assert.equal(result.entries.length, index, "only the verified prefix is returned");
}

describe("a valid chain", () => {
  test("five entries verify and come back as signed", async () => {
    const chain = await buildChain();
    const result = await verifyChain(jwsOf(chain), jwks, { repo: REPO, issue: ISSUE });
    assert.equal(result.ok, true);
    assert.deepEqual(
      result.entries,
      chain.map((e) => e.entry),
    );
    assert.deepEqual(
      result.entries.map((e) => e.seq),
      [0, 1, 2, 3, 4],
    );
  });

  test("entries link by hash and start from the genesis value", async () => {
    const chain = await buildChain();
    assert.equal(chain[0]!.entry.prev, GENESIS_PREV);
    for (let i = 1; i < chain.length; i++) assert.equal(chain[i]!.entry.prev, entryHash(chain[i - 1]!.jws));
  });

  test("an empty chain verifies with no entries", async () => {
    assert.deepEqual(await verifyChain([], jwks), { ok: true, entries: [] });
  });

  test("the protected header carries alg, kid and the audit typ", async () => {
    const [first] = await buildChain(signerA, 1);
    const header = JSON.parse(Buffer.from(first!.jws.split(".")[0]!, "base64url").toString("utf8"));
    assert.deepEqual(header, { alg: "ES256", kid: keyA.kid, typ: AUDIT_TYP });
  });

  test("the payload is exactly the canonical JSON of the entry", async () => {
    const [first] = await buildChain(signerA, 1);
    const payload = Buffer.from(first!.jws.split(".")[1]!, "base64url").toString("utf8");
    assert.equal(payload, canonicalJson(first!.entry));
    assert.ok(payload.startsWith('{"at":"2024-05-01T12:00:00.000Z","event":{"actor":"alice"'), payload);
  });

  test("EdDSA keys work, and a key set with a rotated key verifies a chain signed by both", async () => {
    const ed = await generateAuditKey("EdDSA");
    assert.equal(ed.publicJwk.alg, "EdDSA");
    assert.equal(ed.publicJwk.use, "sig");
    const edSigner = createSigner(ed.privateKey, ed.kid, "EdDSA");
    const chain = await buildChain(signerA, 2);
    chain.push(
      await appendEntry(
        chain,
        { at: at(3), repo: REPO, issue: ISSUE, id: "rotated", event: { type: "closed", actor: "x" } },
        edSigner,
      ),
    );
    const both = exportPublicJwks([keyA, ed]);
    assert.equal((await verifyChain(jwsOf(chain), both)).ok, true);
    assertBroken(await verifyChain(jwsOf(chain), jwks), 2, /unknown key id/);
  });
});

describe("tampering is caught at the right entry", () => {
  test("an edited payload re-encoded under the old signature", async () => {
    const jws = jwsOf(await buildChain());
    const [h, p, s] = jws[2]!.split(".");
    const edited = JSON.parse(Buffer.from(p!, "base64url").toString("utf8"));
    edited.event.actor = "mallory";
    jws[2] = `${h}.${b64(canonicalJson(edited))}.${s}`;
    assertBroken(await verifyChain(jws, jwks), 2, /^entry 2: bad signature$/);
  });

  test("a dropped entry", async () => {
    const jws = jwsOf(await buildChain());
    jws.splice(2, 1);
    assertBroken(await verifyChain(jws, jwks), 2, /seq is 3, expected 2/);
  });

  test("the last entry dropped is not detectable from the chain alone, so callers compare lengths", async () => {
    const jws = jwsOf(await buildChain());
    const result = await verifyChain(jws.slice(0, 4), jwks);
    assert.equal(result.ok, true);
    assert.equal(result.entries.length, 4);
  });

  test("two entries reordered", async () => {
    const jws = jwsOf(await buildChain());
    [jws[1], jws[2]] = [jws[2]!, jws[1]!];
    assertBroken(
      await verifyChain(jws, jwks),
      1,
      /seq is 2, expected 1 \(an entry is missing, duplicated or out of order\)/,
    );
  });

  test("a duplicated entry", async () => {
    const jws = jwsOf(await buildChain());
    jws.splice(2, 0, jws[1]!);
    assertBroken(await verifyChain(jws, jwks), 2, /seq is 1, expected 2/);
  });

  test("an edited entry re-signed with another key (unknown kid)", async () => {
    const chain = await buildChain();
    const edited = { ...chain[2]!.entry, event: { ...chain[2]!.entry.event, actor: "mallory" } };
    const jws = jwsOf(chain);
    jws[2] = await signText(canonicalJson(edited), keyB);
    assertBroken(await verifyChain(jws, jwks), 2, new RegExp(`unknown key id "${keyB.kid}"`));
  });

  test("an edited entry re-signed with another key under the same kid", async () => {
    const chain = await buildChain();
    const edited = { ...chain[2]!.entry, event: { ...chain[2]!.entry.event, actor: "mallory" } };
    const jws = jwsOf(chain);
    jws[2] = await signText(canonicalJson(edited), keyB, { kid: keyA.kid });
    assertBroken(await verifyChain(jws, jwks), 2, /^entry 2: bad signature$/);
  });

  test("an edited entry re-signed with the real key breaks the next link", async () => {
    const chain = await buildChain();
    const edited = { ...chain[2]!.entry, event: { ...chain[2]!.entry.event, actor: "mallory" } };
    const jws = jwsOf(chain);
    jws[2] = await signText(canonicalJson(edited));
    const result = await verifyChain(jws, jwks);
    assertBroken(result, 3, /prev does not match the hash of entry 2/);
    assert.ok(!result.ok);
    assert.equal(
      result.reason,
      `entry 3: prev does not match the hash of entry 2 (expected ${entryHash(jws[2]!)}, found ${entryHash(chain[2]!.jws)})`,
    );
  });

  test('an unsigned token with alg "none"', async () => {
    const chain = await buildChain();
    const jws = jwsOf(chain);
    for (const alg of ["none", "None", "NONE"]) {
      jws[1] = `${b64({ alg, kid: keyA.kid, typ: AUDIT_TYP })}.${b64(canonicalJson(chain[1]!.entry))}.`;
      assertBroken(
        await verifyChain(jws, jwks),
        1,
        /alg "none" is refused|alg "None" is refused|alg "NONE" is refused/,
      );
    }
  });

  test("HS256 keyed with the public JWK (algorithm confusion)", async () => {
    const chain = await buildChain();
    const jws = jwsOf(chain);
    const publicJwk = keyA.publicJwk;
    for (const secret of [JSON.stringify(publicJwk), publicJwk.x!, canonicalJson(publicJwk)]) {
      jws[1] = await new CompactSign(encode(canonicalJson(chain[1]!.entry)))
        .setProtectedHeader({ alg: "HS256", kid: keyA.kid, typ: AUDIT_TYP })
        .sign(encode(secret));
      assertBroken(await verifyChain(jws, jwks), 1, /alg "HS256" is not allowed \(only ES256, EdDSA\)/);
    }
    // Even a key set that wrongly holds a symmetric key under that kid does not make HS256 acceptable.
    const oct = { kty: "oct", kid: keyA.kid, k: b64(JSON.stringify(publicJwk)) };
    assertBroken(await verifyChain(jws, { keys: [keyA.publicJwk, oct] }), 1, /alg "HS256" is not allowed/);
  });

  test("a signature with the right kid but another algorithm finds no key", async () => {
    const ed = await generateAuditKey("EdDSA");
    const chain = await buildChain();
    const jws = jwsOf(chain);
    jws[0] = await new CompactSign(encode(canonicalJson(chain[0]!.entry)))
      .setProtectedHeader({ alg: "EdDSA", kid: keyA.kid, typ: AUDIT_TYP })
      .sign(ed.privateKey);
    assertBroken(await verifyChain(jws, jwks), 0, /no key in the key set matches this kid and alg/);
  });

  test("a wrong or missing typ", async () => {
    const chain = await buildChain();
    const jws = jwsOf(chain);
    jws[4] = await signText(canonicalJson(chain[4]!.entry), keyA, { typ: "JWT" });
    assertBroken(await verifyChain(jws, jwks), 4, /typ must be "breakglass-audit\+jws", found "JWT"/);
    jws[4] = await new CompactSign(encode(canonicalJson(chain[4]!.entry)))
      .setProtectedHeader({ alg: "ES256", kid: keyA.kid })
      .sign(keyA.privateKey);
    assertBroken(await verifyChain(jws, jwks), 4, /typ must be .*found null/);
  });

  test("a missing kid", async () => {
    const chain = await buildChain(signerA, 1);
    const jws = await new CompactSign(encode(canonicalJson(chain[0]!.entry)))
      .setProtectedHeader({ alg: "ES256", typ: AUDIT_TYP })
      .sign(keyA.privateKey);
    assertBroken(await verifyChain([jws], jwks), 0, /the header has no kid/);
  });

  test("a chain of another repository or issue", async () => {
    const jws = jwsOf(await buildChain());
    assertBroken(
      await verifyChain(jws, jwks, { repo: "acme/other" }),
      0,
      /repo is acme\/ops, expected acme\/other/,
    );
    assertBroken(await verifyChain(jws, jwks, { issue: 43 }), 0, /issue is 42, expected 43/);
    assert.equal(
      (await verifyChain(jws, jwks, { repo: "ACME/Ops", issue: 42 })).ok,
      true,
      "GitHub names are case-insensitive",
    );
  });

  test("an entry moved in from another issue, signed with the real key and linked", async () => {
    const chain = await buildChain();
    const jws = jwsOf(chain);
    jws[2] = await signText(canonicalJson({ ...chain[2]!.entry, issue: 7 }));
    assertBroken(await verifyChain(jws, jwks), 2, /issue is 7, expected 42/);
    jws[2] = await signText(canonicalJson({ ...chain[2]!.entry, repo: "evil/ops" }));
    assertBroken(await verifyChain(jws, jwks), 2, /repo is evil\/ops, expected acme\/ops/);
  });

  test("time going back", async () => {
    const chain = await buildChain();
    const jws = jwsOf(chain);
    jws[3] = await signText(canonicalJson({ ...chain[3]!.entry, at: at(-10) }));
    assertBroken(
      await verifyChain(jws, jwks),
      3,
      /at 2024-05-01T11:50:00.000Z is earlier than entry 2 \(2024-05-01T12:02:00.000Z\): time cannot go back/,
    );
  });

  test("a first entry whose prev is not the genesis value", async () => {
    const chain = await buildChain(signerA, 1);
    const jws = await signText(canonicalJson({ ...chain[0]!.entry, prev: "f".repeat(64) }));
    assertBroken(await verifyChain([jws], jwks), 0, /prev of the first entry must be 0{64} \(found f{64}\)/);
  });

  test("a prefix of another chain cannot be spliced onto this one", async () => {
    const a = jwsOf(await buildChain());
    const other: SignedEntry[] = [];
    for (let i = 0; i < 3; i++)
      other.push(
        await appendEntry(
          other,
          { at: at(i), repo: REPO, issue: ISSUE, id: `x${i}`, event: { type: "t", actor: "a" } },
          signerA,
        ),
      );
    assertBroken(
      await verifyChain([...a.slice(0, 2), other[2]!.jws], jwks),
      2,
      /prev does not match the hash of entry 1/,
    );
  });
});

describe("payloads that are not a canonical, well-formed entry", () => {
  const base = async () => (await buildChain(signerA, 1))[0]!.entry;

  test("JSON with whitespace or reordered keys", async () => {
    const entry = await base();
    assertBroken(
      await verifyChain([await signText(JSON.stringify(entry, null, 1))], jwks),
      0,
      /payload is not in canonical JSON form/,
    );
    const reordered = JSON.stringify(Object.fromEntries(Object.entries(entry).reverse()));
    assertBroken(
      await verifyChain([await signText(reordered)], jwks),
      0,
      /payload is not in canonical JSON form/,
    );
  });

  test("not JSON, not UTF-8, not an object", async () => {
    assertBroken(await verifyChain([await signText("hello")], jwks), 0, /payload is not JSON/);
    const badUtf8 = await new CompactSign(new Uint8Array([0x22, 0xff, 0x22]))
      .setProtectedHeader({ alg: "ES256", kid: keyA.kid, typ: AUDIT_TYP })
      .sign(keyA.privateKey);
    assertBroken(await verifyChain([badUtf8], jwks), 0, /payload is not JSON/);
    assertBroken(await verifyChain([await signText("[1]")], jwks), 0, /payload is not an object/);
  });

  const fieldCases: Array<[string, (e: Record<string, unknown>) => void, RegExp]> = [
    [
      "an extra field",
      (e) => (e.admin = true),
      /exactly the fields at, event, id, issue, prev, repo, seq, v \(found admin, at/,
    ],
    ["a missing field", (e) => delete e.id, /exactly the fields/],
    ["version 2", (e) => (e.v = 2), /unsupported version 2/],
    ["a negative seq", (e) => (e.seq = -1), /seq must be a whole number/],
    ["a fractional seq", (e) => (e.seq = 0.5), /seq must be a whole number/],
    ["an uppercase prev", (e) => (e.prev = "A".repeat(64)), /prev must be 64 lowercase hex/],
    ["a time that is not ISO", (e) => (e.at = "yesterday"), /at must be an ISO 8601 time/],
    ["an impossible date", (e) => (e.at = "2024-13-45T99:00:00Z"), /at must be an ISO 8601 time/],
    ["a repo without owner", (e) => (e.repo = "ops"), /repo must be owner\/name/],
    ["issue zero", (e) => (e.issue = 0), /issue must be a positive whole number/],
    ["an empty id", (e) => (e.id = ""), /id must be 1 to 200 characters/],
    [
      "an event without actor",
      (e) => (e.event = { type: "approved" }),
      /event must be an object with a type and an actor/,
    ],
    ["an event that is a list", (e) => (e.event = ["approved"]), /event must be an object/],
  ];
  for (const [name, mutate, reason] of fieldCases) {
    test(name, async () => {
      const entry = { ...(await base()) } as Record<string, unknown>;
      mutate(entry);
      assertBroken(await verifyChain([await signText(canonicalJson(entry))], jwks), 0, reason);
    });
  }
});

describe("malformed input never throws", () => {
  test("strings that are not a compact JWS", async () => {
    assertBroken(await verifyChain(["not-a-jws"], jwks), 0, /not a compact JWS/);
    assertBroken(await verifyChain(["a.b.c.d.e"], jwks), 0, /not a compact JWS/);
    assertBroken(await verifyChain(["!!!.e30.sig"], jwks), 0, /protected header cannot be read/);
    assertBroken(
      await verifyChain([`${b64({ kid: keyA.kid, typ: AUDIT_TYP })}.e30.sig`], jwks),
      0,
      /alg null is refused/,
    );
  });

  test("a signature that is not base64url", async () => {
    const [first] = await buildChain(signerA, 1);
    const [h, p] = first!.jws.split(".");
    assertBroken(await verifyChain([`${h}.${p}.***`], jwks), 0, /cannot be verified/);
  });

  test("an invalid key set is reported, not thrown", async () => {
    const [first] = await buildChain(signerA, 1);
    const result = await verifyChain([first!.jws], { keys: "nope" } as unknown as JSONWebKeySet);
    assert.equal(result.ok, false);
    assert.ok(!result.ok);
    assert.match(result.reason, /the key set is not a valid JWKS/);
  });
});

describe("appendEntry", () => {
  const fields = (over: Partial<Omit<AuditEntry, "v" | "seq" | "prev">> = {}) => ({
    at: at(0),
    repo: REPO,
    issue: ISSUE,
    id: "comment:1:approve",
    event: { type: "approved", actor: "bob" },
    ...over,
  });

  test("omits undefined event fields so the entry equals what was signed", async () => {
    const signed = await appendEntry(
      [],
      fields({ event: { type: "approved", actor: "bob", note: undefined } }),
      signerA,
    );
    assert.deepEqual(signed.entry.event, { type: "approved", actor: "bob" });
    assert.equal((await verifyChain([signed.jws], jwks)).ok, true);
  });

  test("raises a time earlier than the previous entry's to keep the chain verifiable", async () => {
    const first = await appendEntry([], fields({ at: at(5) }), signerA);
    const second = await appendEntry([first], fields({ at: at(1), id: "later" }), signerA);
    assert.equal(second.entry.at, at(5));
    assert.equal((await verifyChain([first.jws, second.jws], jwks)).ok, true);
  });

  test("refuses misuse with a TypeError", async () => {
    const first = await appendEntry([], fields(), signerA);
    await assert.rejects(appendEntry([first], fields({ id: "x", issue: 43 }), signerA), {
      name: "TypeError",
      message: /belongs to acme\/ops#42, not acme\/ops#43/,
    });
    await assert.rejects(
      appendEntry([first], fields({ id: "x", repo: "acme/other" }), signerA),
      /belongs to acme\/ops#42/,
    );
    await assert.rejects(
      appendEntry([first], fields(), signerA),
      /id "comment:1:approve" is already in the chain/,
    );
    await assert.rejects(appendEntry([], fields({ at: "now" }), signerA), /at must be an ISO 8601 time/);
    await assert.rejects(appendEntry([], fields({ repo: "no-owner" }), signerA), /repo must be owner\/name/);
    await assert.rejects(
      appendEntry([], fields({ event: { type: "", actor: "bob" } }), signerA),
      /event must be an object with a type and an actor/,
    );
    await assert.rejects(
      appendEntry([], fields({ event: { type: "x", actor: "bob", n: Number.NaN } }), signerA),
      /canonicalJson: \$\.event\.n is NaN/,
    );
  });

  test("refuses a signer that signs something else", async () => {
    const liar: AuditSigner = { kid: keyA.kid, sign: () => signText(canonicalJson({ other: true })) };
    await assert.rejects(
      appendEntry([], fields(), liar),
      /signed a different payload|JWS over a different payload/,
    );
  });
});

describe("keys", () => {
  test("generateAuditKey gives a thumbprint kid and a public-only JWK", async () => {
    assert.match(keyA.kid, /^[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(Object.keys(keyA.publicJwk).sort(), ["alg", "crv", "kid", "kty", "use", "x", "y"]);
    assert.notEqual(keyA.kid, keyB.kid);
  });

  test("exportPublicJwks strips private members and refuses symmetric or unnamed keys", async () => {
    const privateJwk = { ...(await exportJWK(keyA.privateKey)), kid: keyA.kid, alg: "ES256" };
    assert.ok("d" in privateJwk);
    const published = exportPublicJwks([privateJwk, keyB]);
    assert.equal(published.keys.length, 2);
    assert.ok(!("d" in published.keys[0]!));
    assert.equal(published.keys[1]!.kid, keyB.kid);
    assert.throws(() => exportPublicJwks([{ kty: "oct", k: "c2VjcmV0", kid: "s" }]), /symmetric/);
    assert.throws(() => exportPublicJwks([{ kty: "EC", crv: "P-256", x: "a", y: "b" }]), /needs a kid/);
  });

  test("entryHash is SHA-256 hex of the JWS text", () => {
    assert.equal(entryHash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});

describe("canonicalJson", () => {
  test("sorts keys at every depth and writes no whitespace", () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [3, { z: null, y: true }], c: "x" } }),
      '{"a":{"c":"x","d":[3,{"y":true,"z":null}]},"b":1}',
    );
  });

  test("sorts by UTF-16 code units and escapes like JSON.stringify", () => {
    assert.equal(canonicalJson({ é: 1, z: 2, "\u{1F600}": 3, A: 4 }), '{"A":4,"z":2,"é":1,"\u{1F600}":3}');
    assert.equal(canonicalJson('line\n"quote"\u2028'), '"line\\n\\"quote\\"\u2028"');
    assert.equal(canonicalJson("\ud800"), '"\\ud800"');
  });

  test("numbers as ECMAScript writes them; -0 is 0", () => {
    assert.equal(canonicalJson([1e21, 0.1, -0, 1.5e-7, 10]), "[1e+21,0.1,0,1.5e-7,10]");
  });

  test("omits undefined properties, keeps shared (non-cyclic) references, accepts null-prototype objects", () => {
    const shared = { k: 1 };
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { b: 2, a: 1 });
    assert.equal(
      canonicalJson({ a: undefined, b: shared, c: shared, d: bare }),
      '{"b":{"k":1},"c":{"k":1},"d":{"a":1,"b":2}}',
    );
  });

  const refused: Array<[string, unknown, RegExp]> = [
    ["NaN", { n: Number.NaN }, /\$\.n is NaN/],
    ["Infinity", [Infinity], /\$\[0\] is Infinity/],
    ["undefined in an array", [1, undefined], /\$\[1\] is undefined/],
    // eslint-disable-next-line no-sparse-arrays
    ["a sparse array", [1, , 2], /\$\[1\] is undefined/],
    ["undefined at the top", undefined, /\$ is undefined/],
    ["a function", { f: () => 1 }, /\$\.f is function/],
    ["a symbol", { s: Symbol("x") }, /is symbol/],
    ["a bigint", { b: 1n }, /is bigint/],
    ["a Date", { d: new Date(0) }, /\$\.d is a Date, pass plain data/],
    ["a Map", new Map(), /is a Map/],
  ];
  for (const [name, value, message] of refused) {
    test(`refuses ${name}`, () => {
      assert.throws(() => canonicalJson(value), { name: "TypeError", message });
    });
  }

  test("refuses cycles", () => {
    const a: Record<string, unknown> = {};
    a.self = { back: a };
    assert.throws(() => canonicalJson(a), {
      name: "TypeError",
      message: /\$\.self\.back refers back to itself/,
    });
    const list: unknown[] = [];
    list.push(list);
    assert.throws(() => canonicalJson(list), /refers back to itself/);
  });
});
