import { createHash } from "node:crypto";
import { githubTokenScope } from "../core/provider-settings/github.ts";
import { grantAlreadyEnded, messageOf, redact } from "./provider-errors.ts";
import type {
  CredentialProvider,
  CredentialRef,
  MintRequest,
  MintResult,
  RevocationCheck,
  UseCollection,
} from "./provider.ts";

/** What the provider needs from GitHub; `githubTokenDepsFromOctokit` implements it over HTTP. */
export interface GitHubTokenDeps {
  /** POST /app/installations/{id}/access_tokens, narrowed to these repositories and permissions. */
  createInstallationToken(input: {
    repositories: string[];
    permissions: Record<string, string>;
  }): Promise<{ token: string; expiresAt: number }>;
  /** DELETE /installation/token, authenticated with the token itself (nothing else can revoke it). */
  revokeInstallationToken(token: string): Promise<void>;
  /** HTTP status of a harmless authenticated call made with the token. */
  probe(token: string): Promise<number>;
}

/** A non-secret name for a token, for records and logs: enough to match, useless to use. */
export const tokenFingerprint = (token: string): string =>
  `ghs-fp-${createHash("sha256").update(token).digest("hex").slice(0, 12)}`;

/**
 * A GitHub App installation token narrowed to the policy's repositories and permissions. GitHub fixes
 * its life at one hour and cannot shorten it, so a shorter grant still gets the one-hour token: the
 * credential's end is the grant's end, when the app's scheduler revokes the token with
 * DELETE /installation/token. Only a holder of the token can revoke it, so the token itself is the
 * revocation handle (the app keeps it sealed).
 */
export function createGitHubTokenProvider(deps: GitHubTokenDeps): CredentialProvider {
  return {
    name: "github",
    async mint(request: MintRequest): Promise<MintResult> {
      if (request.expiresAt <= request.now) throw grantAlreadyEnded(request.grantId, request.expiresAt);
      const { repositories, permissions } = githubTokenScope(request.settings);
      let created;
      try {
        created = await deps.createInstallationToken({ repositories, permissions });
      } catch (error) {
        throw new Error(
          `Could not create a GitHub installation token for ${repositories.join(", ")} with ${describe(permissions)}: ${messageOf(error)}. The app's installation must cover these repositories and already hold these permissions.`,
        );
      }
      const fingerprint = tokenFingerprint(created.token);
      const expiresAt = Math.min(created.expiresAt, request.expiresAt);
      return {
        credentialId: fingerprint,
        expiresAt,
        secrets: { BREAKGLASS_GITHUB_TOKEN: created.token },
        outputs: {
          token_id: fingerprint,
          expires_at: new Date(expiresAt).toISOString(),
          // GitHub's own expiry; later than expires_at when the grant is shorter than an hour (revocation ends it).
          github_token_expires_at: new Date(created.expiresAt).toISOString(),
          repositories: repositories.join(","),
          permissions: Object.entries(permissions)
            .map(([name, level]) => `${name}:${level}`)
            .join(","),
        },
        revocationHandle: created.token,
      };
    },

    async revoke(ref: CredentialRef): Promise<void> {
      const token = heldToken(ref);
      try {
        await deps.revokeInstallationToken(token);
      } catch (error) {
        throw new Error(
          `Could not revoke GitHub installation token ${ref.credentialId}: ${redact(messageOf(error), [token])}`,
        );
      }
    },

    async collectUses(ref: CredentialRef): Promise<UseCollection> {
      // GitHub offers no API listing what one installation token did. Token data (hashed_token,
      // programmatic_access_type) is in the organisation and enterprise audit logs on GitHub Enterprise
      // Cloud only, and only to organisation owners: the app has neither. So the review says where to look.
      const hashed = ref.revocationHandle
        ? createHash("sha256").update(ref.revocationHandle).digest("base64")
        : null;
      return {
        uses: [],
        source: "GitHub (no API lists an installation token's actions)",
        notes: [
          hashed
            ? `GitHub does not let the app read what this token did. On GitHub Enterprise Cloud an organisation owner can search the organisation audit log for hashed_token:"${hashed}" (the SHA-256 of the token, as GitHub's audit log records it); on other plans GitHub keeps no per-token record that can be searched.`
            : "GitHub does not let the app read what this token did, and the token was not kept, so not even its audit-log hash can be given.",
        ],
      };
    },

    async verifyRevoked(ref: CredentialRef): Promise<RevocationCheck> {
      if (!ref.revocationHandle)
        return {
          revoked: false,
          evidence: `no token was kept for ${ref.credentialId}, so no call with it can be tried`,
        };
      if (tokenFingerprint(ref.revocationHandle) !== ref.credentialId)
        return { revoked: false, evidence: `the kept token is not ${ref.credentialId}` };
      let status: number;
      try {
        status = await deps.probe(ref.revocationHandle);
      } catch (error) {
        return {
          revoked: false,
          evidence: `a call with ${ref.credentialId} could not be made: ${redact(messageOf(error), [ref.revocationHandle])}`,
        };
      }
      if (status === 401)
        return {
          revoked: true,
          evidence: `GET /installation/repositories with ${ref.credentialId} answered 401 Bad credentials`,
        };
      return {
        revoked: false,
        evidence: `GET /installation/repositories with ${ref.credentialId} answered ${status}, not 401`,
      };
    },
  };
}

/** The structural part of an Octokit authenticated as the GitHub App (JWT), e.g. Probot's `app.auth()`. */
export interface AppOctokitLike {
  request(route: string, parameters?: Record<string, unknown>): Promise<{ data: unknown }>;
}

/**
 * GitHubTokenDeps over real HTTP: the app's Octokit creates the token; revocation and the probe use
 * the token itself, with plain fetch, because the app's Octokit would authenticate as the app instead.
 */
export function githubTokenDepsFromOctokit(
  appOctokit: AppOctokitLike,
  installationId: number,
  apiBaseUrl: string,
  fetchImpl: typeof fetch = fetch,
): GitHubTokenDeps {
  const base = apiBaseUrl.replace(/\/+$/, "");
  const withToken = (method: string, path: string, token: string) =>
    fetchImpl(`${base}${path}`, {
      method,
      headers: {
        accept: "application/vnd.github+json",
        authorization: `Bearer ${token}`,
        "x-github-api-version": "2022-11-28",
        "user-agent": "breakglass",
      },
    });
  return {
    async createInstallationToken({ repositories, permissions }) {
      const { data } = await appOctokit.request("POST /app/installations/{installation_id}/access_tokens", {
        installation_id: installationId,
        repositories,
        permissions,
      });
      const answer = data as { token?: unknown; expires_at?: unknown };
      const expiresAt = typeof answer.expires_at === "string" ? Date.parse(answer.expires_at) : NaN;
      if (typeof answer.token !== "string" || !answer.token || Number.isNaN(expiresAt))
        throw new Error("GitHub answered without a token or its expiry");
      return { token: answer.token, expiresAt };
    },
    async revokeInstallationToken(token) {
      const response = await withToken("DELETE", "/installation/token", token);
      await response.body?.cancel();
      // 401: the token is already revoked or expired, which is what revoking wants.
      if (response.status !== 204 && response.status !== 401)
        throw new Error(`DELETE /installation/token answered ${response.status}`);
    },
    async probe(token) {
      const response = await withToken("GET", "/installation/repositories?per_page=1", token);
      await response.body?.cancel();
      return response.status;
    },
  };
}

function heldToken(ref: CredentialRef): string {
  if (!ref.revocationHandle) {
    throw new Error(
      `Could not revoke GitHub installation token ${ref.credentialId}: the token was not kept, and only its holder can revoke it. It expires by itself within an hour of being minted.`,
    );
  }
  if (tokenFingerprint(ref.revocationHandle) !== ref.credentialId) {
    throw new Error(
      `Could not revoke GitHub installation token ${ref.credentialId}: the kept token belongs to another credential; the grant record does not match.`,
    );
  }
  return ref.revocationHandle;
}

function describe(permissions: Record<string, string>): string {
  return Object.entries(permissions)
    .map(([name, level]) => `${name}: ${level}`)
    .join(", ");
}
