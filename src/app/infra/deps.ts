import type { JSONWebKeySet } from "jose";
import type { AuditSigner } from "../../core/audit-chain.ts";
import type { ProviderName } from "../../core/types.ts";
import type { CredentialProvider } from "../../providers/provider.ts";
import type { AppIdentity } from "../../github/issue-records.ts";
import type { Notifier } from "./notifier.ts";
import type { AppCounters } from "./metrics.ts";
import type { NotificationFailureLog } from "./notification-failures.ts";
import type { ExpiryScheduler } from "./expiry-scheduler.ts";
import type { IssueLock } from "./issue-lock.ts";
import type { GitHubPort } from "../../github/github-port.ts";

/** Where OIDC tokens come from and what they must say. */
export interface OidcSettings {
  issuer: string;
  audience: string;
  /** Seconds of clock skew tolerated on exp/nbf/iat. */
  clockToleranceSeconds: number;
}

/** Everything the app needs, injected so the sandbox, the server and tests each pass their own. */
export interface BreakglassDeps {
  identity: AppIdentity;
  signer: AuditSigner;
  /** Public keys that verify the app's records and tokens (the current key, plus retired ones). */
  jwks: JSONWebKeySet;
  /** AES-256-GCM key that seals revocation handles stored in public records. */
  sealKey: Buffer;
  /**
   * Seal keys rotated out: they only open handles sealed before the rotation, which the start-up
   * reconcile and the sweep seal again under `sealKey` (see reseal-handle.ts).
   */
  retiredSealKeys?: readonly Buffer[];
  now: () => number;
  /** The app's public URL (exchange route, JWKS, dashboard). */
  publicUrl: string;
  oidc: OidcSettings;
  /** The workflow file that may receive grants, e.g. "breakglass-grant.yml". */
  grantWorkflow: string;
  sweepWorkflow: string;
  /** The drill workflow may exchange tokens for drill requests only. */
  drillWorkflow: string;
  providers: Partial<Record<ProviderName, CredentialProvider>>;
  notifier: Notifier;
  /** Revocation retries: first delay, doubled each attempt. */
  retryBaseMs: number;
  scheduler?: ExpiryScheduler;
  /** Introspection of the JWT provider's tokens (POST /breakglass/introspect), for relying services. */
  introspect?: (token: string, use?: IntrospectionContext) => Promise<{ active: boolean; reason?: string }>;
  /** Counters for the /metrics route (absent in tests that do not look). */
  counters?: AppCounters;
  /** Notifications that did not arrive, for the log, the metric and the dashboard. */
  notificationFailures?: NotificationFailureLog;
  /** Serialises work per issue within the process (see issue-lock.ts). */
  lock?: IssueLock;
  /** A port for another repository the app is installed on (null when it is not): set by the server. */
  portFor?: (owner: string, repo: string) => Promise<GitHubPort | null>;
  /** The repository (of each request repository's owner) that holds the ledger; default `breakglass-ledger`. */
  ledgerRepo?: string;
  /**
   * Whether the sweep opens the periodic access reviews (default true, in the sandbox too). A suite
   * whose issue counts an access review would confuse turns them off, and says why.
   */
  accessReviews?: boolean;
}

/** What a relying service says about the use it is checking (recorded as a use of the credential). */
export interface IntrospectionContext {
  /** The service's name, as it gives it (`[A-Za-z0-9._-]`, at most 100). */
  service: string;
  /** The scopes the service is about to allow. */
  scopes: string[];
}
