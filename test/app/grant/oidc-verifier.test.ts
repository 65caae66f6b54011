import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";
import { createOidcVerifier, OidcRefusal } from "../../../src/app/grant/oidc-verifier.ts";

const ISSUER = "https://token.actions.example";
const NOW = Date.parse("2026-11-24T09:00:00Z");
const settings = { issuer: ISSUER, audience: "breakglass", clockToleranceSeconds: 30 };

const issuerKey = await generateKeyPair("RS256", { extractable: true });
const otherKey = await generateKeyPair("RS256", { extractable: true });
const publicJwk: JWK = { ...(await exportJWK(issuerKey.publicKey)), kid: "k1", alg: "RS256", use: "sig" };
const verify = createOidcVerifier(settings, () => NOW, createLocalJWKSet({ keys: [publicJwk] }));

const claims = {
  repository: "acme/ops",
  repository_id: "101",
  repository_owner: "acme",
  repository_owner_id: "9",
  job_workflow_ref: "acme/ops/.github/workflows/breakglass-grant.yml@refs/heads/main",
  run_id: "5",
  run_attempt: "1",
  event_name: "workflow_dispatch",
  actor: "breakglass[bot]",
};

async function token(
  options: {
    key?: CryptoKey;
    kid?: string;
    iss?: string;
    aud?: string;
    iat?: number;
    exp?: number;
    nbf?: number;
    drop?: string;
  } = {},
) {
  const body: Record<string, unknown> = { ...claims };
  if (options.drop) delete body[options.drop];
  const jwt = new SignJWT(body)
    .setProtectedHeader({ alg: "RS256", kid: options.kid ?? "k1", typ: "JWT" })
    .setIssuer(options.iss ?? ISSUER)
    .setAudience(options.aud ?? "breakglass")
    .setIssuedAt(options.iat ?? NOW / 1000)
    .setExpirationTime(options.exp ?? NOW / 1000 + 300);
  if (options.nbf !== undefined) jwt.setNotBefore(options.nbf);
  return jwt.sign(options.key ?? issuerKey.privateKey);
}

async function refusal(promise: Promise<unknown>): Promise<OidcRefusal> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof OidcRefusal, `expected an OidcRefusal, got ${String(error)}`);
    return error;
  }
  assert.fail("the token was accepted");
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");

test("a genuine token verifies and returns its claims", async () => {
  const result = await verify(await token());
  assert.equal(result.repository_id, "101");
  assert.equal(result.job_workflow_ref, claims.job_workflow_ref);
});

test("a token signed by another key is refused (token_signature)", async () => {
  const r = await refusal(verify(await token({ key: otherKey.privateKey })));
  assert.equal(r.code, "token_signature");
});

test("a token naming an unknown key id is refused (token_signature)", async () => {
  const r = await refusal(verify(await token({ key: otherKey.privateKey, kid: "nope" })));
  assert.equal(r.code, "token_signature");
});

test("alg none is refused", async () => {
  const unsigned = `${b64({ alg: "none", typ: "JWT" })}.${b64({ ...claims, iss: ISSUER, aud: "breakglass", iat: NOW / 1000, exp: NOW / 1000 + 300 })}.`;
  const r = await refusal(verify(unsigned));
  assert.notEqual(r.code, undefined);
  assert.match(r.message, /OIDC token/);
});

test("HS256 signed with the issuer's public key as the secret is refused", async () => {
  const header = b64({ alg: "HS256", kid: "k1", typ: "JWT" });
  const payload = b64({ ...claims, iss: ISSUER, aud: "breakglass", iat: NOW / 1000, exp: NOW / 1000 + 300 });
  const sig = createHmac("sha256", JSON.stringify(publicJwk))
    .update(`${header}.${payload}`)
    .digest("base64url");
  const r = await refusal(verify(`${header}.${payload}.${sig}`));
  assert.equal(r.code, "token_signature");
});

test("wrong issuer, wrong audience, expired and future nbf are each refused with their code", async () => {
  assert.equal((await refusal(verify(await token({ iss: "https://evil.example" })))).code, "token_issuer");
  assert.equal((await refusal(verify(await token({ aud: "sts.amazonaws.com" })))).code, "token_audience");
  assert.equal(
    (await refusal(verify(await token({ iat: NOW / 1000 - 900, exp: NOW / 1000 - 60 })))).code,
    "token_expired",
  );
  assert.equal((await refusal(verify(await token({ nbf: NOW / 1000 + 600 })))).code, "token_not_yet_valid");
});

test("small clock skew is tolerated; a token older than 15 minutes is not", async () => {
  await verify(await token({ nbf: NOW / 1000 + 20 }));
  const old = await refusal(verify(await token({ iat: NOW / 1000 - 20 * 60, exp: NOW / 1000 + 60 })));
  assert.equal(old.code, "token_expired");
});

test("a token without the pinned claims is refused (token_claims)", async () => {
  for (const claim of ["repository_id", "repository_owner_id", "job_workflow_ref", "run_id", "event_name"]) {
    const r = await refusal(verify(await token({ drop: claim })));
    assert.equal(r.code, "token_claims", claim);
    assert.match(r.message, new RegExp(claim));
  }
});

test("garbage is refused as malformed without echoing it", async () => {
  for (const junk of ["", "abc", "a.b", "a.b.c.d", "x".repeat(20_000)]) {
    const r = await refusal(verify(junk));
    assert.equal(r.code, "token_malformed");
    assert.ok(!r.message.includes(junk) || junk === "");
  }
});
