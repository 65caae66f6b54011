import {
  calculateJwkThumbprint,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  importPKCS8,
  type CryptoKey,
  type JWK,
  type JSONWebKeySet,
} from "jose";
import { createPublicKey, type KeyObject } from "node:crypto";

const PEM_BLOCK = /-----BEGIN ([A-Z ]+)-----[\s\S]*?-----END \1-----/g;

export interface SigningKeys {
  privateKey: CryptoKey | KeyObject;
  kid: string;
  publicJwk: JWK;
  jwks: JSONWebKeySet;
}

/**
 * The app's own ES256 key: it signs audit records and the tokens of the built-in JWT provider.
 * Its JWKS is published at /breakglass/jwks.json; `kid` is the RFC 7638 thumbprint.
 */
export async function signingKeysFromPem(pem: string, retiredPublicJwks: JWK[] = []): Promise<SigningKeys> {
  let privateKey: CryptoKey;
  try {
    privateKey = await importPKCS8(pem.replace(/\\n/g, "\n"), "ES256", { extractable: true });
  } catch (error) {
    throw new Error(
      `BREAKGLASS_SIGNING_KEY is not a PKCS#8 P-256 private key (${(error as Error).message}). Create one with \`openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256\`.`,
    );
  }
  const pub = createPublicKey(pem.replace(/\\n/g, "\n"));
  const jwk = await exportJWK(pub);
  const kid = await calculateJwkThumbprint(jwk);
  const publicJwk: JWK = { ...jwk, kid, alg: "ES256", use: "sig" };
  // The active key listed once, first: a retired list that still names it changes nothing.
  return {
    privateKey,
    kid,
    publicJwk,
    jwks: { keys: [publicJwk, ...retiredPublicJwks.filter((k) => k.kid !== kid)] },
  };
}

/** A fresh key, for the sandbox and tests. */
export async function generateSigningKeyPem(): Promise<string> {
  const { privateKey } = await generateKeyPair("ES256", { extractable: true });
  return exportPKCS8(privateKey);
}

/**
 * The public halves of signing keys rotated out (BREAKGLASS_RETIRED_SIGNING_KEYS): one or more PEM
 * blocks, public keys (`openssl pkey -pubout`) or the old private keys themselves, of which only the
 * public half is kept. They are published in the JWKS so records and tokens signed before the
 * rotation still verify; nothing is signed with them.
 */
export async function retiredPublicJwksFromPem(
  text: string,
  variable = "BREAKGLASS_RETIRED_SIGNING_KEYS",
): Promise<JWK[]> {
  const blocks = text.replace(/\\n/g, "\n").match(PEM_BLOCK) ?? [];
  if (blocks.length === 0 && text.trim())
    throw new Error(
      `${variable} holds no PEM block: give the retired keys' public halves (\`openssl pkey -in old.pem -pubout\`), one block after another.`,
    );
  const jwks: JWK[] = [];
  for (const [i, block] of blocks.entries()) {
    let jwk: JWK;
    try {
      jwk = await exportJWK(createPublicKey(block));
    } catch (error) {
      throw new Error(`${variable}: PEM block ${i + 1} is not a key (${(error as Error).message}).`);
    }
    if (jwk.kty !== "EC" || jwk.crv !== "P-256")
      throw new Error(`${variable}: PEM block ${i + 1} is not a P-256 key (the app signs with ES256).`);
    const kid = await calculateJwkThumbprint(jwk);
    if (!jwks.some((k) => k.kid === kid))
      jwks.push({ kty: jwk.kty, crv: jwk.crv, x: jwk.x!, y: jwk.y!, kid, alg: "ES256", use: "sig" });
  }
  return jwks;
}
