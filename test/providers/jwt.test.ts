import { test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { decodeJwt, decodeProtectedHeader, generateKeyPair, exportJWK, SignJWT, type JWK } from "jose";
import { createJwtProvider, introspect, jtiFor, memoryRevocationStore } from "../../src/providers/jwt.ts";
import type { CredentialRef, MintRequest } from "../../src/providers/provider.ts";

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

const refFor = (credentialId: string, revocationHandle?: string): CredentialRef => ({
  grantId: "acme/ops#7/abcd",
  credentialId,
  resource: "model-guardrail-override",
  role: "override",
  settings: {},
  ...(revocationHandle ? { revocationHandle } : {}),
});

function setup(clock = { now: NOW }) {
  const revocations = memoryRevocationStore(() => clock.now);
  const provider = createJwtProvider({
    issuer: ISSUER,
    signingKey: keys.privateKey,
    kid: "k1",
    revocations,
    now: () => clock.now,
  });
  return { revocations, provider, clock };
}

test("mints a JWT naming requester, audience, scope and grant, expiring with the grant", async () => {
  const { provider } = setup();
  const minted = await provider.mint(request());
  const token = minted.secrets.BREAKGLASS_TOKEN!;
  const claims = decodeJwt(token);
  const header = decodeProtectedHeader(token);
  assert.equal(header.typ, "breakglass+jwt");
  assert.equal(header.alg, "ES256");
  assert.equal(header.kid, "k1");
  assert.equal(claims.sub, "dave");
  assert.equal(claims.aud, "https://models.example.com");
  assert.equal(claims.scope, "guardrail:disable");
  assert.equal(claims.iss, ISSUER);
  assert.equal(claims.iat, NOW / 1000);
  assert.equal(claims.nbf, NOW / 1000);
  assert.equal(claims.exp, (NOW + 30 * 60_000) / 1000);
  assert.equal(claims.jti, jtiFor("acme/ops#7/abcd"));
  assert.equal(claims.bg_issue, 7);
  assert.equal(claims.bg_repo, "acme/ops");
  assert.equal(claims.bg_role, "override");
  assert.equal(minted.credentialId, claims.jti);
  assert.deepEqual(Object.keys(minted.secrets), ["BREAKGLASS_TOKEN"]);
  assert.deepEqual(minted.outputs, { token_id: claims.jti, expires_at: "2026-11-24T09:30:00.000Z" });
  assert.equal(minted.revocationHandle, token);
  assert.equal(minted.expiresAt, NOW + 30 * 60_000);
});

test("audience defaults to the resource and scope to the role", async () => {
  const { provider } = setup();
  const claims = decodeJwt((await provider.mint(request({ settings: {} }))).secrets.BREAKGLASS_TOKEN!);
  assert.equal(claims.aud, "model-guardrail-override");
  assert.equal(claims.scope, "override");
  const many = decodeJwt(
    (await provider.mint(request({ settings: { scopes: ["a:b", "c:d"] } }))).secrets.BREAKGLASS_TOKEN!,
  );
  assert.equal(many.scope, "a:b c:d");
});

test("the token never outlives the grant, even by a fraction of a second", async () => {
  const { provider } = setup();
  const minted = await provider.mint(request({ expiresAt: NOW + 60_999 }));
  assert.equal(decodeJwt(minted.secrets.BREAKGLASS_TOKEN!).exp, (NOW + 60_000) / 1000);
  assert.ok(minted.expiresAt <= NOW + 60_999);
});

test("a grant that has already ended is refused", async () => {
  const { provider } = setup();
  await assert.rejects(provider.mint(request({ expiresAt: NOW })), /has already ended.*request access again/);
  await assert.rejects(provider.mint(request({ expiresAt: NOW - 1 })), /has already ended/);
});

test("jti differs per grant and is stable for one grant", () => {
  assert.equal(jtiFor("acme/ops#7/a"), jtiFor("acme/ops#7/a"));
  assert.notEqual(jtiFor("acme/ops#7/a"), jtiFor("acme/ops#7/b"));
  assert.match(jtiFor("x"), /^bg-[0-9a-f]{24}$/);
});

test("introspection: active before revocation, inactive after; verifyRevoked follows the list", async () => {
  const { provider, revocations } = setup();
  const minted = await provider.mint(request());
  const token = minted.secrets.BREAKGLASS_TOKEN!;
  const ref = refFor(minted.credentialId);
  const active = await introspect(token, { jwks, issuer: ISSUER, revocations, now: NOW });
  assert.deepEqual(active, {
    active: true,
    sub: "dave",
    scope: "guardrail:disable",
    exp: (NOW + 30 * 60_000) / 1000,
    jti: minted.credentialId,
  });
  assert.equal((await provider.verifyRevoked(ref)).revoked, false);
  await provider.revoke(ref);
  assert.deepEqual(await introspect(token, { jwks, issuer: ISSUER, revocations, now: NOW }), {
    active: false,
    reason: "revoked",
    jti: minted.credentialId,
  });
  assert.equal((await provider.verifyRevoked(ref)).revoked, true);
});

test("verifyRevoked introspects the kept token like a relying service would", async () => {
  const { provider } = setup();
  const minted = await provider.mint(request());
  const ref = refFor(minted.credentialId, minted.revocationHandle);
  const before = await provider.verifyRevoked(ref);
  assert.equal(before.revoked, false);
  assert.match(before.evidence, /not on the revocation list/);
  await provider.revoke(ref);
  const after = await provider.verifyRevoked(ref);
  assert.equal(after.revoked, true);
  assert.match(after.evidence, /introspection of the token answers inactive \(revoked\)/);
  assert.ok(!after.evidence.includes(minted.revocationHandle!), "the evidence never carries the token");
});

test("verifyRevoked does not accept a kept token that belongs to another grant", async () => {
  const { provider } = setup();
  const mine = await provider.mint(request());
  const other = await provider.mint(request({ grantId: "acme/ops#8/zzzz" }));
  await provider.revoke(refFor(mine.credentialId));
  const check = await provider.verifyRevoked(refFor(mine.credentialId, other.revocationHandle));
  assert.equal(check.revoked, false);
  assert.match(check.evidence, /not bg-/);
  assert.equal((await provider.verifyRevoked(refFor(mine.credentialId, "garbage"))).revoked, false);
});

test("a listing lasts until the token's own expiry plus an hour, then drops off harmlessly", async () => {
  const clock = { now: NOW };
  const { provider, revocations } = setup(clock);
  const minted = await provider.mint(request({ expiresAt: NOW + 10 * 60_000 }));
  const ref = refFor(minted.credentialId, minted.revocationHandle);
  await provider.revoke(ref);
  clock.now = NOW + 10 * 60_000 + 59 * 60_000;
  assert.equal(await revocations.isRevoked(minted.credentialId), true);
  clock.now = NOW + 10 * 60_000 + 61 * 60_000;
  assert.equal(await revocations.isRevoked(minted.credentialId), false);
  const late = await introspect(minted.secrets.BREAKGLASS_TOKEN!, {
    jwks,
    issuer: ISSUER,
    revocations,
    now: clock.now,
  });
  assert.deepEqual(late, { active: false, reason: "ERR_JWT_EXPIRED" }, "by then the token is expired anyway");
});

test("without a kept token the listing lasts longer than any grant can", async () => {
  const clock = { now: NOW };
  const { provider, revocations } = setup(clock);
  await provider.revoke(refFor("bg-aaaa"));
  clock.now = NOW + 7 * 24 * 3600_000 + 3600_000;
  assert.equal(await revocations.isRevoked("bg-aaaa"), true);
});

test("introspection refuses expired and not-yet-valid tokens, other issuers, other keys and garbage", async () => {
  const { provider, revocations } = setup();
  const token = (await provider.mint(request())).secrets.BREAKGLASS_TOKEN!;
  const check = (t: string, over: Partial<{ issuer: string; now: number }> = {}) =>
    introspect(t, { jwks, issuer: ISSUER, revocations, now: NOW, ...over });
  assert.deepEqual(await check(token, { now: NOW + 31 * 60_000 }), {
    active: false,
    reason: "ERR_JWT_EXPIRED",
  });
  assert.equal((await check(token, { now: NOW - 60_000 })).active, false);
  assert.deepEqual(await check(token, { issuer: "https://evil.example" }), {
    active: false,
    reason: "ERR_JWT_CLAIM_VALIDATION_FAILED",
  });
  const other = await generateKeyPair("ES256", { extractable: true });
  const forged = await createJwtProvider({
    issuer: ISSUER,
    signingKey: other.privateKey,
    kid: "k1",
    revocations,
  }).mint(request());
  assert.deepEqual(await check(forged.secrets.BREAKGLASS_TOKEN!), {
    active: false,
    reason: "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
  });
  assert.equal((await check("not-a-token")).active, false);
});

test("introspection refuses tokens of another type or algorithm signed with the same key", async () => {
  const { revocations } = setup();
  const claims = { jti: "bg-x", scope: "everything" };
  const otherTyp = await new SignJWT(claims)
    .setProtectedHeader({ alg: "ES256", kid: "k1", typ: "JWT" })
    .setIssuer(ISSUER)
    .setSubject("dave")
    .setIssuedAt(NOW / 1000)
    .setExpirationTime(NOW / 1000 + 600)
    .sign(keys.privateKey);
  assert.equal(
    (await introspect(otherTyp, { jwks, issuer: ISSUER, revocations, now: NOW })).active,
    false,
    "an app JWT of another kind is not a break-glass token",
  );
  const header = Buffer.from(JSON.stringify({ alg: "none", typ: "breakglass+jwt" })).toString("base64url");
  const body = Buffer.from(JSON.stringify({ ...claims, iss: ISSUER, exp: NOW / 1000 + 600 })).toString(
    "base64url",
  );
  assert.equal(
    (await introspect(`${header}.${body}.`, { jwks, issuer: ISSUER, revocations, now: NOW })).active,
    false,
    "alg none",
  );
});

test("a node KeyObject signing key works and verifyRevoked derives the public key from it", async () => {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const revocations = memoryRevocationStore(() => NOW);
  const provider = createJwtProvider({
    issuer: ISSUER,
    signingKey: privateKey,
    kid: "node",
    revocations,
    now: () => NOW,
  });
  const minted = await provider.mint(request());
  const nodeJwks = { keys: [{ ...(publicKey.export({ format: "jwk" }) as JWK), kid: "node", alg: "ES256" }] };
  assert.equal(
    (
      await introspect(minted.secrets.BREAKGLASS_TOKEN!, {
        jwks: nodeJwks,
        issuer: ISSUER,
        revocations,
        now: NOW,
      })
    ).active,
    true,
  );
  const ref = refFor(minted.credentialId, minted.revocationHandle);
  await provider.revoke(ref);
  assert.equal((await provider.verifyRevoked(ref)).revoked, true);
});

test("a non-extractable WebCrypto key works too", async () => {
  const locked = await generateKeyPair("ES256", { extractable: false });
  const revocations = memoryRevocationStore(() => NOW);
  const provider = createJwtProvider({
    issuer: ISSUER,
    signingKey: locked.privateKey,
    kid: "locked",
    revocations,
    now: () => NOW,
  });
  const minted = await provider.mint(request());
  const ref = refFor(minted.credentialId, minted.revocationHandle);
  await provider.revoke(ref);
  const check = await provider.verifyRevoked(ref);
  assert.equal(check.revoked, true, check.evidence);
  assert.match(check.evidence, /\(revoked\)/, "the signature verified, so the refusal is the revocation");
});

test("once the list has forgotten it, a long-expired token still counts as revoked, but only its own token", async () => {
  const clock = { now: NOW };
  const { provider } = setup(clock);
  const minted = await provider.mint(request({ expiresAt: NOW + 10 * 60_000 }));
  const ref = refFor(minted.credentialId, minted.revocationHandle);
  await provider.revoke(ref);
  clock.now = NOW + 10 * 60_000 + 30 * 60_000;
  assert.match(
    (await provider.verifyRevoked(ref)).evidence,
    /on the revocation list/,
    "still listed half an hour after expiry",
  );
  clock.now = NOW + 10 * 60_000 + 61 * 60_000;
  const late = await provider.verifyRevoked(ref);
  assert.deepEqual(late, {
    revoked: true,
    evidence: `${minted.credentialId} expired at 2026-11-24T09:10:00.000Z; introspection answers inactive (ERR_JWT_EXPIRED)`,
  });
  const other = await provider.mint(request({ grantId: "acme/ops#9/x", now: NOW, expiresAt: NOW + 60_000 }));
  assert.equal(
    (await provider.verifyRevoked(refFor(minted.credentialId, other.revocationHandle))).revoked,
    false,
    "another grant's expired token proves nothing",
  );
  const stranger = await generateKeyPair("ES256", { extractable: true });
  const forged = await createJwtProvider({
    issuer: ISSUER,
    signingKey: stranger.privateKey,
    kid: "k1",
    revocations: memoryRevocationStore(() => NOW),
  }).mint(request({ expiresAt: NOW + 60_000 }));
  assert.equal(
    (await provider.verifyRevoked(refFor(forged.credentialId, forged.revocationHandle))).revoked,
    false,
    "a token we did not sign proves nothing",
  );
});
