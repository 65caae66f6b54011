import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeJwt, decodeProtectedHeader, generateKeyPair, exportJWK, type JWK } from "jose";
import { createJwtProvider, introspect, jtiFor, memoryRevocationStore } from "../../src/providers/jwt.ts";
import type { MintRequest } from "../../src/providers/provider.ts";

const NOW = Date.parse("2026-11-24T09:00:00Z");
const keys = await generateKeyPair("ES256", { extractable: true });
const publicJwk: JWK = { ...(await exportJWK(keys.publicKey)), kid: "k1", alg: "ES256", use: "sig" };
const jwks = { keys: [publicJwk] };
const ISSUER = "https://breakglass.example.com";

const request = (over: Partial<MintRequest> = {}): MintRequest => ({
  grantId: "acme/ops#7/abcd",
  repository: "acme/ops",
  issue: 7,
  requester: "dave",
  resource: "model-guardrail-override",
  role: "override",
  settings: { audience: "https://models.example.com", scopes: ["guardrail:disable"] },
  expiresAt: NOW + 30 * 60_000,
  oidcToken: "unused",
  runId: "1",
  now: NOW,
  ...over,
});

test("mints a JWT naming requester, audience, scope and grant, expiring with the grant", async () => {
  const revocations = memoryRevocationStore(() => NOW);
  const provider = createJwtProvider({ issuer: ISSUER, signingKey: keys.privateKey, kid: "k1", revocations, now: () => NOW });
  const minted = await provider.mint(request());
  const token = minted.secrets.BREAKGLASS_TOKEN!;
  const claims = decodeJwt(token);
  assert.equal(decodeProtectedHeader(token).typ, "breakglass+jwt");
  assert.equal(claims.sub, "dave");
  assert.equal(claims.aud, "https://models.example.com");
  assert.equal(claims.scope, "guardrail:disable");
  assert.equal(claims.iss, ISSUER);
  assert.equal(claims.exp, (NOW + 30 * 60_000) / 1000);
  assert.equal(claims.jti, jtiFor("acme/ops#7/abcd"));
  assert.equal(minted.credentialId, claims.jti);
  assert.ok(!JSON.stringify(minted.outputs).includes(token), "the token is not an output");
  assert.equal(minted.expiresAt, NOW + 30 * 60_000);
});

test("introspection: active before revocation, inactive after; verifyRevoked follows the list", async () => {
  const revocations = memoryRevocationStore(() => NOW);
  const provider = createJwtProvider({ issuer: ISSUER, signingKey: keys.privateKey, kid: "k1", revocations, now: () => NOW });
  const minted = await provider.mint(request());
  const token = minted.secrets.BREAKGLASS_TOKEN!;
  const ref = { grantId: "acme/ops#7/abcd", credentialId: minted.credentialId, resource: "r", role: "override", settings: {} };
  assert.equal((await introspect(token, { jwks, issuer: ISSUER, revocations, now: NOW })).active, true);
  assert.equal((await provider.verifyRevoked(ref)).revoked, false);
  await provider.revoke(ref);
  assert.deepEqual(await introspect(token, { jwks, issuer: ISSUER, revocations, now: NOW }), { active: false, reason: "revoked", jti: minted.credentialId });
  assert.equal((await provider.verifyRevoked(ref)).revoked, true);
});

test("introspection refuses expired tokens, other issuers, other keys and garbage", async () => {
  const revocations = memoryRevocationStore(() => NOW);
  const provider = createJwtProvider({ issuer: ISSUER, signingKey: keys.privateKey, kid: "k1", revocations, now: () => NOW });
  const token = (await provider.mint(request())).secrets.BREAKGLASS_TOKEN!;
  assert.equal((await introspect(token, { jwks, issuer: ISSUER, revocations, now: NOW + 31 * 60_000 })).active, false);
  assert.equal((await introspect(token, { jwks, issuer: "https://evil.example", revocations, now: NOW })).active, false);
  const other = await generateKeyPair("ES256", { extractable: true });
  const forged = await createJwtProvider({ issuer: ISSUER, signingKey: other.privateKey, kid: "k1", revocations }).mint(request());
  assert.equal((await introspect(forged.secrets.BREAKGLASS_TOKEN!, { jwks, issuer: ISSUER, revocations, now: NOW })).active, false);
  assert.equal((await introspect("not-a-token", { jwks, issuer: ISSUER, revocations, now: NOW })).active, false);
});
