import { createLocalJWKSet, jwtVerify, SignJWT, type CryptoKey, type JSONWebKeySet } from "jose";
import type { KeyObject } from "node:crypto";
import { createHash } from "node:crypto";
import type { CredentialProvider, CredentialRef, MintRequest, MintResult, RevocationCheck } from "./provider.ts";

/** Where revoked token ids are kept until the tokens would have expired anyway. */
export interface RevocationStore {
  revoke(jti: string, expiresAt: number): Promise<void>;
  isRevoked(jti: string): Promise<boolean>;
}

export function memoryRevocationStore(now: () => number = Date.now): RevocationStore {
  const revoked = new Map<string, number>();
  return {
    async revoke(jti, expiresAt) {
      revoked.set(jti, expiresAt);
    },
    async isRevoked(jti) {
      for (const [id, exp] of revoked) if (exp + 3600_000 < now()) revoked.delete(id);
      return revoked.has(jti);
    },
  };
}

export interface JwtProviderDeps {
  /** The app's public URL: the tokens' `iss`, and where relying services find /breakglass/jwks.json. */
  issuer: string;
  signingKey: CryptoKey | KeyObject;
  kid: string;
  revocations: RevocationStore;
  now?: () => number;
}

export const JWT_TYP = "breakglass+jwt";

/** jti from the grant id: stable (revocation can find it) and opaque. */
export const jtiFor = (grantId: string): string => `bg-${createHash("sha256").update(grantId).digest("hex").slice(0, 24)}`;

/**
 * The built-in provider: a short-lived JWT signed by the app (ES256, `typ: breakglass+jwt`) that any
 * internal service can verify against the app's JWKS, and whose revocation the app's introspection
 * route reports. sub = requester, aud = resource (or settings.audience), scope = role scopes.
 */
export function createJwtProvider(deps: JwtProviderDeps): CredentialProvider {
  return {
    name: "jwt",
    async mint(request: MintRequest): Promise<MintResult> {
      const jti = jtiFor(request.grantId);
      const audience = typeof request.settings.audience === "string" ? request.settings.audience : request.resource;
      const scopes = Array.isArray(request.settings.scopes) ? (request.settings.scopes as string[]) : [request.role];
      const iat = Math.floor(request.now / 1000);
      const exp = Math.floor(request.expiresAt / 1000);
      const token = await new SignJWT({ scope: scopes.join(" "), bg_issue: request.issue, bg_repo: request.repository, bg_role: request.role, bg_resource: request.resource })
        .setProtectedHeader({ alg: "ES256", kid: deps.kid, typ: JWT_TYP })
        .setIssuer(deps.issuer)
        .setSubject(request.requester)
        .setAudience(audience)
        .setJti(jti)
        .setIssuedAt(iat)
        .setNotBefore(iat)
        .setExpirationTime(exp)
        .sign(deps.signingKey);
      return {
        credentialId: jti,
        expiresAt: exp * 1000,
        secrets: { BREAKGLASS_TOKEN: token },
        outputs: { token_id: jti, expires_at: new Date(exp * 1000).toISOString() },
        revocationHandle: token,
      };
    },
    async revoke(ref: CredentialRef): Promise<void> {
      await deps.revocations.revoke(ref.credentialId, (deps.now ?? Date.now)() + 7 * 24 * 3600_000);
    },
    async verifyRevoked(ref: CredentialRef): Promise<RevocationCheck> {
      const listed = await deps.revocations.isRevoked(ref.credentialId);
      if (!listed) return { revoked: false, evidence: `${ref.credentialId} is not on the revocation list` };
      return { revoked: true, evidence: `${ref.credentialId} is on the revocation list; introspection answers inactive` };
    },
  };
}

export interface IntrospectionOptions {
  jwks: JSONWebKeySet;
  issuer: string;
  revocations: RevocationStore | null;
  now: number;
}

/**
 * What a relying service asks (RFC 7662-like): is this break-glass token valid right now? Checks
 * signature, issuer, typ, expiry, and the revocation list.
 */
export async function introspect(token: string, options: IntrospectionOptions): Promise<{ active: boolean; reason?: string; sub?: string; scope?: string; exp?: number; jti?: string }> {
  try {
    const { payload } = await jwtVerify(token, createLocalJWKSet(options.jwks), {
      issuer: options.issuer,
      typ: JWT_TYP,
      algorithms: ["ES256"],
      currentDate: new Date(options.now),
    });
    if (typeof payload.jti !== "string") return { active: false, reason: "no jti" };
    if (options.revocations && (await options.revocations.isRevoked(payload.jti))) return { active: false, reason: "revoked", jti: payload.jti };
    return { active: true, sub: payload.sub as string, scope: payload.scope as string, exp: payload.exp as number, jti: payload.jti };
  } catch (error) {
    return { active: false, reason: (error as { code?: string }).code ?? "invalid" };
  }
}
