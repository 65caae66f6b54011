/**
 * What the Action and the app say to each other over HTTP: the routes, each request's body and each
 * answer. Both sides import these shapes from here (the app's routes in app/http/http-routes.ts, the
 * Action's client in action/app-client.ts), so a field renamed on one side is a type error on the other.
 */

/** The app's routes beside Probot's webhook route. The Action joins them to `app-url` without the leading `/`. */
export const APP_ROUTES = {
  health: "/healthz",
  jwks: "/breakglass/jwks.json",
  exchange: "/breakglass/exchange",
  release: "/breakglass/release",
  sweep: "/breakglass/sweep",
  introspect: "/breakglass/introspect",
} as const;

export type AppRoute = (typeof APP_ROUTES)[keyof typeof APP_ROUTES];

/** The route as the Action joins it to `app-url` (relative, so an app behind a path prefix works). */
export const relativeRoute = (route: AppRoute): string => route.slice(1);

/** `POST /breakglass/exchange` and `/breakglass/release`: the run's OIDC token and the request it acts on. */
export interface GrantRunRequest {
  token: string;
  /** owner/name; the token's `repository` claim when absent. */
  repository: string;
  issue: number;
}

/** `POST /breakglass/sweep`: the scheduled sweep workflow's OIDC token. */
export interface SweepRequest {
  token: string;
  repository: string;
}

/** `POST /breakglass/introspect`: a credential the app issued, and optionally who asks about it. */
export interface IntrospectRequest {
  token: string;
  service?: string;
  scopes?: string[];
  scope?: string;
}

/** A role's `age` delivery: the secrets encrypted to the requester's own key, never plaintext. */
export interface EncryptedDelivery {
  format: "age";
  /** The public recipient it was encrypted to (not secret), so the requester can tell which key opens it. */
  recipient: string;
  /** ASCII-armored age file: `-----BEGIN AGE ENCRYPTED FILE-----`. */
  armored: string;
}

/** The exchange's answer: the grant's credentials (masked by the Action before anything else). */
export interface ExchangeResult {
  grant_id: string;
  provider: string;
  credential_id: string;
  expires_at: string;
  secrets: Record<string, string>;
  outputs: Record<string, string>;
  issue_url: string;
  keep_alive_after_job: boolean;
  /** Set when the role's delivery is `age`: the secrets are only in here, encrypted; `secrets` is empty. */
  encrypted?: EncryptedDelivery;
}

/** What releasing a run's grant did. */
export type ReleaseOutcome = "revoked" | "failed" | "nothing" | "kept";

export interface ReleaseResult {
  outcome: ReleaseOutcome;
}

/** The introspection answer; an inactive credential says nothing else. */
export interface IntrospectResult {
  active: boolean;
  [claim: string]: unknown;
}

/** What one sweep did in a repository. */
export interface ReconcileReport {
  /** Approved requests whose grant workflow was dispatched again. */
  redispatched: number[];
  checked: number;
  revoked: number[];
  failed: number[];
  finished: number[];
  escalated: number[];
  timed_out: number[];
  scheduled: Array<{ issue: number; expires_at: string }>;
  /** Requests whose record comments were put back from the ledger. */
  restored: number[];
  /** Credentials minted but never recorded (see app/grant/orphan-credentials.ts) revoked by this sweep, and those still owed. */
  orphans_revoked: string[];
  orphans_failed: string[];
  /** Live grants whose revocation handle was sealed again under the current seal key (a rotation). */
  resealed: number[];
  /** The monthly metrics issue this sweep opened (app/grant/open-metrics-issue.ts), and why it could not, if so. */
  metrics_issue?: number;
  metrics_error?: string;
  /** The access review issue this sweep opened (app/grant/open-access-review.ts), and why it could not, if so. */
  access_review_issue?: number;
  access_review_error?: string;
  /** Live grants whose handle no configured seal key opens (a retired key removed too early). */
  unopenable: number[];
  /** Requests where an edit whose webhook was lost (body or approval comment) was found and handled (app/webhooks/catch-up-lost-edits.ts). */
  lost_edits: number[];
}

/** Every refusal's body: a stable reason code and a message for a person. */
export interface RefusalBody {
  error: string;
  message: string;
}
