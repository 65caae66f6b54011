import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fc from "fast-check";
import { canonicalJson, requestHash } from "../../src/core/request-hash.ts";
import type { AccessRequest } from "../../src/core/types.ts";

const REQUEST: AccessRequest = {
  resource: "prod-database",
  role: "read",
  duration_seconds: 3600,
  severity: "high",
  justification: "Café replica lag is 20 minutes.\nNeed to inspect.",
  incident: "https://status.example.com/incidents/42",
  drill: false,
};

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

describe("requestHash", () => {
  test("is the SHA-256 of the documented canonical JSON", () => {
    const canonical =
      '{"drill":false,"duration_seconds":3600,"incident":"https://status.example.com/incidents/42",' +
      '"justification":"Café replica lag is 20 minutes.\\nNeed to inspect.","resource":"prod-database","role":"read",' +
      '"severity":"high","type":"breakglass.request","v":1}';
    assert.equal(requestHash(REQUEST), sha256(canonical));
    assert.match(requestHash(REQUEST), /^[0-9a-f]{64}$/);
  });

  test("does not depend on the order the request's keys were written in", () => {
    const reversed = Object.fromEntries(Object.entries(REQUEST).reverse()) as unknown as AccessRequest;
    assert.equal(requestHash(reversed), requestHash(REQUEST));
  });

  test("a re-save of the same content hashes the same: line endings, Unicode composition, surrounding space", () => {
    const same: AccessRequest[] = [
      { ...REQUEST, justification: REQUEST.justification.replace("\n", "\r\n") },
      { ...REQUEST, justification: REQUEST.justification.replace("\n", "\r") },
      { ...REQUEST, justification: REQUEST.justification.normalize("NFD") },
      { ...REQUEST, justification: `\r\n  ${REQUEST.justification}  \r\n` },
      { ...REQUEST, role: " read ", resource: "prod-database\n", incident: ` ${REQUEST.incident} ` },
    ];
    assert.notEqual(REQUEST.justification.normalize("NFD"), REQUEST.justification);
    for (const request of same)
      assert.equal(requestHash(request), requestHash(REQUEST), JSON.stringify(request));
  });

  test("any change to any field changes the hash", () => {
    const changed: AccessRequest[] = [
      { ...REQUEST, resource: "aws-production" },
      { ...REQUEST, role: "admin" },
      { ...REQUEST, role: "Read" },
      { ...REQUEST, duration_seconds: 3601 },
      { ...REQUEST, severity: "critical" },
      { ...REQUEST, justification: REQUEST.justification.replace("20", "21") },
      { ...REQUEST, justification: `${REQUEST.justification}.` },
      { ...REQUEST, justification: REQUEST.justification.replace("\n", "\n\n") },
      { ...REQUEST, justification: REQUEST.justification.replace("\n", " ") },
      { ...REQUEST, incident: null },
      { ...REQUEST, incident: "https://status.example.com/incidents/43" },
      { ...REQUEST, drill: true },
    ];
    const hashes = new Set([requestHash(REQUEST), ...changed.map(requestHash)]);
    assert.equal(hashes.size, changed.length + 1);
  });

  test("fields cannot be shifted into each other", () => {
    const a = { ...REQUEST, resource: "prod", role: "database-read" };
    const b = { ...REQUEST, resource: "prod-database", role: "read" };
    assert.notEqual(requestHash(a), requestHash(b));
    assert.notEqual(
      requestHash({ ...REQUEST, incident: null }),
      requestHash({ ...REQUEST, incident: "null" }),
    );
  });

  test("property: equal after normalization ⇔ equal hash", () => {
    const text = fc.string({ unit: fc.constantFrom("a", "é", "e\u0301", " ", "\n", "\r\n", "\r", "x") });
    fc.assert(
      fc.property(text, text, (x, y) => {
        const norm = (s: string) => s.replace(/\r\n?/g, "\n").normalize("NFC").trim();
        const same =
          requestHash({ ...REQUEST, justification: x }) === requestHash({ ...REQUEST, justification: y });
        assert.equal(same, norm(x) === norm(y));
      }),
      { numRuns: 500 },
    );
  });
});

describe("canonicalJson (re-exported for reuse)", () => {
  test("sorts keys at every depth and writes no whitespace", () => {
    assert.equal(
      canonicalJson({ b: [1, { d: true, c: null }], a: "x y" }),
      '{"a":"x y","b":[1,{"c":null,"d":true}]}',
    );
  });

  test("refuses numbers JSON cannot represent", () => {
    for (const n of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      assert.throws(() => canonicalJson({ n }), TypeError);
    }
  });
});
