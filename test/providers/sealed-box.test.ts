import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { openSealed, seal } from "../../src/providers/sealed-box.ts";

const key = randomBytes(32);

test("seal/open round-trips and never shows the plaintext", () => {
  const sealed = seal("ghs_supersecret", key);
  assert.ok(!sealed.includes("ghs_supersecret"));
  assert.ok(!sealed.includes(Buffer.from("ghs_supersecret").toString("base64url")));
  assert.notEqual(seal("ghs_supersecret", key), sealed, "a fresh IV each time");
  assert.equal(openSealed(sealed, key), "ghs_supersecret");
  assert.equal(openSealed(seal("", key), key), "", "the empty string round-trips");
  assert.equal(openSealed(seal("ünï €", key), key), "ünï €");
});

test("a wrong key, any tampering or a malformed value is refused", () => {
  const sealed = seal("secret", key);
  assert.throws(() => openSealed(sealed, randomBytes(32)), /does not open/);
  const parts = sealed.split(".");
  const flipped = Buffer.from(parts[3]!, "base64url");
  flipped[0] = flipped[0]! ^ 1;
  assert.throws(
    () => openSealed([parts[0], parts[1], parts[2], flipped.toString("base64url")].join("."), key),
    /does not open/,
  );
  const otherIv = randomBytes(12).toString("base64url");
  assert.throws(() => openSealed([parts[0], otherIv, parts[2], parts[3]].join("."), key), /does not open/);
  assert.throws(() => openSealed("v0.a.b.c", key), /not a sealed value/);
  assert.throws(() => openSealed("garbage", key), /not a sealed value/);
  assert.throws(() => openSealed(`${sealed}.extra`, key), /not a sealed value/);
  assert.throws(() => seal("x", randomBytes(16)), /32 bytes/);
  assert.throws(() => openSealed(sealed, randomBytes(16)), /32 bytes/);
});

test("a truncated authentication tag is refused, not accepted as a weaker tag", () => {
  const [v, iv, tag, data] = seal("secret", key).split(".");
  const shortTag = Buffer.from(tag!, "base64url").subarray(0, 4).toString("base64url");
  assert.throws(() => openSealed([v, iv, shortTag, data].join("."), key), /not a sealed value/);
});

test("a sealed value opens only in the context it was sealed for", () => {
  const sealed = seal("ghs_token", key, "acme/ops#7/g1");
  assert.equal(openSealed(sealed, key, "acme/ops#7/g1"), "ghs_token");
  assert.throws(() => openSealed(sealed, key, "acme/ops#8/g1"), /wrong record/);
  assert.throws(() => openSealed(sealed, key), /does not open/);
  assert.throws(() => openSealed(seal("ghs_token", key), key, "acme/ops#7/g1"), /does not open/);
});

test("error messages never contain the plaintext", () => {
  const sealed = seal("pg-password-xyz", key, "ctx");
  try {
    openSealed(sealed, randomBytes(32), "ctx");
    assert.fail("should not open");
  } catch (error) {
    assert.ok(!String((error as Error).message).includes("pg-password-xyz"));
  }
});
