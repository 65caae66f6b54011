import { createHmac, randomBytes } from "node:crypto";
import { compactVerify, decodeProtectedHeader, importSPKI, type CryptoKey } from "jose";
import type { Clock } from "../clock.ts";
import { HttpError } from "./http-error.ts";
import type { AccessLevel, AppRecord, UserRecord } from "./state.ts";

export type TokenKind = "app" | "installation" | "user" | "none" | "invalid";

export interface TokenRecord {
  token: string;
  kind: "installation" | "user";
  /** Whom it acts as: the app's bot for installation tokens, the person for user tokens. */
  actor: UserRecord;
  app: AppRecord | null;
  /** Repositories it reaches ("all" for user tokens: their role decides). */
  repoIds: number[] | "all";
  permissions: Record<string, AccessLevel>;
  created_at: number;
  /** By the credential clock; null = never. */
  expires_at: number | null;
  revoked: boolean;
}

export type Caller =
  | { kind: "app"; app: AppRecord }
  | { kind: "installation"; token: TokenRecord; actor: UserRecord; app: AppRecord }
  /** A person's own token; `token.app` is set for a GitHub App's user-to-server token acting for them. */
  | { kind: "user"; token: TokenRecord; actor: UserRecord };

export type Authentication = { ok: true; caller: Caller } | { ok: false; kind: TokenKind; error: HttpError };

export const INSTALLATION_TOKEN_TTL_MS = 60 * 60 * 1000;
/** GitHub refuses app JWTs that live longer than this. */
export const MAX_APP_JWT_SECONDS = 600;
const CLOCK_DRIFT_SECONDS = 60;

const badCredentials = () => new HttpError(401, "Bad credentials");
export const jwtUndecodable = () => new HttpError(401, "A JSON web token could not be decoded");

function randomToken(prefix: string): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return prefix + [...randomBytes(36)].map((b) => alphabet[b % alphabet.length]).join("");
}

/** Installation tokens: `ghs_` + 36 characters, or the stateless `ghs_<APPID>_<JWT>` GitHub is rolling out (about 520 characters, two dots). */
export type InstallationTokenFormat = "classic" | "stateless";

/** Known token prefixes: whatever carries one is a token, never an app JWT, however many dots it has. */
const TOKEN_PREFIX = /^(gh[pousr]_|github_pat_)/;

/**
 * Issues and checks credentials the way GitHub does: the app's RS256 JWT (≤ 10 minutes, iss = app id),
 * `ghs_` installation tokens (1 hour, revocable, scoped), `ghp_` user tokens.
 */
export class TokenStore {
  readonly tokens = new Map<string, TokenRecord>();
  #appKey: Promise<CryptoKey>;
  #statelessKey = randomBytes(32);

  constructor(
    private readonly app: AppRecord,
    appPublicKeyPem: string,
    /** Judges lifetimes; see EmulatorOptions.credentialClock for why it is not the scenario clock. */
    private readonly clock: Clock,
    private readonly installationTokenFormat: InstallationTokenFormat = "stateless",
  ) {
    this.#appKey = importSPKI(appPublicKeyPem, "RS256");
    this.#appKey.catch(() => undefined);
  }

  issueInstallationToken(input: {
    actor: UserRecord;
    app: AppRecord;
    repoIds: number[];
    permissions: Record<string, AccessLevel>;
  }): TokenRecord {
    const now = this.clock.now();
    const expires = now + INSTALLATION_TOKEN_TTL_MS;
    const token =
      this.installationTokenFormat === "stateless"
        ? this.#statelessToken(input.app.id, input.repoIds, input.permissions, now, expires)
        : randomToken("ghs_");
    const record: TokenRecord = {
      token,
      kind: "installation",
      ...input,
      created_at: now,
      expires_at: expires,
      revoked: false,
    };
    this.tokens.set(record.token, record);
    return record;
  }

  /** `ghs_<APPID>_<header>.<claims>.<signature>`: a signed token of GitHub's stateless format and size. */
  #statelessToken(
    appId: number,
    repoIds: number[],
    permissions: Record<string, AccessLevel>,
    now: number,
    expires: number,
  ): string {
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const header = part({ alg: "HS256", typ: "JWT", kid: "sandbox" });
    const claims = part({
      iss: String(appId),
      iat: Math.floor(now / 1000),
      exp: Math.floor(expires / 1000),
      rid: repoIds,
      per: permissions,
      jti: randomBytes(40).toString("base64url"),
    });
    const signature = createHmac("sha256", this.#statelessKey)
      .update(`${header}.${claims}`)
      .digest("base64url");
    return `ghs_${appId}_${header}.${claims}.${signature}`;
  }

  /** One stable token per person, like a personal access token that never expires. */
  userToken(actor: UserRecord): TokenRecord {
    for (const record of this.tokens.values())
      if (record.kind === "user" && record.app === null && record.actor.id === actor.id && !record.revoked)
        return record;
    const record: TokenRecord = {
      token: randomToken("ghp_"),
      kind: "user",
      actor,
      app: null,
      repoIds: "all",
      permissions: {},
      created_at: this.clock.now(),
      expires_at: null,
      revoked: false,
    };
    this.tokens.set(record.token, record);
    return record;
  }

  /** A GitHub App's user-to-server token (`ghu_`, 8 hours): acts as the person, through the app. */
  userToServerToken(actor: UserRecord, app: AppRecord): TokenRecord {
    const now = this.clock.now();
    const record: TokenRecord = {
      token: randomToken("ghu_"),
      kind: "user",
      actor,
      app,
      repoIds: "all",
      permissions: {},
      created_at: now,
      expires_at: now + 8 * 3600_000,
      revoked: false,
    };
    this.tokens.set(record.token, record);
    return record;
  }

  revoke(token: string): boolean {
    const record = this.tokens.get(token);
    if (!record || record.revoked) return false;
    record.revoked = true;
    return true;
  }

  async authenticate(header: string | undefined): Promise<Authentication> {
    if (!header) return { ok: false, kind: "none", error: new HttpError(401, "Requires authentication") };
    const m = /^(?:token|bearer)\s+(\S+)\s*$/i.exec(header);
    if (!m) return { ok: false, kind: "invalid", error: badCredentials() };
    const credential = m[1]!;
    if (!TOKEN_PREFIX.test(credential) && credential.split(".").length === 3)
      return this.#verifyAppJwt(credential);
    const record = this.tokens.get(credential);
    if (!record) return { ok: false, kind: "invalid", error: badCredentials() };
    if (record.revoked || (record.expires_at !== null && this.clock.now() >= record.expires_at)) {
      return { ok: false, kind: record.kind, error: badCredentials() };
    }
    if (record.kind === "installation")
      return {
        ok: true,
        caller: { kind: "installation", token: record, actor: record.actor, app: record.app! },
      };
    return { ok: true, caller: { kind: "user", token: record, actor: record.actor } };
  }

  async #verifyAppJwt(jwt: string): Promise<Authentication> {
    const fail = (error: HttpError): Authentication => ({ ok: false, kind: "app", error });
    let payload: Record<string, unknown>;
    try {
      if (decodeProtectedHeader(jwt).alg !== "RS256") return fail(jwtUndecodable());
      const verified = await compactVerify(jwt, await this.#appKey, { algorithms: ["RS256"] });
      payload = JSON.parse(new TextDecoder().decode(verified.payload)) as Record<string, unknown>;
    } catch {
      return fail(jwtUndecodable());
    }
    const now = Math.floor(this.clock.now() / 1000);
    const { iat, exp, iss } = payload;
    // GitHub's own messages: @octokit/auth-app recognises them and corrects for clock skew.
    if (typeof iat !== "number" || !Number.isInteger(iat) || iat > now + CLOCK_DRIFT_SECONDS) {
      return fail(
        new HttpError(
          401,
          "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
        ),
      );
    }
    if (typeof exp !== "number" || exp <= now) {
      return fail(
        new HttpError(
          401,
          "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
        ),
      );
    }
    if (exp - iat > MAX_APP_JWT_SECONDS)
      return fail(new HttpError(401, "'Expiration time' claim ('exp') is too far in the future"));
    if (String(iss) !== String(this.app.id))
      return fail(new HttpError(401, "'Issuer' claim ('iss') must be an Integer"));
    return { ok: true, caller: { kind: "app", app: this.app } };
  }
}
