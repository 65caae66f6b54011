import {
  createRemoteJWKSet,
  jwtVerify,
  errors as joseErrors,
  type JWTPayload,
  type JWTVerifyGetKey,
} from "jose";
import type { OidcSettings } from "../infra/deps.ts";

/** The GitHub Actions OIDC claims Breakglass relies on. */
export interface ActionsClaims extends JWTPayload {
  repository: string;
  repository_id: string;
  repository_owner: string;
  repository_owner_id: string;
  job_workflow_ref: string;
  workflow_ref?: string;
  run_id: string;
  run_attempt: string;
  actor: string;
  event_name: string;
  ref?: string;
  environment?: string;
}

export type OidcRefusalCode =
  | "token_malformed"
  | "token_signature"
  | "token_issuer"
  | "token_audience"
  | "token_expired"
  | "token_not_yet_valid"
  | "token_claims"
  | "token_replayed";

export class OidcRefusal extends Error {
  constructor(
    readonly code: OidcRefusalCode,
    message: string,
  ) {
    super(message);
  }
}

const REQUIRED = [
  "repository",
  "repository_id",
  "repository_owner_id",
  "job_workflow_ref",
  "run_id",
  "run_attempt",
  "event_name",
] as const;

/**
 * Verifies a workflow's OIDC token against the issuer's published keys: signature (RS256 only — no
 * `none`, no HMAC), issuer, audience, exp/nbf/iat within a small skew, and the presence of the
 * claims the exchange pins. Keys come from the issuer's discovery document and JWKS, cached by jose
 * and refetched when a token names an unknown `kid`.
 */
export function createOidcVerifier(settings: OidcSettings, now: () => number, keys?: JWTVerifyGetKey) {
  let jwks: JWTVerifyGetKey | null = keys ?? null;
  async function keySet(): Promise<JWTVerifyGetKey> {
    if (jwks) return jwks;
    const res = await fetch(
      new URL(
        ".well-known/openid-configuration",
        settings.issuer.endsWith("/") ? settings.issuer : `${settings.issuer}/`,
      ),
    );
    if (!res.ok) throw new Error(`OIDC discovery at ${settings.issuer} answered ${res.status}`);
    const doc = (await res.json()) as { issuer?: string; jwks_uri?: string };
    if (doc.issuer !== settings.issuer || !doc.jwks_uri)
      throw new Error(`OIDC discovery at ${settings.issuer} names another issuer or no jwks_uri`);
    jwks = createRemoteJWKSet(new URL(doc.jwks_uri), { cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 });
    return jwks;
  }

  return async function verify(token: string): Promise<ActionsClaims> {
    if (typeof token !== "string" || token.length > 16_384 || token.split(".").length !== 3) {
      throw new OidcRefusal("token_malformed", "The OIDC token is not a compact JWT.");
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await keySet(), {
        issuer: settings.issuer,
        audience: settings.audience,
        algorithms: ["RS256"],
        clockTolerance: settings.clockToleranceSeconds,
        currentDate: new Date(now()),
        requiredClaims: ["iat", "exp"],
        maxTokenAge: "15m",
      }));
    } catch (error) {
      throw translate(error);
    }
    for (const claim of REQUIRED) {
      if (typeof payload[claim] !== "string" || payload[claim] === "") {
        throw new OidcRefusal("token_claims", `The OIDC token has no "${claim}" claim.`);
      }
    }
    return payload as ActionsClaims;
  };
}

function translate(error: unknown): OidcRefusal {
  if (error instanceof joseErrors.JWTExpired)
    return new OidcRefusal("token_expired", "The OIDC token has expired.");
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === "iss")
      return new OidcRefusal("token_issuer", "The OIDC token was issued by someone else.");
    if (error.claim === "aud")
      return new OidcRefusal("token_audience", "The OIDC token is for another audience.");
    if (error.claim === "nbf" || error.claim === "iat")
      return new OidcRefusal("token_not_yet_valid", "The OIDC token is not valid yet.");
    return new OidcRefusal("token_claims", `The OIDC token's "${error.claim}" claim is not acceptable.`);
  }
  if (
    error instanceof joseErrors.JWSSignatureVerificationFailed ||
    error instanceof joseErrors.JWKSNoMatchingKey ||
    error instanceof joseErrors.JOSEAlgNotAllowed ||
    error instanceof joseErrors.JWKSMultipleMatchingKeys
  ) {
    return new OidcRefusal(
      "token_signature",
      "The OIDC token's signature does not verify against the issuer's keys.",
    );
  }
  if (error instanceof joseErrors.JOSEError)
    return new OidcRefusal("token_malformed", `The OIDC token is not acceptable (${error.code}).`);
  return new OidcRefusal("token_malformed", "The OIDC token could not be verified.");
}
