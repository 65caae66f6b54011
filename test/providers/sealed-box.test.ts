import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { openSealed, seal } from "../../src/providers/sealed-box.ts";

const key = randomBytes(32);

test("seal/open round-trips and never shows the plaintext", () => {
  const sealed = seal("ghs_supersecret", key);
  assert.ok(!sealed.includes("ghs_supersecret"));
  assert.notEqual(seal("ghs_supersecret", key), sealed, "a fresh IV each time");
  assert.equal(openSealed(sealed, key), "ghs_supersecret");
});

test("a wrong key, any tampering or a malformed value is refused", () => {
  const sealed = seal("secret", key);
  assert.throws(() => openSealed(sealed, randomBytes(32)));
  const parts = sealed.split(".");
  const flipped = Buffer.from(parts[3]!, "base64url");
  flipped[0] = flipped[0]! ^ 1;
  assert.throws(() => openSealed([parts[0], parts[1], parts[2], flipped.toString("base64url")].join("."), key));
  assert.throws(() => openSealed("v0.a.b.c", key), /not a sealed value/);
  assert.throws(() => openSealed("garbage", key), /not a sealed value/);
  assert.throws(() => seal("x", randomBytes(16)), /32 bytes/);
});
