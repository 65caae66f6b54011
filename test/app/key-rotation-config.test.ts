import { test } from "node:test";
import assert from "node:assert/strict";
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from "node:crypto";
import { decodeProtectedHeader } from "jose";
import { ConfigError } from "../../src/app/infra/config-error.ts";
import { serverConfigFromEnv } from "../../src/app/infra/config-from-env.ts";
import { generateSigningKeyPem, signingKeysFromPem } from "../../src/app/infra/signing-keys.ts";
import { appendEntry, createSigner, verifyChain } from "../../src/core/audit-chain.ts";
import { createJwtProvider, memoryRevocationStore } from "../../src/providers/jwt.ts";
import { openSealedWithAny, seal } from "../../src/providers/sealed-box.ts";

const appKey = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  privateKeyEncoding: { type: "pkcs8", format: "pem" },
  publicKeyEncoding: { type: "spki", format: "pem" },
}).privateKey;
const base = async () => ({
  APP_ID: "12",
  PRIVATE_KEY: appKey,
  WEBHOOK_SECRET: "s",
  BREAKGLASS_SIGNING_KEY: await generateSigningKeyPem(),
  BREAKGLASS_SEAL_KEY: randomBytes(32).toString("base64"),
  BREAKGLASS_PUBLIC_URL: "https://breakglass.example.com",
  BREAKGLASS_APP_SLUG: "breakglass",
});
const publicPem = (privatePem: string) =>
  createPublicKey(createPrivateKey(privatePem)).export({ type: "spki", format: "pem" }).toString();

test("BREAKGLASS_RETIRED_SIGNING_KEYS: public halves (or the old private keys) are published after the active key, public members only, and sign nothing", async () => {
  const [old1, old2] = [await generateSigningKeyPem(), await generateSigningKeyPem()];
  const env = await base();
  // One public PEM and one old private key, with \n escapes as a .env line would have them.
  const config = await serverConfigFromEnv({
    ...env,
    BREAKGLASS_RETIRED_SIGNING_KEYS: `${publicPem(old1)}\n${old2.replace(/\n/g, "\\n")}\n${publicPem(env.BREAKGLASS_SIGNING_KEY)}`,
  });
  const kids = config.deps.jwks.keys.map((k) => k.kid);
  const [k1, k2, active] = await Promise.all(
    [old1, old2, env.BREAKGLASS_SIGNING_KEY].map(async (pem) => (await signingKeysFromPem(pem)).kid),
  );
  assert.deepEqual(
    kids,
    [active, k1, k2],
    "active first, each retired key once, the active one not repeated",
  );
  assert.equal(config.deps.signer.kid, active);
  for (const k of config.deps.jwks.keys) {
    assert.equal(k.d, undefined, "no private member is published");
    assert.deepEqual([k.alg, k.use, k.kty, k.crv], ["ES256", "sig", "EC", "P-256"]);
  }
  // Records signed by the old key and then by the new one verify as one chain against that JWKS.
  const oldSigner = createSigner((await signingKeysFromPem(old1)).privateKey, k1!);
  const first = await appendEntry(
    [],
    {
      at: "2026-11-24T09:00:00.000Z",
      repo: "acme/ops",
      issue: 1,
      id: "a",
      event: { type: "cancelled", actor: "x" },
    },
    oldSigner,
  );
  const second = await appendEntry(
    [first],
    {
      at: "2026-11-24T09:01:00.000Z",
      repo: "acme/ops",
      issue: 1,
      id: "b",
      event: { type: "closed", actor: "x" },
    },
    config.deps.signer,
  );
  assert.deepEqual(
    [decodeProtectedHeader(first.jws).kid, decodeProtectedHeader(second.jws).kid],
    [k1, active],
  );
  assert.equal(
    (await verifyChain([first.jws, second.jws], config.deps.jwks, { repo: "acme/ops", issue: 1 })).ok,
    true,
  );
  const withoutRetired = await serverConfigFromEnv(env);
  const broken = await verifyChain([first.jws, second.jws], withoutRetired.deps.jwks, {
    repo: "acme/ops",
    issue: 1,
  });
  assert.equal(broken.ok, false);
  assert.match(broken.ok ? "" : broken.reason, /unknown key id/);
});

test("the JWT provider after a rotation still shows a token minted under the retired key revoked", async () => {
  const [oldPem, newPem] = [await generateSigningKeyPem(), await generateSigningKeyPem()];
  const oldKeys = await signingKeysFromPem(oldPem);
  const newKeys = await signingKeysFromPem(newPem, [oldKeys.publicJwk]);
  const revocations = memoryRevocationStore(() => 1_800_000_000_000);
  const before = createJwtProvider({
    issuer: "https://bg.example",
    signingKey: oldKeys.privateKey,
    kid: oldKeys.kid,
    revocations,
    now: () => 1_800_000_000_000,
  });
  const minted = await before.mint({
    grantId: "g1",
    requester: "erin",
    resource: "r",
    role: "read",
    repository: "acme/ops",
    issue: 1,
    settings: {},
    now: 1_800_000_000_000,
    expiresAt: 1_800_000_900_000,
  } as Parameters<typeof before.mint>[0]);
  const ref = {
    grantId: "g1",
    credentialId: minted.credentialId,
    resource: "r",
    role: "read",
    settings: {},
    revocationHandle: minted.revocationHandle!,
  };
  const after = createJwtProvider({
    issuer: "https://bg.example",
    signingKey: newKeys.privateKey,
    kid: newKeys.kid,
    verificationJwks: newKeys.jwks,
    revocations,
    now: () => 1_800_000_000_000,
  });
  await after.revoke(ref);
  const check = await after.verifyRevoked(ref);
  assert.equal(check.revoked, true, check.evidence);
  assert.match(
    check.evidence,
    /introspection of the token answers inactive \(revoked\)/,
    "its signature verified against the retired key, and the list said revoked",
  );
});

test("BREAKGLASS_RETIRED_SEAL_KEYS: keys separated by commas or spaces open old handles; the active key seals and is tried first", async () => {
  const env = await base();
  const [old1, old2] = [randomBytes(32), randomBytes(32)];
  const config = await serverConfigFromEnv({
    ...env,
    BREAKGLASS_RETIRED_SEAL_KEYS: `${old1.toString("base64")}, ${old2.toString("base64")} ${env.BREAKGLASS_SEAL_KEY}`,
  });
  const keys = [config.deps.sealKey, ...(config.deps.retiredSealKeys ?? [])];
  assert.equal(keys.length, 3, "the active key given again as retired is not listed twice");
  assert.deepEqual(openSealedWithAny(seal("h-old", old2), keys), { plaintext: "h-old", keyIndex: 2 });
  assert.deepEqual(openSealedWithAny(seal("h-new", config.deps.sealKey), keys), {
    plaintext: "h-new",
    keyIndex: 0,
  });
  assert.throws(
    () => openSealedWithAny(seal("x", randomBytes(32)), keys),
    /does not open with the current seal key or any of the 2 retired/,
  );
  assert.equal((await serverConfigFromEnv(env)).deps.retiredSealKeys, undefined);
});

test("a malformed retired key refuses to start, naming its variable", async () => {
  const env = await base();
  const ec384 = generateKeyPairSync("ec", {
    namedCurve: "P-384",
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  }).publicKey;
  const cases: Array<[Record<string, string>, string, RegExp]> = [
    [
      { BREAKGLASS_RETIRED_SIGNING_KEYS: "not a key" },
      "BREAKGLASS_RETIRED_SIGNING_KEYS",
      /holds no PEM block/,
    ],
    [{ BREAKGLASS_RETIRED_SIGNING_KEYS: ec384 }, "BREAKGLASS_RETIRED_SIGNING_KEYS", /not a P-256 key/],
    [
      { BREAKGLASS_RETIRED_SIGNING_KEYS: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----" },
      "BREAKGLASS_RETIRED_SIGNING_KEYS",
      /PEM block 1 is not a key/,
    ],
    [
      { BREAKGLASS_RETIRED_SEAL_KEYS: `${randomBytes(32).toString("base64")},c2hvcnQ=` },
      "BREAKGLASS_RETIRED_SEAL_KEYS",
      /\(key 2\) must be 32 bytes/,
    ],
  ];
  for (const [extra, variable, message] of cases) {
    await assert.rejects(serverConfigFromEnv({ ...env, ...extra }), (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.equal(error.variable, variable);
      assert.match(error.message, message);
      assert.doesNotMatch(error.message, /BEGIN|[A-Za-z0-9+/]{40}/, "the message never repeats a key");
      return true;
    });
  }
});
