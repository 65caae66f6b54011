import {
  createLocalJWKSet,
  decodeJwt,
  jwtVerify,
  SignJWT,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
} from "jose";
import { createHash, createPublicKey, KeyObject } from "node:crypto";
import { jwtAudience, jwtScopes } from "../core/provider-settings/jwt.ts";
import { grantAlreadyEnded } from "./provider-errors.ts";
import type {
  CredentialProvider,
  CredentialRef,
  MintRequest,
  MintResult,
  RevocationCheck,
  UseCollection,
} from "./provider.ts";

/** Where revoked token ids are kept until the tokens would have expired anyway. */
export interface RevocationStore {
  revoke(jti: string, expiresAt: number): Promise<void>;
  isRevoked(jti: string): Promise<boolean>;
}

/** Entries stay this long after the token's own expiry, so clock skew at a relying service cannot revive one. */
const KEEP_AFTER_EXPIRY_MS = 3600_000;
/** When the token's expiry is unknown (no handle kept), it is listed this long: longer than any grant may last. */
const UNKNOWN_EXPIRY_LISTING_MS = 8 * 24 * 3600_000;

export function memoryRevocationStore(now: () => number = Date.now): RevocationStore {
  const revoked = new Map<string, number>();
  return {
    async revoke(jti, expiresAt) {
      revoked.set(jti, Math.max(expiresAt, revoked.get(jti) ?? 0));
    },
    async isRevoked(jti) {
      for (const [id, exp] of revoked) if (exp + KEEP_AFTER_EXPIRY_MS < now()) revoked.delete(id);
      return revoked.has(jti);
    },
  };
}

export interface JwtProviderDeps {
  /** The app's public URL: the tokens' `iss`, and where relying services find /breakglass/jwks.json. */
  issuer: string;
  signingKey: CryptoKey | KeyObject;
  kid: string;
  /**
   * Every key whose tokens this provider still vouches for: the current one and those rotated out
   * (the app's JWKS). A token minted before a rotation is still shown revoked. Default: the current key.
   */
  verificationJwks?: JSONWebKeySet;
  alg?: "ES256";
  revocations: RevocationStore;
  now?: () => number;
}

export const JWT_TYP = "breakglass+jwt";
export const JWT_ALG = "ES256";

/** jti from the grant id: stable (revocation can find it) and opaque. */
export const jtiFor = (grantId: string): string =>
  `bg-${createHash("sha256").update(grantId).digest("hex").slice(0, 24)}`;

/**
 * The built-in provider: a short-lived JWT signed by the app (ES256, `typ: breakglass+jwt`) that any
 * internal service can verify against the app's JWKS, and whose revocation the app's introspection
 * route reports. sub = requester, aud = resource (or settings.audience), scope = role scopes.
 */
export function createJwtProvider(deps: JwtProviderDeps): CredentialProvider {
  const now = deps.now ?? Date.now;
  const alg = deps.alg ?? JWT_ALG;
  // verifyRevoked checks a token the way a relying service would: against the public half of our key.
  const ownJwks: JSONWebKeySet = deps.verificationJwks ?? {
    keys: [{ ...publicJwkOf(deps.signingKey), kid: deps.kid, alg, use: "sig" }],
  };
  return {
    name: "jwt",
    async mint(request: MintRequest): Promise<MintResult> {
      const jti = jtiFor(request.grantId);
      const audience = jwtAudience(request.settings, request.resource);
      const scopes = jwtScopes(request.settings);
      const iat = Math.floor(request.now / 1000);
      // Rounded down: the token must never outlive the grant, even by a fraction of a second.
      const exp = Math.floor(request.expiresAt / 1000);
      if (exp <= iat) throw grantAlreadyEnded(request.grantId, request.expiresAt);
      const token = await new SignJWT({
        scope: scopes.length > 0 ? scopes.join(" ") : request.role,
        bg_issue: request.issue,
        bg_repo: request.repository,
        bg_role: request.role,
        bg_resource: request.resource,
      })
        .setProtectedHeader({ alg, kid: deps.kid, typ: JWT_TYP })
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
      await deps.revocations.revoke(
        ref.credentialId,
        tokenExpiry(ref.revocationHandle) ?? now() + UNKNOWN_EXPIRY_LISTING_MS,
      );
    },
    async collectUses(): Promise<UseCollection> {
      // The uses are the introspections relying services make (recorded by the app's route as they happen).
      return {
        uses: [],
        source: "POST /breakglass/introspect calls by relying services (service, time, scopes, answer)",
        notes: [
          "A service that verifies the token against the JWKS alone, without introspection, is not seen.",
        ],
      };
    },

    async verifyRevoked(ref: CredentialRef): Promise<RevocationCheck> {
      const listed = await deps.revocations.isRevoked(ref.credentialId);
      if (!listed) {
        // The list forgets a token an hour after its own expiry; by then the token itself is dead.
        const handle = ref.revocationHandle;
        const expiry = tokenExpiry(handle);
        if (
          handle &&
          expiry !== undefined &&
          expiry + KEEP_AFTER_EXPIRY_MS < now() &&
          tokenJti(handle) === ref.credentialId
        ) {
          const answer = await introspect(handle, {
            jwks: ownJwks,
            issuer: deps.issuer,
            revocations: null,
            now: now(),
          });
          if (answer.reason === "ERR_JWT_EXPIRED") {
            return {
              revoked: true,
              evidence: `${ref.credentialId} expired at ${new Date(expiry).toISOString()}; introspection answers inactive (ERR_JWT_EXPIRED)`,
            };
          }
        }
        return { revoked: false, evidence: `${ref.credentialId} is not on the revocation list` };
      }
      if (!ref.revocationHandle)
        return {
          revoked: true,
          evidence: `${ref.credentialId} is on the revocation list (no token kept to introspect)`,
        };
      const jti = tokenJti(ref.revocationHandle);
      if (jti !== ref.credentialId)
        return {
          revoked: false,
          evidence: `the kept token is not ${ref.credentialId}, so its revocation cannot be shown`,
        };
      const answer = await introspect(ref.revocationHandle, {
        jwks: ownJwks,
        issuer: deps.issuer,
        revocations: deps.revocations,
        now: now(),
      });
      if (answer.active)
        return {
          revoked: false,
          evidence: `${ref.credentialId} is listed, yet introspection still answers active`,
        };
      return {
        revoked: true,
        evidence: `${ref.credentialId} is on the revocation list; introspection of the token answers inactive (${answer.reason ?? "inactive"})`,
      };
    },
  };
}

export interface IntrospectionOptions {
  jwks: JSONWebKeySet;
  issuer: string;
  revocations: RevocationStore | null;
  now: number;
}

export interface IntrospectionAnswer {
  active: boolean;
  reason?: string;
  sub?: string;
  scope?: string;
  exp?: number;
  jti?: string;
}

/**
 * What a relying service asks (RFC 7662-like): is this break-glass token valid right now? Checks
 * signature, issuer, typ, expiry, and the revocation list.
 */
export async function introspect(token: string, options: IntrospectionOptions): Promise<IntrospectionAnswer> {
  try {
    const { payload } = await jwtVerify(token, createLocalJWKSet(options.jwks), {
      issuer: options.issuer,
      typ: JWT_TYP,
      algorithms: [JWT_ALG],
      currentDate: new Date(options.now),
    });
    if (typeof payload.jti !== "string") return { active: false, reason: "no jti" };
    if (options.revocations && (await options.revocations.isRevoked(payload.jti)))
      return { active: false, reason: "revoked", jti: payload.jti };
    return {
      active: true,
      sub: payload.sub as string,
      scope: payload.scope as string,
      exp: payload.exp as number,
      jti: payload.jti,
    };
  } catch (error) {
    return { active: false, reason: (error as { code?: string }).code ?? "invalid" };
  }
}

function publicJwkOf(key: CryptoKey | KeyObject): JWK {
  const keyObject =
    key instanceof KeyObject ? key : KeyObject.from(key as Parameters<typeof KeyObject.from>[0]);
  const pub = keyObject.type === "private" ? createPublicKey(keyObject) : keyObject;
  return pub.export({ format: "jwk" }) as JWK;
}

function tokenExpiry(token: string | undefined): number | undefined {
  if (!token) return undefined;
  try {
    const exp = decodeJwt(token).exp;
    return typeof exp === "number" ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

function tokenJti(token: string): string | undefined {
  try {
    const jti = decodeJwt(token).jti;
    return typeof jti === "string" ? jti : undefined;
  } catch {
    return undefined;
  }
}
