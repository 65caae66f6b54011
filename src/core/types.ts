/**
 * Shared domain types. Everything in src/core is pure: no I/O, no Octokit, no clocks
 * (time is always passed in as an ISO string or epoch milliseconds).
 */

export type { ProviderName } from "./provider-settings/index.ts";
import type { ProviderName } from "./provider-settings/index.ts";
export type Severity = "low" | "medium" | "high" | "critical";
export const SEVERITIES: readonly Severity[] = ["low", "medium", "high", "critical"];

/** Settings for one role of a resource: which provider mints it and how. */
export interface RoleSpec {
  provider: ProviderName;
  description?: string;
  /** Provider-specific settings, validated by the policy schema per provider. */
  settings: Record<string, unknown>;
  /** `age`: the credential is encrypted to the requester's key instead of exported to the job. */
  delivery?: "job" | "age";
}

export interface AutoApproveRule {
  name: string;
  roles?: string[];
  severities?: Severity[];
  max_duration_seconds?: number;
  /** Requester must be a member of this team (e.g. "@acme/oncall"). */
  on_call_team?: string;
  /** Only drill requests match. */
  drill_only?: boolean;
}

export interface NotifyTarget {
  type: "slack" | "webhook";
  /** Name of the environment variable holding the URL (URLs are secrets for Slack). */
  url_env: string;
  /** For type webhook: env var holding the HMAC secret. */
  secret_env?: string;
}

export interface Policy {
  /** Resource name = file name without .yml. */
  resource: string;
  /** Repository path of the policy file, e.g. "policies/prod-database.yml"; CODEOWNERS of this path approve. */
  path: string;
  description: string;
  roles: Record<string, RoleSpec>;
  max_duration_seconds: number;
  default_duration_seconds: number;
  approvals: {
    required: number;
    /** "codeowners" or an explicit list of "@user" / "@org/team". */
    from: "codeowners" | string[];
    /** Pending requests older than this are escalated (at half) and then time out. */
    timeout_seconds: number;
    /** Absent: none (a plain `/approve` is enough). */
    step_up?: StepUp;
    /** An approved request whose credentials no run collected within this long expires. */
    collect_within_seconds: number;
  };
  /** Who may open requests for this resource: anyone below it gets an invalid request, never an auto-approval. */
  requesters: {
    min_permission: "read" | "triage" | "write" | "maintain" | "admin";
    /** When set, the requester must also be a member of one of these teams ("@org/slug"). */
    teams?: string[];
  };
  /**
   * Slugs of GitHub Apps whose comments posted on behalf of a user (`performed_via_github_app`)
   * count as that user's commands. Empty: such comments are never commands.
   */
  commands_via_apps: string[];
  auto_approve: AutoApproveRule[];
  break_glass: { allowed: boolean; step_up?: StepUp };
  extend: { requires_approval: boolean };
  /** Incident links that name a GitHub issue: must it be open, and does closing it revoke the grants tied to it. */
  incident: { require_open_issue: boolean; revoke_on_close: boolean };
  limits: { max_active_grants_per_user: number; max_requests_per_user_per_day: number };
  notify: NotifyTarget[];
  audit_checklist: string[];
  /** The periodic access review of who may request and approve (core/access-review.ts); absent: the defaults. */
  access_review?: {
    every: "monthly" | "quarterly" | "off";
    confirm_within_days: number;
    unused_after_days: number;
  };
  /** OIDC `environment` claim required at grant time, if any. */
  environment?: string;
  /** Keep the grant after the grant job ends (default: the Action's post step revokes it). */
  keep_alive_after_job: boolean;
  drill: {
    enabled: boolean;
    targets: { time_to_grant_seconds: number; time_to_revoke_seconds: number };
  };
}

/** A validated request, as parsed from the issue form and checked against the policy. */
export interface AccessRequest {
  resource: string;
  role: string;
  duration_seconds: number;
  severity: Severity;
  justification: string;
  incident: string | null;
  drill: boolean;
  /**
   * A retroactive record of access taken outside Breakglass (GitHub or the app was down): when it
   * started and ended (ISO 8601, UTC). Nothing is ever granted from it; it needs approval after the fact.
   */
  retroactive?: { started_at: string; ended_at: string };
}

export type StepUpMethod = "ssh-signature" | "webauthn";

/** Proof beyond a GitHub session: any of `methods` (none: a plain command is enough). */
export interface StepUp {
  methods: StepUpMethod[];
  /** Only hardware-backed keys (FIDO2 security keys) count. */
  require_hardware_key: boolean;
  /** AAGUIDs (authenticator models) whose attested, device-bound passkeys count as hardware keys. */
  hardware_aaguids?: string[];
}
