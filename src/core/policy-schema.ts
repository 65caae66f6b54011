/**
 * The JSON Schema of a policy file (`policies/<resource>.yml`): the single source of truth for what a
 * policy may say. `policies/schema.json` and `docs/policy-reference.md` are generated from it
 * (`npm run gen`), and `parsePolicy` validates against it.
 *
 * Conventions the error messages rely on:
 * - every property has a `description` (it becomes the docs) and, where useful, `examples` (the first one
 *   becomes the "e.g." of an error message);
 * - `title` is set on values whose shape needs words (patterns, durations): it completes the sentence
 *   "<field> must be …".
 */
import { PROVIDERS, PROVIDER_SPECS, type ProviderName } from "./provider-settings/index.ts";
import {
  DURATION_PATTERN,
  DURATION_TITLE,
  duration,
  ENV_VAR_PATTERN,
  envVar,
  object,
  type JsonSchema,
} from "./schema-builders.ts";
import { SEVERITIES } from "./types.ts";

export { DURATION_PATTERN, DURATION_TITLE, ENV_VAR_PATTERN, PROVIDERS, type JsonSchema };

/** Each provider's settings schema, from its own module in provider-settings/. */
export const PROVIDER_SETTINGS: Record<ProviderName, JsonSchema> = Object.fromEntries(
  PROVIDERS.map((name) => [name, PROVIDER_SPECS[name].schema]),
) as Record<ProviderName, JsonSchema>;

export const ROLE_NAME_PATTERN = "^[a-z][a-z0-9-]{0,39}$";
export const RESOURCE_NAME_PATTERN = "^[a-z0-9][a-z0-9-]{0,62}$";
export const APPROVER_PATTERN = "^@[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:/[A-Za-z0-9][A-Za-z0-9._-]{0,99})?$";
export const TEAM_PATTERN = "^@[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9][A-Za-z0-9._-]{0,99}$";
/** default_duration, when omitted, is the shorter of this and max_duration. */
export const DEFAULT_DURATION_CAP = "1h";

export const DEFAULT_AUDIT_CHECKLIST: readonly string[] = [
  "Confirm the incident that justified the access and link it here",
  "Review every action taken with the access (audit logs, query logs, CloudTrail)",
  "Confirm the credentials were revoked and no copies remain; rotate any secret that was exposed",
  "Record the root cause and why break-glass access was needed instead of the normal path",
  "Open follow-up issues so the same access is not needed next time",
];

/** Values used when a policy leaves a field out. The schema's `default`s below are these same values. */
export const POLICY_DEFAULTS = {
  approvals: { required: 1, from: "codeowners", timeout: "1h", collect_within: "1h" },
  requesters: { min_permission: "write" },
  commands_via_apps: [],
  break_glass: { allowed: false },
  extend: { requires_approval: true },
  incident: { require_open_issue: false, revoke_on_close: false },
  limits: { max_active_grants_per_user: 1, max_requests_per_user_per_day: 10 },
  audit_checklist: DEFAULT_AUDIT_CHECKLIST,
  keep_alive_after_job: false,
  drill: { enabled: false, targets: { time_to_grant: "2m", time_to_revoke: "5m" } },
  access_review: { every: "monthly", confirm_within_days: 14, unused_after_days: 90 },
} as const;

const role = object(
  "One role: which provider mints its credentials and how.",
  {
    provider: {
      enum: PROVIDERS,
      description:
        "What mints the credential: `jwt` (signed token), `github` (GitHub App token), `aws` (STS), `postgres`.",
      examples: ["postgres"],
    },
    description: {
      type: "string",
      title: "one line of text (at most 300 characters)",
      description: "What the role lets you do, shown to requesters and approvers.",
      minLength: 1,
      maxLength: 300,
      examples: ["Read-only SQL"],
    },
    settings: {
      type: "object",
      description:
        "Provider settings; which keys are allowed depends on `provider` (see below). Optional for `jwt`.",
      examples: [{ grant_role: "bg_readonly" }],
    },
    delivery: {
      enum: ["job", "age"],
      description:
        "Where the credential goes: `job` (exported, masked, to the grant workflow's later steps) or `age` (for a person working interactively: encrypted by the app to the requester's age recipient from `.github/breakglass-recipients.yml`, handed to the run only as ciphertext, uploaded as a one-day artifact). `age` needs `keep_alive_after_job: true`.",
      default: "job",
      examples: ["age"],
    },
  },
  {
    required: ["provider"],
    allOf: PROVIDERS.map((name): JsonSchema => ({
      if: { properties: { provider: { const: name } }, required: ["provider"] },
      then: {
        ...(PROVIDER_SPECS[name].settingsRequired ? { required: ["settings"] } : {}),
        properties: { settings: PROVIDER_SETTINGS[name] },
      },
    })),
    examples: [{ provider: "postgres", settings: { grant_role: "bg_readonly" } }],
  },
);

const autoApproveRule = object(
  "A rule that approves a request without a human when every condition it states holds. A rule must state at least one condition.",
  {
    name: {
      type: "string",
      title: "a rule name: lowercase letters, digits and dashes",
      description: "Name recorded in the audit trail when the rule fires.",
      pattern: "^[a-z0-9][a-z0-9-]{0,62}$",
      examples: ["read-only-low"],
    },
    roles: {
      type: "array",
      title: "a list of role names of this policy such as `[read]`",
      description: "The request's role must be one of these.",
      items: {
        type: "string",
        title: "a role name of this policy",
        description: "A role defined under `roles`.",
        pattern: ROLE_NAME_PATTERN,
        examples: ["read"],
      },
      minItems: 1,
      uniqueItems: true,
      examples: [["read"]],
    },
    severities: {
      type: "array",
      title: "a list of severities such as `[low, medium]`",
      description: "The request's severity must be one of these.",
      items: { enum: SEVERITIES, description: "A severity.", examples: ["low"] },
      minItems: 1,
      uniqueItems: true,
      examples: [["low"]],
    },
    max_duration: duration(
      "The requested duration must be at most this (and within the policy's max_duration).",
      ["1h"],
    ),
    on_call_team: {
      type: "string",
      title: "a team written `@org/team`",
      description: "The requester must be a member of this team.",
      pattern: TEAM_PATTERN,
      examples: ["@acme/oncall"],
    },
    drill_only: {
      type: "boolean",
      description: "When true, only drill requests match.",
      default: false,
      examples: [true],
    },
  },
  { required: ["name"], examples: [{ name: "read-only-low", roles: ["read"], severities: ["low"] }] },
);

const notifyTarget = object(
  "Where to announce requests, approvals, grants and revocations.",
  {
    type: {
      enum: ["slack", "webhook"],
      description:
        "`slack` (incoming webhook) or `webhook` (JSON POST, HMAC-signed when `secret_env` is set).",
      examples: ["slack"],
    },
    url_env: envVar(
      "Environment variable of the app that holds the URL. Slack webhook URLs are secrets, so a policy names the variable, never the URL.",
      ["SLACK_WEBHOOK_URL"],
    ),
    secret_env: envVar("For `type: webhook` only: environment variable holding the HMAC signing secret.", [
      "SECOPS_WEBHOOK_SECRET",
    ]),
  },
  {
    required: ["type", "url_env"],
    allOf: [
      {
        if: { properties: { type: { const: "slack" } }, required: ["type"] },
        then: {
          properties: {
            secret_env: {
              not: {},
              description:
                "Slack incoming webhooks are not signed: remove `secret_env` (it is for `type: webhook`).",
            },
          },
        },
      },
    ],
    examples: [{ type: "slack", url_env: "SLACK_WEBHOOK_URL" }],
  },
);

const stepUp = (who: string): JsonSchema => ({
  description: `Extra proof, beyond a GitHub session, that ${who} is at the keyboard: \`none\`; \`ssh-signature\` (an \`ssh-keygen -Y sign\` signature over the exact request, by a key the person added to GitHub as a *signing* key; \`breakglass approve\` makes it); or \`webauthn\` (a passkey or security key, registered on the app's /breakglass/passkeys page and used on its /breakglass/approve/<owner>/<repo>/<N> page, with Sign in with GitHub; approvals of requests and of pending extensions, not break-glass, which only a comment can carry). A list means any of them.`,
  oneOf: [
    { enum: ["none", "ssh-signature", "webauthn"], description: "One method, or none." },
    {
      type: "array",
      title: "a list of methods",
      description: "Any one of these methods.",
      items: { enum: ["ssh-signature", "webauthn"], description: "A step-up method." },
      minItems: 1,
      uniqueItems: true,
    },
  ],
  default: "none",
  examples: ["ssh-signature"],
});
const requireHardwareKey: JsonSchema = {
  type: "boolean",
  description:
    "Accept only hardware-backed proof: an SSH key of type `sk-ssh-ed25519@openssh.com` or `sk-ecdsa-sha2-nistp256@openssh.com` (a FIDO2 security key, touched when signing), or a passkey registered as device-bound (not backup-eligible) whose attestation chains to a trust root the app's operator configured, from an authenticator model listed in `approvals.hardware_aaguids` (without that list, or without roots, no passkey counts as hardware).",
  default: false,
  examples: [true],
};

export const POLICY_SCHEMA: JsonSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  description:
    "Who may get emergency access to one resource, how, for how long, with whose approval. The file name (without `.yml`) is the resource name.",
  type: "object",
  additionalProperties: false,
  required: ["description", "roles", "max_duration"],
  properties: {
    description: {
      type: "string",
      title: "one line of text (at most 300 characters)",
      description: "What the resource is, shown on every request.",
      minLength: 1,
      maxLength: 300,
      examples: ["Production PostgreSQL (orders database)"],
    },
    roles: {
      type: "object",
      title: "a mapping of role names to `{ provider, settings }`",
      description:
        "The roles one may request, by name. A role name is lowercase letters, digits and dashes, starting with a letter.",
      propertyNames: {
        type: "string",
        title:
          "a role name: lowercase letters, digits and dashes, starting with a letter, at most 40 characters",
        description: "A role name.",
        pattern: ROLE_NAME_PATTERN,
      },
      additionalProperties: role,
      minProperties: 1,
      maxProperties: 50,
      examples: [{ read: { provider: "postgres", settings: { grant_role: "bg_readonly" } } }],
    },
    max_duration: duration("The longest a grant may last.", ["4h"]),
    default_duration: duration(
      `Duration of a request that names none; at most \`max_duration\`. When omitted: the shorter of ${DEFAULT_DURATION_CAP} and \`max_duration\`.`,
      ["1h"],
    ),
    approvals: object(
      "Who must approve a request, and how long a request may wait.",
      {
        required: {
          type: "integer",
          description: "How many distinct people must approve (N of M). The requester never counts.",
          minimum: 1,
          maximum: 10,
          default: POLICY_DEFAULTS.approvals.required,
          examples: [2],
        },
        from: {
          description:
            "`codeowners` (the CODEOWNERS of this policy file) or an explicit list of `@user` / `@org/team` entries.",
          oneOf: [
            { const: "codeowners", description: "The CODEOWNERS of this policy file." },
            {
              type: "array",
              title: 'a list of approvers such as `["@alice", "@acme/dba"]`',
              description: "Explicit approvers.",
              items: {
                type: "string",
                title: "a GitHub user `@user` or team `@org/team`",
                description: "One approver.",
                pattern: APPROVER_PATTERN,
                examples: ["@acme/dba"],
              },
              minItems: 1,
              maxItems: 50,
              uniqueItems: true,
            },
          ],
          default: POLICY_DEFAULTS.approvals.from,
          examples: ["codeowners"],
        },
        timeout: duration(
          "How long a request may wait for approval: approvers are reminded (escalated) at half of it, and the request times out at the end.",
          ["30m"],
          { default: POLICY_DEFAULTS.approvals.timeout },
        ),
        step_up: stepUp("each approver"),
        require_hardware_key: requireHardwareKey,
        hardware_aaguids: {
          type: "array",
          title: "a list of AAGUIDs such as `cb69481e-8ff7-4039-93ec-0a2729a154a8`",
          description:
            "The authenticator models (AAGUIDs, from the vendor or the FIDO Metadata Service) whose passkeys count as hardware security keys for `require_hardware_key` (here and in `break_glass`). A passkey counts only when it was registered device-bound (not backup-eligible), its attestation certificate chain ends at one of the trust roots the app's operator configured (`BREAKGLASS_ATTESTATION_ROOTS`, `BREAKGLASS_ATTESTATION_MDS`), and its AAGUID is listed. An AAGUID is what the authenticator says it is: `none` and self-attestation never count, and without configured roots no passkey is hardware.",
          items: {
            type: "string",
            title: "an AAGUID: 8-4-4-4-12 hexadecimal digits",
            description: "One authenticator model.",
            pattern: "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
            examples: ["cb69481e-8ff7-4039-93ec-0a2729a154a8"],
          },
          minItems: 1,
          maxItems: 100,
          uniqueItems: true,
          examples: [["cb69481e-8ff7-4039-93ec-0a2729a154a8"]],
        },
        collect_within: duration(
          "How long an approved request may wait for its grant workflow to collect the credentials. After that the approval expires (recorded, said on the issue, refused at the exchange with `request_expired`) and a new request is needed.",
          ["15m"],
          { default: POLICY_DEFAULTS.approvals.collect_within },
        ),
      },
      { examples: [{ required: 2, from: "codeowners", timeout: "30m" }] },
    ),
    requesters: object(
      "Who may open requests for this resource. A request by anyone else is invalid: nobody can approve it and no auto-approval rule applies.",
      {
        min_permission: {
          enum: ["read", "triage", "write", "maintain", "admin"],
          description:
            "The least repository permission the requester must have (GitHub's permission API). The default, `write`, keeps read-only outside collaborators out.",
          default: POLICY_DEFAULTS.requesters.min_permission,
          examples: ["write"],
        },
        teams: {
          type: "array",
          title: "a list of teams written `@org/team`",
          description: "When set, the requester must also be a member of one of these teams.",
          items: {
            type: "string",
            title: "a team written `@org/team`",
            description: "One team.",
            pattern: TEAM_PATTERN,
            examples: ["@acme/sre"],
          },
          minItems: 1,
          maxItems: 20,
          uniqueItems: true,
          examples: [["@acme/sre"]],
        },
      },
      { examples: [{ min_permission: "write", teams: ["@acme/sre"] }] },
    ),
    commands_via_apps: {
      type: "array",
      title: "a list of GitHub App slugs",
      description:
        "GitHub Apps whose comments on behalf of a user (`performed_via_github_app`) count as that user's commands. Empty: a command posted through any app is ignored and the app says so on the issue.",
      items: {
        type: "string",
        title: "a GitHub App slug: lowercase letters, digits and dashes",
        description: "One app's slug.",
        pattern: "^[a-z0-9][a-z0-9-]{0,33}$",
        examples: ["slack"],
      },
      maxItems: 20,
      uniqueItems: true,
      default: [],
      examples: [["slack"]],
    },
    auto_approve: {
      type: "array",
      title: "a list of rules",
      description:
        "Rules that approve matching requests without a human. Empty: every request needs approvals.",
      items: autoApproveRule,
      maxItems: 20,
      default: [],
      examples: [[{ name: "read-only-low", roles: ["read"], severities: ["low"], max_duration: "1h" }]],
    },
    break_glass: object(
      "Self-approval for when no approver can be reached in time.",
      {
        allowed: {
          type: "boolean",
          description:
            "Whether `/break-glass <reason>` may self-approve. The reason is mandatory, every notify target is alerted and the review is forced.",
          default: POLICY_DEFAULTS.break_glass.allowed,
          examples: [false],
        },
        step_up: {
          ...stepUp("the person breaking the glass"),
          description: `${stepUp("the person breaking the glass").description} Unset, it is the same as \`approvals.step_up\` (and \`require_hardware_key\`): a self-approval needs the proof an approval needs; \`none\` here opts out.`,
          default: undefined,
        },
        require_hardware_key: requireHardwareKey,
      },
      { examples: [{ allowed: false }] },
    ),
    extend: object(
      "Extending a running grant with `/extend`.",
      {
        requires_approval: {
          type: "boolean",
          description:
            "Whether an extension needs fresh approvals (the running grant is never disturbed meanwhile).",
          default: POLICY_DEFAULTS.extend.requires_approval,
          examples: [true],
        },
      },
      { examples: [{ requires_approval: true }] },
    ),
    incident: object(
      "The request's incident link. When it names a GitHub issue (`#123`, `owner/repo#123` or `https://github.com/owner/repo/issues/123`) the app reads that issue; any other link is recorded as given.",
      {
        require_open_issue: {
          type: "boolean",
          description:
            "Requests must link an incident issue that exists, that the app can read, and that is open; anything else is an invalid request saying what to fix.",
          default: POLICY_DEFAULTS.incident.require_open_issue,
          examples: [true],
        },
        revoke_on_close: {
          type: "boolean",
          description:
            "When the linked incident issue is closed, the app revokes the live grants tied to it (found through its own records, not labels). Reopening the incident does not bring them back.",
          default: POLICY_DEFAULTS.incident.revoke_on_close,
          examples: [true],
        },
      },
      { examples: [{ require_open_issue: true, revoke_on_close: true }] },
    ),
    limits: object(
      "Overuse limits per requester; requests over a limit are refused with the limit named.",
      {
        max_active_grants_per_user: {
          type: "integer",
          description: "Grants one person may hold on this resource at the same time.",
          minimum: 1,
          maximum: 100,
          default: POLICY_DEFAULTS.limits.max_active_grants_per_user,
          examples: [1],
        },
        max_requests_per_user_per_day: {
          type: "integer",
          description: "Requests one person may open for this resource in 24 hours.",
          minimum: 1,
          maximum: 1000,
          default: POLICY_DEFAULTS.limits.max_requests_per_user_per_day,
          examples: [5],
        },
      },
      { examples: [{ max_active_grants_per_user: 1, max_requests_per_user_per_day: 5 }] },
    ),
    notify: {
      type: "array",
      title: "a list of `{ type, url_env }` targets",
      description:
        "Targets alerted on request, approval, grant and revocation. Failures never block the lifecycle.",
      items: notifyTarget,
      maxItems: 20,
      default: [],
      examples: [[{ type: "slack", url_env: "SLACK_WEBHOOK_URL" }]],
    },
    audit_checklist: {
      type: "array",
      title: "a list of checklist items",
      description: "Items of the post-event review issue opened when a grant ends.",
      items: {
        type: "string",
        title: "one line of text (at most 500 characters)",
        description: "One item.",
        minLength: 1,
        maxLength: 500,
        examples: ["Confirm the incident and link it"],
      },
      minItems: 1,
      maxItems: 50,
      default: [...DEFAULT_AUDIT_CHECKLIST],
      examples: [["Confirm the incident and link it"]],
    },
    environment: {
      type: "string",
      title: "a GitHub environment name: letters, digits, spaces and `._-`",
      description:
        "GitHub environment the grant job must run in (the OIDC token's `environment` claim), so environment protection rules apply too.",
      pattern: "^[A-Za-z0-9][A-Za-z0-9 ._-]{0,254}$",
      examples: ["breakglass-prod-database"],
    },
    keep_alive_after_job: {
      type: "boolean",
      description:
        "Keep the credentials until expiry after the grant job ends. By default the Action's post step revokes them when the job ends.",
      default: POLICY_DEFAULTS.keep_alive_after_job,
      examples: [false],
    },
    access_review: object(
      "The periodic access review: the sweep opens one `[breakglass access review]` issue per repository per period listing, per resource, who may request and approve it, each person's last use, and eligibility left unused. The resource's owners (who approve its requests) confirm it with `/confirm <resource>`.",
      {
        every: {
          enum: ["monthly", "quarterly", "off"],
          description:
            "How often this resource is reviewed: `monthly`, `quarterly` (in January, April, July and October) or `off`. A repository's review is monthly when any of its resources is.",
          default: POLICY_DEFAULTS.access_review.every,
          examples: ["quarterly"],
        },
        confirm_within_days: {
          type: "integer",
          description:
            "Days the owners have to confirm after the review opens; later, the resource is overdue on the dashboard and in `breakglass audit export`.",
          minimum: 1,
          maximum: 90,
          default: POLICY_DEFAULTS.access_review.confirm_within_days,
          examples: [14],
        },
        unused_after_days: {
          type: "integer",
          description:
            "Eligibility to request or approve that was not used (no request, no approval recorded) within this many days is flagged for removal.",
          minimum: 7,
          maximum: 730,
          default: POLICY_DEFAULTS.access_review.unused_after_days,
          examples: [90],
        },
      },
      { examples: [{ every: "monthly", confirm_within_days: 14, unused_after_days: 90 }] },
    ),
    drill: object(
      "Scheduled drills that prove access can be granted and revoked in time.",
      {
        enabled: {
          type: "boolean",
          description: "Whether the drill workflow exercises this resource.",
          default: POLICY_DEFAULTS.drill.enabled,
          examples: [true],
        },
        targets: object(
          "Time limits a drill must meet; a slower drill fails with the step named.",
          {
            time_to_grant: duration("From request to usable credentials.", ["2m"], {
              default: POLICY_DEFAULTS.drill.targets.time_to_grant,
            }),
            time_to_revoke: duration("From expiry to verified revocation.", ["5m"], {
              default: POLICY_DEFAULTS.drill.targets.time_to_revoke,
            }),
          },
          { examples: [{ time_to_grant: "2m", time_to_revoke: "5m" }] },
        ),
      },
      { examples: [{ enabled: true, targets: { time_to_grant: "2m", time_to_revoke: "5m" } }] },
    ),
  },
};
