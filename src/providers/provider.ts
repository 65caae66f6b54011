import type { ProviderName } from "../core/types.ts";
import type { UseRecord } from "../core/usage.ts";

/** What a provider could see of a credential's use, and how (for the review issue). */
export interface UseCollection {
  uses: UseRecord[];
  /** Where the uses come from, e.g. "the server's csvlog (log_statement = all for the role)". */
  source: string;
  /** What could not be seen, said plainly (a setting missing, an API the platform does not offer). */
  notes: string[];
}

/** What the app asks a provider to mint for an approved grant. */
export interface MintRequest {
  /** Unique id of this grant, e.g. "acme/ops#12/g1". Providers use it to name what they create. */
  grantId: string;
  repository: string;
  issue: number;
  requester: string;
  resource: string;
  role: string;
  /** The role's provider settings from the policy (already schema-validated). */
  settings: Record<string, unknown>;
  /** Epoch ms. The credential must not outlive this. */
  expiresAt: number;
  /** The workflow run's verified OIDC token (AWS uses it for AssumeRoleWithWebIdentity). */
  oidcToken: string;
  runId: string;
  now: number;
}

export interface MintResult {
  /** Non-secret identifier recorded on the issue and in the audit chain (role name, token id, session name, jti). */
  credentialId: string;
  /** Epoch ms; never later than MintRequest.expiresAt. */
  expiresAt: number;
  /** Secrets keyed by environment variable name. Masked by the Action, never logged or commented. */
  secrets: Record<string, string>;
  /** Non-secret values the Action may expose as outputs. */
  outputs: Record<string, string>;
  /**
   * Secret material the provider needs later to revoke or prove revocation (e.g. the installation token
   * itself, which can only be revoked by presenting it). The app stores it sealed, never in plaintext.
   */
  revocationHandle?: string;
}

export interface CredentialRef {
  grantId: string;
  credentialId: string;
  resource: string;
  role: string;
  settings: Record<string, unknown>;
  revocationHandle?: string;
}

export interface RevocationCheck {
  revoked: boolean;
  /** What was tried, for the audit record: e.g. "login as bg_12_1 refused: role does not exist". */
  evidence: string;
}

/** One provider per file in src/providers, all behind this interface. */
export interface CredentialProvider {
  readonly name: ProviderName;
  mint(request: MintRequest): Promise<MintResult>;
  revoke(ref: CredentialRef): Promise<void>;
  verifyRevoked(ref: CredentialRef): Promise<RevocationCheck>;
  /**
   * Moves the credential's expiry in place, for an approved `/extend`, without replacing what the
   * running job holds. Only providers whose credentials can be extended implement it (PostgreSQL:
   * `VALID UNTIL`); a token with a signed `exp` (JWT, STS session, installation token) cannot be,
   * and the app refuses `/extend` for those instead of leaving a grant that outlives its credential.
   * Returns the credential's new expiry (epoch ms), never later than `expiresAt`.
   */
  extend?(ref: CredentialRef, expiresAt: number): Promise<number>;
  /**
   * What the credential was used for since `grantedAt` (epoch ms), as far as the platform lets the
   * provider see: read while the grant runs (by the sweep) and once more after revocation. Never
   * returns secrets or statement parameters.
   */
  collectUses?(ref: CredentialRef, grantedAt: number): Promise<UseCollection>;
}
