import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, importPKCS8, type CryptoKey, type JWK, type JSONWebKeySet } from "jose";
import { createPublicKey, type KeyObject } from "node:crypto";

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
    throw new Error(`BREAKGLASS_SIGNING_KEY is not a PKCS#8 P-256 private key (${(error as Error).message}). Create one with \`openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256\`.`);
  }
  const pub = createPublicKey(pem.replace(/\\n/g, "\n"));
  const jwk = await exportJWK(pub);
  const kid = await calculateJwkThumbprint(jwk);
  const publicJwk: JWK = { ...jwk, kid, alg: "ES256", use: "sig" };
  return { privateKey, kid, publicJwk, jwks: { keys: [publicJwk, ...retiredPublicJwks] } };
}

/** A fresh key, for the sandbox and tests. */
export async function generateSigningKeyPem(): Promise<string> {
  const { privateKey } = await generateKeyPair("ES256", { extractable: true });
  return exportPKCS8(privateKey);
}
