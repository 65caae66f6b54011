import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import fc from "fast-check";
import {
  formatPolicyError,
  loadPolicies,
  MAX_POLICY_BYTES,
  parsePolicy,
  resourceNameFromPath,
  type PolicyError,
} from "../../src/core/policy.ts";
import { DEFAULT_AUDIT_CHECKLIST } from "../../src/core/policy-schema.ts";
import type { Policy } from "../../src/core/types.ts";

const FILE = "policies/test-resource.yml";
/** A minimal valid policy: five lines, so extra lines start at line 6. */
const BASE = `description: Test resource
roles:
  read:
    provider: jwt
max_duration: 4h
`;

function parsed(text: string, path = FILE): Policy {
  const result = parsePolicy(path, text);
  if (!result.ok)
    assert.fail(`expected a valid policy, got:\n${result.error.map(formatPolicyError).join("\n")}`);
  return result.value;
}

function problems(text: string, path = FILE): PolicyError[] {
  const result = parsePolicy(path, text);
  if (result.ok) assert.fail("expected the policy to be refused");
  return result.error;
}

/** The refusals as "line: message", the way a reader sees them. */
function refusals(text: string, path = FILE): string[] {
  return problems(text, path).map((e) => `${e.line ?? "-"}: ${e.message}`);
}

const examples = readdirSync("policies")
  .filter((name) => name.endsWith(".yml"))
  .sort()
  .map((name) => ({ path: `policies/${name}`, text: readFileSync(`policies/${name}`, "utf8") }));

describe("example policies in policies/", () => {
  test("are exactly the six documented ones", () => {
    assert.deepEqual(
      examples.map((f) => f.path),
      [
        "policies/aws-production.yml",
        "policies/drill.yml",
        "policies/github-admin.yml",
        "policies/model-guardrail-override.yml",
        "policies/model-rollback.yml",
        "policies/prod-database.yml",
      ],
    );
  });

  for (const file of examples) {
    test(`${file.path} parses`, () => {
      const policy = parsed(file.text, file.path);
      assert.equal(policy.path, file.path);
      assert.equal(`policies/${policy.resource}.yml`, file.path);
      assert.ok(policy.audit_checklist.length > 0);
    });
  }

  const byName = new Map(examples.map((f) => [f.path, parsed(f.text, f.path)]));
  const get = (name: string): Policy => byName.get(`policies/${name}.yml`)!;

  test("prod-database: postgres read & write, 2 approvals, read/low auto-approved", () => {
    const p = get("prod-database");
    assert.deepEqual(Object.keys(p.roles), ["read", "write"]);
    assert.equal(p.roles.read!.provider, "postgres");
    assert.equal(p.roles.read!.settings.grant_role, "bg_readonly");
    assert.equal(p.approvals.required, 2);
    assert.deepEqual(p.auto_approve, [
      { name: "read-only-low", roles: ["read"], severities: ["low"], max_duration_seconds: 3600 },
    ]);
    assert.equal(p.environment, "breakglass-prod-database");
  });

  test("aws-production: STS role and a required environment", () => {
    const p = get("aws-production");
    assert.equal(p.roles.admin!.settings.role_arn, "arn:aws:iam::123456789012:role/breakglass-admin");
    assert.equal(p.environment, "breakglass-aws-production");
  });

  test("github-admin: repositories and permissions", () => {
    const p = get("github-admin");
    assert.deepEqual(p.roles.admin!.settings, {
      repositories: ["ops"],
      permissions: { administration: "write", contents: "write" },
    });
  });

  test("AI-governance policies: jwt scopes, ethical and model-behaviour review, break-glass for rollback only", () => {
    const override = get("model-guardrail-override");
    const rollback = get("model-rollback");
    assert.deepEqual(override.roles.override!.settings.scopes, ["guardrail:disable"]);
    assert.deepEqual(rollback.roles.rollback!.settings.scopes, ["model:rollback"]);
    for (const p of [override, rollback]) {
      assert.equal(p.roles[Object.keys(p.roles)[0]!]!.provider, "jwt");
      assert.ok(
        p.audit_checklist.some((item) => /ethical review/i.test(item)),
        p.resource,
      );
      assert.ok(
        p.audit_checklist.some((item) => /model behaviour review/i.test(item)),
        p.resource,
      );
    }
    assert.equal(override.break_glass.allowed, false);
    assert.equal(rollback.break_glass.allowed, true);
    // The demo requests this resource and has one CODEOWNER approve.
    assert.equal(override.approvals.required, 1);
    assert.equal(override.auto_approve.length, 0);
  });

  test("drill: jwt role `drill`, drill-only auto-approval, enabled, 10m max", () => {
    const p = get("drill");
    assert.equal(p.roles.drill!.provider, "jwt");
    assert.deepEqual(p.auto_approve, [{ name: "drills", roles: ["drill"], drill_only: true }]);
    assert.equal(p.drill.enabled, true);
    assert.equal(p.max_duration_seconds, 600);
    assert.deepEqual(p.drill.targets, { time_to_grant_seconds: 120, time_to_revoke_seconds: 300 });
  });

  test("loadPolicies loads them all without errors", () => {
    const { policies, errors } = loadPolicies(examples);
    assert.deepEqual(errors, []);
    assert.equal(policies.size, 6);
  });
});

describe("defaults", () => {
  test("a minimal policy gets every documented default", () => {
    const p = parsed(BASE);
    assert.equal(Object.getPrototypeOf(p.roles), null);
    assert.deepEqual(
      { ...p, roles: { ...p.roles } },
      {
        resource: "test-resource",
        path: FILE,
        description: "Test resource",
        roles: { read: { provider: "jwt", settings: {} } },
        max_duration_seconds: 4 * 3600,
        default_duration_seconds: 3600,
        approvals: { required: 1, from: "codeowners", timeout_seconds: 3600, collect_within_seconds: 3600 },
        requesters: { min_permission: "write" },
        commands_via_apps: [],
        auto_approve: [],
        break_glass: { allowed: false },
        extend: { requires_approval: true },
        incident: { require_open_issue: false, revoke_on_close: false },
        limits: { max_active_grants_per_user: 1, max_requests_per_user_per_day: 10 },
        notify: [],
        audit_checklist: [...DEFAULT_AUDIT_CHECKLIST],
        keep_alive_after_job: false,
        access_review: { every: "monthly", confirm_within_days: 14, unused_after_days: 90 },
        drill: { enabled: false, targets: { time_to_grant_seconds: 120, time_to_revoke_seconds: 300 } },
      },
    );
  });

  test("default_duration defaults to the shorter of 1h and max_duration", () => {
    assert.equal(parsed(BASE.replace("4h", "30m")).default_duration_seconds, 1800);
    assert.equal(parsed(BASE.replace("4h", "2h")).default_duration_seconds, 3600);
  });

  test("provider settings get their defaults; given values win", () => {
    const p = parsed(`description: x
roles:
  db: { provider: postgres, settings: { grant_role: bg_ro } }
  db2: { provider: postgres, settings: { grant_role: bg_ro, connection_env: OTHER_URL, database: orders } }
  cloud: { provider: aws, settings: { role_arn: "arn:aws:iam::123456789012:role/x" } }
  cloud2: { provider: aws, settings: { role_arn: "arn:aws-us-gov:iam::123456789012:role/path/x", max_session: 4h, region: us-gov-west-1 } }
max_duration: 1h
`);
    assert.deepEqual(p.roles.db!.settings, {
      connection_env: "BREAKGLASS_PG_ADMIN_URL",
      grant_role: "bg_ro",
    });
    assert.deepEqual(p.roles.db2!.settings, {
      connection_env: "OTHER_URL",
      grant_role: "bg_ro",
      database: "orders",
    });
    assert.deepEqual(p.roles.cloud!.settings, {
      max_session: "1h",
      role_arn: "arn:aws:iam::123456789012:role/x",
    });
    assert.equal(p.roles.cloud2!.settings.max_session, "4h");
  });

  test("every field given is carried over", () => {
    const p = parsed(`${BASE}default_duration: 90m
approvals: { required: 2, from: ["@alice", "@acme/dba"], timeout: 45m }
auto_approve:
  - { name: quick, roles: [read], severities: [low, medium], max_duration: 30m, on_call_team: "@acme/oncall", drill_only: false }
break_glass: { allowed: true }
extend: { requires_approval: false }
limits: { max_active_grants_per_user: 2, max_requests_per_user_per_day: 3 }
notify: [{ type: webhook, url_env: HOOK_URL, secret_env: HOOK_SECRET }]
audit_checklist: [Only this]
environment: prod env.1
keep_alive_after_job: true
drill: { enabled: true, targets: { time_to_grant: 90s, time_to_revoke: PT10M } }
`);
    assert.equal(p.default_duration_seconds, 5400);
    assert.deepEqual(p.approvals, {
      required: 2,
      from: ["@alice", "@acme/dba"],
      timeout_seconds: 2700,
      collect_within_seconds: 3600,
    });
    assert.deepEqual(p.auto_approve, [
      {
        name: "quick",
        roles: ["read"],
        severities: ["low", "medium"],
        max_duration_seconds: 1800,
        on_call_team: "@acme/oncall",
        drill_only: false,
      },
    ]);
    assert.deepEqual(
      [p.break_glass, p.extend, p.limits],
      [
        { allowed: true },
        { requires_approval: false },
        { max_active_grants_per_user: 2, max_requests_per_user_per_day: 3 },
      ],
    );
    assert.deepEqual(p.notify, [{ type: "webhook", url_env: "HOOK_URL", secret_env: "HOOK_SECRET" }]);
    assert.deepEqual(p.audit_checklist, ["Only this"]);
    assert.equal(p.environment, "prod env.1");
    assert.equal(p.keep_alive_after_job, true);
    assert.deepEqual(p.drill, {
      enabled: true,
      targets: { time_to_grant_seconds: 90, time_to_revoke_seconds: 600 },
    });
  });
});

describe("malformed policies: each message and line", () => {
  test("YAML syntax error names the line", () => {
    const errors = problems(`description: x\nroles: [a, b\nmax_duration: 1h\n`);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.file, FILE);
    assert.equal(errors[0]!.line, 3);
    assert.match(errors[0]!.message, /^YAML syntax error: Flow sequence .* end with a \]/);
  });

  test("tabs used as indentation", () => {
    assert.deepEqual(refusals(`description: x\nroles:\n\tread: { provider: jwt }\n`), [
      "3: YAML syntax error: tabs are not allowed as indentation; indent with spaces",
    ]);
  });

  test("unknown key suggests the closest known key", () => {
    assert.deepEqual(refusals(`${BASE}max_duraton: 4h\n`), [
      "6: unknown key `max_duraton`; did you mean `max_duration`?",
    ]);
    assert.deepEqual(refusals(`${BASE}approvals:\n  requird: 2\n`), [
      "7: unknown key `requird` in approvals; did you mean `required`?",
    ]);
  });

  test("unknown key with no close match lists the allowed keys", () => {
    assert.deepEqual(refusals(`${BASE}extend:\n  whatever: true\n`), [
      "7: unknown key `whatever` in extend; the keys allowed here are `requires_approval`",
    ]);
  });

  test("wrong types", () => {
    assert.deepEqual(refusals(`${BASE}approvals:\n  required: two\n`), [
      "7: approvals.required must be a number from 1 to 10, e.g. `required: 2`",
    ]);
    assert.deepEqual(refusals(`${BASE}approvals: { required: 2.5 }\n`), [
      "6: approvals.required must be a number from 1 to 10, e.g. `required: 2`",
    ]);
    assert.deepEqual(refusals(`${BASE}approvals: { required: 11 }\n`), [
      "6: approvals.required must be a number from 1 to 10, e.g. `required: 2`",
    ]);
    assert.deepEqual(refusals(`${BASE}approvals: { required: 0 }\n`), [
      "6: approvals.required must be a number from 1 to 10, e.g. `required: 2`",
    ]);
    assert.deepEqual(refusals(`${BASE}approvals: { required: .inf }\n`), [
      "6: approvals.required must be a number from 1 to 10, e.g. `required: 2`",
    ]);
    assert.deepEqual(refusals(`${BASE}limits: [1, 10]\n`), [
      "6: limits must be a mapping of keys to values, e.g. `limits: {max_active_grants_per_user: 1, max_requests_per_user_per_day: 5}`",
    ]);
    assert.deepEqual(refusals(`${BASE}audit_checklist: Check things\n`), [
      "6: audit_checklist must be a list of checklist items, e.g. `audit_checklist: [Confirm the incident and link it]`",
    ]);
    assert.deepEqual(refusals(`description: 42\nroles: { read: { provider: jwt } }\nmax_duration: 4h\n`), [
      "1: description must be one line of text (at most 300 characters), e.g. `description: Production PostgreSQL (orders database)`",
    ]);
  });

  test("YAML 1.1 booleans are text in YAML 1.2: refused with the boolean to write", () => {
    assert.deepEqual(
      refusals(
        `${BASE}keep_alive_after_job: yes\nbreak_glass: { allowed: off }\nextend: { requires_approval: maybe }\n`,
      ),
      [
        "6: keep_alive_after_job must be `true` or `false`; did you mean `true`?",
        "7: break_glass.allowed must be `true` or `false`; did you mean `false`?",
        "8: extend.requires_approval must be `true` or `false`, e.g. `requires_approval: true`",
      ],
    );
  });

  test("a key with nothing after it", () => {
    assert.deepEqual(refusals(`${BASE}approvals:\n`), [
      "6: approvals has no value; write a mapping of keys to values, e.g. `approvals: {required: 2, from: codeowners, timeout: 30m}`",
    ]);
  });

  test("too long text", () => {
    assert.deepEqual(
      refusals(`description: ${"x".repeat(301)}\nroles: { read: { provider: jwt } }\nmax_duration: 4h\n`),
      [
        "1: description must be one line of text (at most 300 characters), e.g. `description: Production PostgreSQL (orders database)`",
      ],
    );
  });

  test("durations that do not parse use parseDuration's message", () => {
    assert.deepEqual(refusals(BASE.replace("4h", "4 hours")), [
      '5: max_duration: "4 hours" is not a duration. Write it like "90m", "1h30m", "2h" or "PT2H".',
    ]);
    assert.deepEqual(refusals(BASE.replace("4h", "0m")), [
      '5: max_duration: The duration "0m" is zero. Write it like "90m", "1h30m", "2h" or "PT2H".',
    ]);
    assert.deepEqual(refusals(BASE.replace("4h", "8d")), [
      '5: max_duration: The duration "8d" is longer than 7d, the most anything may last.',
    ]);
    assert.deepEqual(refusals(`${BASE}approvals: { timeout: -5m }\n`), [
      '6: approvals.timeout: The duration "-5m" is negative. Write it like "90m", "1h30m", "2h" or "PT2H".',
    ]);
    assert.deepEqual(refusals(`${BASE}drill:\n  targets:\n    time_to_revoke: soon\n`), [
      '8: drill.targets.time_to_revoke: "soon" is not a duration. Write it like "90m", "1h30m", "2h" or "PT2H".',
    ]);
  });

  test("a duration written as a bare number", () => {
    assert.deepEqual(refusals(BASE.replace("4h", "3600")), [
      "5: max_duration must be a duration such as `30m`, `4h`, `1h30m` or `PT2H`, e.g. `max_duration: 4h`",
    ]);
  });

  test("default_duration longer than max_duration", () => {
    assert.deepEqual(refusals(`${BASE}default_duration: 5h\n`), [
      "6: default_duration (5h) is longer than max_duration (4h); shorten default_duration or raise max_duration",
    ]);
  });

  test("missing required keys", () => {
    assert.deepEqual(refusals(`description: x\nmax_duration: 1h\n`), [
      "-: missing `roles` (The roles one may request, by name), e.g. `roles: {read: {provider: postgres, settings: {grant_role: bg_readonly}}}`",
    ]);
    assert.deepEqual(refusals(`roles: { read: { provider: jwt } }\n`), [
      "-: missing `description` (What the resource is, shown on every request), e.g. `description: Production PostgreSQL (orders database)`",
      "-: missing `max_duration` (The longest a grant may last), e.g. `max_duration: 4h`",
    ]);
  });

  test("roles must not be empty and names must be valid", () => {
    assert.deepEqual(refusals(`description: x\nroles: {}\nmax_duration: 1h\n`), [
      "2: roles must have at least 1 entry, e.g. `roles: {read: {provider: postgres, settings: {grant_role: bg_readonly}}}`",
    ]);
    assert.deepEqual(
      refusals(`description: x\nroles:\n  Read_Only:\n    provider: jwt\nmax_duration: 1h\n`),
      [
        "3: `Read_Only` in roles is not a valid name: use a role name: lowercase letters, digits and dashes, starting with a letter, at most 40 characters",
      ],
    );
  });

  test("a role without a provider, or with an unknown one", () => {
    assert.deepEqual(
      refusals(`description: x\nroles:\n  read:\n    description: Reads\nmax_duration: 1h\n`),
      ["3: missing `provider` in roles.read (What mints the credential), e.g. `provider: postgres`"],
    );
    assert.deepEqual(
      refusals(`description: x\nroles:\n  read:\n    provider: postgresql\nmax_duration: 1h\n`),
      [
        "4: roles.read.provider must be one of `jwt`, `github`, `aws` or `postgres`; did you mean `postgres`?",
      ],
    );
    assert.deepEqual(refusals(`description: x\nroles:\n  read:\n    provider: vault\nmax_duration: 1h\n`), [
      "4: roles.read.provider must be one of `jwt`, `github`, `aws` or `postgres`, e.g. `provider: postgres`",
    ]);
  });

  describe("provider settings are checked per provider", () => {
    const role = (provider: string, settings: string) =>
      `description: x\nroles:\n  r:\n    provider: ${provider}\n    settings:\n${settings}max_duration: 1h\n`;

    test("jwt", () => {
      assert.deepEqual(refusals(role("jwt", "      audiance: svc\n      scopes: [a b]\n")), [
        "6: unknown key `audiance` in roles.r.settings; did you mean `audience`?",
        "7: roles.r.settings.scopes[0] must be a scope made of letters, digits and `:._/*-`, e.g. `- model:rollback`",
      ]);
      // Settings of another provider are not accepted either.
      assert.deepEqual(refusals(role("jwt", "      grant_role: bg_ro\n")), [
        "6: unknown key `grant_role` in roles.r.settings; the keys allowed here are `audience` or `scopes`",
      ]);
    });

    test("github", () => {
      assert.deepEqual(
        refusals(
          role(
            "github",
            "      repositories: [acme/ops]\n      permissions: { contents: maintain, Issues: read }\n",
          ),
        ),
        [
          "6: roles.r.settings.repositories[0] must be a repository name without the owner (`ops`, not `acme/ops`), e.g. `- ops`",
          "7: `Issues` in roles.r.settings.permissions is not a valid name: use a GitHub App permission name such as `contents` or `administration` (lowercase letters and `_`)",
          "7: roles.r.settings.permissions.contents must be one of `read`, `write` or `admin`, e.g. `contents: write`",
        ],
      );
      assert.deepEqual(refusals(role("github", "      repositories: []\n      permissions: {}\n")), [
        "6: roles.r.settings.repositories must have at least 1 item, e.g. `repositories: [ops]`",
        "7: roles.r.settings.permissions must have at least 1 entry, e.g. `permissions: {contents: write}`",
      ]);
      assert.deepEqual(refusals(`description: x\nroles:\n  r:\n    provider: github\nmax_duration: 1h\n`), [
        "3: missing `settings` in roles.r (Settings of the GitHub App installation-token provider), e.g. `settings: {repositories: [ops], permissions: {contents: write}}`",
      ]);
    });

    test("aws", () => {
      assert.deepEqual(
        refusals(role("aws", "      role_arn: arn:aws:iam::12345:role/x\n      region: Europe\n")),
        [
          "6: roles.r.settings.role_arn must be an IAM role ARN such as `arn:aws:iam::123456789012:role/breakglass-admin`, e.g. `role_arn: arn:aws:iam::123456789012:role/breakglass-admin`",
          "7: roles.r.settings.region must be an AWS region such as `eu-west-1`, e.g. `region: eu-west-1`",
        ],
      );
      assert.deepEqual(refusals(role("aws", "      region: eu-west-1\n")), [
        "5: missing `role_arn` in roles.r.settings (The IAM role to assume), e.g. `role_arn: arn:aws:iam::123456789012:role/breakglass-admin`",
      ]);
      assert.deepEqual(
        refusals(role("aws", '      role_arn: "arn:aws:iam::123456789012:role/x"\n      max_session: 13h\n')),
        [
          "7: roles.r.settings.max_session must be between 1h and 12h, the range IAM allows for a role's MaxSessionDuration",
        ],
      );
      assert.deepEqual(
        refusals(role("aws", '      role_arn: "arn:aws:iam::123456789012:role/x"\n      max_session: 1x\n')),
        [
          '7: roles.r.settings.max_session: "1x" is not a duration. Write it like "90m", "1h30m", "2h" or "PT2H".',
        ],
      );
    });

    test("postgres", () => {
      assert.deepEqual(
        refusals(role("postgres", '      grant_role: "bg; DROP ROLE x"\n      connection_env: pg_url\n')),
        [
          "6: roles.r.settings.grant_role must be a PostgreSQL role name: lowercase letters, digits and `_`, starting with a letter or `_`, e.g. `grant_role: bg_readonly`",
          "7: roles.r.settings.connection_env must be the name of an environment variable (capital letters, digits and `_`), e.g. `connection_env: BREAKGLASS_PG_ADMIN_URL`",
        ],
      );
      assert.deepEqual(
        refusals(`description: x\nroles:\n  r: { provider: postgres, settings: null }\nmax_duration: 1h\n`),
        [
          "3: roles.r.settings has no value; write a mapping of keys to values, e.g. `settings: {grant_role: bg_readonly}`",
        ],
      );
    });
  });

  test("approvals.required above the number of explicit approvers", () => {
    assert.deepEqual(refusals(`${BASE}approvals:\n  required: 3\n  from: ["@alice", "@acme/dba"]\n`), [
      "7: approvals.required is 3 but approvals.from lists only 2 approvers; lower `required` to at most 2 or add approvers to `from`",
    ]);
    assert.deepEqual(refusals(`${BASE}approvals:\n  required: 2\n  from: ["@alice"]\n`), [
      "7: approvals.required is 2 but approvals.from lists only 1 approver; lower `required` to at most 1 or add approvers to `from`",
    ]);
  });

  test("approvals.from: codeowners or a list of @user / @org/team", () => {
    assert.deepEqual(refusals(`${BASE}approvals: { from: codeowner }\n`), [
      '6: approvals.from must be `codeowners` or a list of approvers such as `["@alice", "@acme/dba"]`; did you mean `codeowners`?',
    ]);
    assert.deepEqual(refusals(`${BASE}approvals: { from: 3 }\n`), [
      '6: approvals.from must be `codeowners` or a list of approvers such as `["@alice", "@acme/dba"]`, e.g. `from: codeowners`',
    ]);
    assert.deepEqual(refusals(`${BASE}approvals:\n  from:\n    - "@alice"\n    - bob\n    - "@alice"\n`), [
      '9: approvals.from[1] must be a GitHub user `@user` or team `@org/team`, e.g. `- "@acme/dba"`',
      "10: approvals.from lists `@alice` twice; remove one of them",
    ]);
  });

  test("auto_approve rules", () => {
    assert.deepEqual(
      refusals(`${BASE}auto_approve:
  - name: too-long
    max_duration: 5h
  - name: typo
    roles: [raed]
  - name: anything
  - name: typo
    severities: [low, urgent]
    drill_only: yes
`),
      [
        "8: auto_approve[0].max_duration (5h) is longer than the policy's max_duration (4h); lower it to at most 4h",
        "10: auto_approve[1].roles names `raed`, which is not a role of this policy; did you mean `read`?",
        "11: auto_approve[2] states no condition, so it would approve every request; add `roles`, `severities`, `max_duration`, `on_call_team` or `drill_only: true`",
        "12: auto_approve[3].name `typo` is used by an earlier rule; give each rule its own name",
        "13: auto_approve[3].severities[1] must be one of `low`, `medium`, `high` or `critical`, e.g. `- low`",
        "14: auto_approve[3].drill_only must be `true` or `false`; did you mean `true`?",
      ],
    );
    assert.deepEqual(
      refusals(`${BASE}auto_approve:\n  - { name: x, roles: [zzzz], on_call_team: acme/oncall }\n`),
      [
        '7: auto_approve[0].on_call_team must be a team written `@org/team`, e.g. `on_call_team: "@acme/oncall"`',
        "7: auto_approve[0].roles names `zzzz`, which is not a role of this policy; the roles are `read`",
      ],
    );
    assert.deepEqual(refusals(`${BASE}auto_approve:\n  - roles: [read]\n`), [
      "7: missing `name` in auto_approve[0] (Name recorded in the audit trail when the rule fires), e.g. `name: read-only-low`",
    ]);
  });

  test("notify targets", () => {
    assert.deepEqual(
      refusals(
        `${BASE}notify:\n  - { type: slack, url_env: SLACK_URL, secret_env: NOPE }\n  - type: webhook\n  - { type: email, url_env: X }\n`,
      ),
      [
        "7: notify[0].secret_env: Slack incoming webhooks are not signed: remove `secret_env` (it is for `type: webhook`).",
        "8: missing `url_env` in notify[1] (Environment variable of the app that holds the URL), e.g. `url_env: SLACK_WEBHOOK_URL`",
        "9: notify[2].type must be one of `slack` or `webhook`, e.g. `type: slack`",
      ],
    );
  });

  test("environment and list sizes", () => {
    assert.deepEqual(refusals(`${BASE}environment: "prod:db"\naudit_checklist: []\n`), [
      "6: environment must be a GitHub environment name: letters, digits, spaces and `._-`, e.g. `environment: breakglass-prod-database`",
      "7: audit_checklist must have at least 1 item, e.g. `audit_checklist: [Confirm the incident and link it]`",
    ]);
    const many = Array.from({ length: 21 }, (_, i) => `  - { type: slack, url_env: U${i} }`).join("\n");
    assert.deepEqual(refusals(`${BASE}notify:\n${many}\n`), ["7: notify must have at most 20 items"]);
  });

  test("the root must be a mapping", () => {
    assert.deepEqual(refusals("just text\n"), [
      "1: the file must be a YAML mapping of keys such as `description:`, `roles:` and `max_duration:`, not a single value",
    ]);
    assert.deepEqual(refusals("- description: x\n"), [
      "1: the file must be a YAML mapping of keys such as `description:`, `roles:` and `max_duration:`, not a list",
    ]);
  });

  test("an empty file, or one with only comments", () => {
    const message =
      "-: the file is empty: a policy needs at least `description`, `roles` and `max_duration` (see docs/policy-reference.md)";
    assert.deepEqual(refusals(""), [message]);
    assert.deepEqual(refusals("# nothing yet\n"), [message]);
  });

  test("duplicate keys are reported (YAML maps cannot hold two roles of one name)", () => {
    assert.deepEqual(
      refusals(
        `description: x\nroles:\n  read: { provider: jwt }\n  read: { provider: aws }\nmax_duration: 1h\n`,
      ),
      ["4: duplicate key `read`: each key may appear only once in a mapping; keep one of them"],
    );
    assert.deepEqual(refusals(`${BASE}max_duration: 1h\n`), [
      "6: duplicate key `max_duration`: each key may appear only once in a mapping; keep one of them",
    ]);
  });

  test("keys that only differ in YAML type collide once they become names", () => {
    assert.deepEqual(refusals(`${BASE}limits:\n  1: a\n  "1": b\n`), [
      "8: duplicate key `1`: each key may appear only once in a mapping; keep one of them",
    ]);
  });

  test("keys must be plain scalars", () => {
    assert.deepEqual(refusals(`${BASE}? [a, b]\n: 1\n`), [
      "6: keys must be plain names such as `max_duration`, not lists, mappings or empty",
    ]);
    assert.deepEqual(refusals(`${BASE}? \n: 1\n`), [
      "6: keys must be plain names such as `max_duration`, not lists, mappings or empty",
    ]);
  });

  test("several documents in one file", () => {
    assert.deepEqual(refusals(`${BASE}---\ndescription: y\n`), [
      "6: the file holds more than one YAML document (a `---` line after content); keep one policy per file",
    ]);
  });

  test("custom tags are refused, never resolved", () => {
    assert.deepEqual(refusals(`${BASE}environment: !!js/function "function () {}"\n`), [
      "6: unknown YAML tag: tag:yaml.org,2002:js/function; remove the tag",
    ]);
  });

  test("every problem is reported at once, sorted by line", () => {
    const lines = refusals(
      `description: x\nroles:\n  read: { provider: sql }\nmax_duration: 5\ndefault_duration: 9h\napproval: {}\n`,
    );
    assert.deepEqual(lines, [
      "3: roles.read.provider must be one of `jwt`, `github`, `aws` or `postgres`, e.g. `provider: postgres`",
      "4: max_duration must be a duration such as `30m`, `4h`, `1h30m` or `PT2H`, e.g. `max_duration: 4h`",
      "6: unknown key `approval`; did you mean `approvals`?",
    ]);
  });

  test("at most 25 problems are listed, then a count of the rest", () => {
    const text = BASE + Array.from({ length: 30 }, (_, i) => `unknown_${i}: 1`).join("\n");
    const errors = problems(text);
    assert.equal(errors.length, 26);
    assert.deepEqual(errors[25], {
      file: FILE,
      line: null,
      message: "…and 5 more problems; fix these first",
    });
  });
});

describe("hostile input", () => {
  test("an alias bomb (billion laughs) is refused before anything is expanded", () => {
    const bomb = [
      'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
      "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]",
      "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]",
      "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]",
      "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]",
      "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]",
      "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]",
      "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]",
      "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]",
    ].join("\n");
    const started = performance.now();
    const errors = problems(bomb);
    assert.ok(performance.now() - started < 1000, "refused quickly");
    assert.deepEqual(errors[0], {
      file: FILE,
      line: 1,
      message:
        "YAML anchors (`&a`) are not allowed in policies: remove the anchor and write values out in full",
    });
    assert.ok(
      errors.some(
        (e) =>
          e.line === 2 &&
          e.message === "YAML aliases (`*a`) are not allowed in policies: write the value out in full",
      ),
    );
    // One message per line: 9 anchors and 8 lines of aliases.
    assert.equal(errors.length, 17);
  });

  test("a single alias is refused too, even if harmless", () => {
    assert.deepEqual(
      refusals(`description: &d x\nroles: { read: { provider: jwt } }\nmax_duration: 4h\nenvironment: *d\n`),
      [
        "1: YAML anchors (`&d`) are not allowed in policies: remove the anchor and write values out in full",
        "4: YAML aliases (`*d`) are not allowed in policies: write the value out in full",
      ],
    );
  });

  test("merge keys are not special: `<<` is an unknown key", () => {
    assert.deepEqual(refusals(`${BASE}<<: { environment: x }\n`), [
      "6: unknown key `<<`; the keys allowed here are `description`, `roles`, `max_duration`, `default_duration`, `approvals`, `requesters`, `commands_via_apps`, `auto_approve`, `break_glass`, `extend`, `incident`, `limits`, `notify`, `audit_checklist`, `environment`, `keep_alive_after_job`, `access_review` or `drill`",
    ]);
  });

  test("files over 64 KiB are refused unread; exactly 64 KiB is fine", () => {
    const pad = (bytes: number) => `${BASE}#${"x".repeat(bytes - BASE.length - 2)}\n`;
    assert.equal(new TextEncoder().encode(pad(MAX_POLICY_BYTES)).length, MAX_POLICY_BYTES);
    assert.equal(parsePolicy(FILE, pad(MAX_POLICY_BYTES)).ok, true);
    assert.deepEqual(refusals(pad(MAX_POLICY_BYTES + 1)), [
      "-: the file is 65537 bytes; a policy may be at most 65536 bytes (64 KiB). Split it into several resources.",
    ]);
    // Bytes, not characters: "é" is two bytes in UTF-8.
    const wide = `${BASE}#${"é".repeat(MAX_POLICY_BYTES / 2)}\n`;
    assert.ok(wide.length < MAX_POLICY_BYTES);
    assert.match(refusals(wide)[0]!, /^-: the file is 65615 bytes/);
  });

  test("deeply nested input is refused before the YAML parser recurses", () => {
    assert.deepEqual(refusals(`${BASE}environment: ${"[".repeat(30000)}\n`), [
      "6: brackets are nested more than 16 deep; a policy never nests that deep",
    ]);
    assert.deepEqual(refusals(`${BASE}x: ${"{a: ".repeat(5000)}\n`), [
      "6: brackets are nested more than 16 deep; a policy never nests that deep",
    ]);
    assert.deepEqual(refusals(`${BASE}x:\n${"- ".repeat(5000)}a\n`), [
      "7: this line nests more than 16 lists or keys; a policy never nests that deep",
    ]);
    const stairs = Array.from({ length: 120 }, (_, i) => `${" ".repeat(i)}k${i}:`).join("\n");
    assert.deepEqual(refusals(stairs), [
      "102: this line is indented more than 100 columns; a policy never nests that deep",
    ]);
    // Brackets in comments do not count, and closed brackets give their depth back: 20 roles written
    // on one line open 60 brackets but never nest more than 4 deep.
    const roles = Array.from(
      { length: 20 },
      (_, i) => `r${i}: {provider: jwt, settings: {scopes: [s]}}`,
    ).join(", ");
    const flat = parsed(
      `# ${"[".repeat(50)}\ndescription: x  # {{{{{{{{{{{{{{{{{{{{\nroles: {${roles}}\nmax_duration: 1h\n`,
    );
    assert.equal(Object.keys(flat.roles).length, 20);
  });

  test("__proto__ is an unknown key and pollutes nothing", () => {
    assert.deepEqual(
      refusals(`${BASE}__proto__: { polluted: true, roles: { admin: { provider: jwt } } }\n`),
      [
        "6: unknown key `__proto__`; the keys allowed here are `description`, `roles`, `max_duration`, `default_duration`, `approvals`, `requesters`, `commands_via_apps`, `auto_approve`, `break_glass`, `extend`, `incident`, `limits`, `notify`, `audit_checklist`, `environment`, `keep_alive_after_job`, `access_review` or `drill`",
      ],
    );
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    // Without roles of its own, a __proto__ key cannot lend the policy some through the prototype chain.
    assert.ok(
      refusals(`description: x\nmax_duration: 1h\n__proto__: { roles: { admin: { provider: jwt } } }\n`).some(
        (l) => l.includes("missing `roles`"),
      ),
    );
  });

  test("role names shared with Object.prototype cannot be looked up by accident", () => {
    const p = parsed(`description: x\nroles:\n  constructor: { provider: jwt }\nmax_duration: 1h\n`);
    const lookup = (policy: Policy, name: string) => policy.roles[name];
    assert.equal(lookup(p, "constructor")?.provider, "jwt");
    const other = parsed(BASE);
    assert.equal(lookup(other, "constructor"), undefined);
    assert.equal(lookup(other, "toString"), undefined);
    assert.equal("hasOwnProperty" in other.roles, false);
  });

  test("user text quoted in messages is one line, without backticks, and bounded", () => {
    const [line] = refusals(`${BASE}"a\`b\\nc${"z".repeat(200)}": 1\n`);
    assert.match(line!, /^6: unknown key `a b cz{55}…`; the keys allowed here are/);
  });

  test("the parsed policy does not share objects with other policies", () => {
    const a = parsed(`${BASE}audit_checklist: [one]\n`);
    const b = parsed(BASE);
    b.audit_checklist.push("mutated");
    assert.deepEqual(parsed(BASE).audit_checklist, [...DEFAULT_AUDIT_CHECKLIST]);
    assert.deepEqual(a.audit_checklist, ["one"]);
  });

  test("property: any text yields a policy or located problems, never an exception", () => {
    const fragments = fc.constantFrom(
      "description: x",
      "roles:",
      "  read:",
      "    provider: jwt",
      "    provider: aws",
      "    settings: {}",
      "max_duration: 4h",
      "max_duration: 0",
      "approvals:",
      "  required: 3",
      '  from: ["@a"]',
      "auto_approve:",
      "  - name: r",
      "    roles: [read]",
      "&a x",
      "*a",
      "[",
      "]",
      "{",
      "}",
      "- ",
      "? ",
      ": ",
      "\t",
      "---",
      "!!binary",
      "__proto__: 1",
      "'",
      '"',
      "#",
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.array(fragments, { maxLength: 20 }).map((l) => l.join("\n")),
          fc.string({ maxLength: 300 }),
        ),
        (text) => {
          const result = parsePolicy(FILE, text);
          if (result.ok) return;
          assert.ok(result.error.length > 0);
          for (const e of result.error) {
            assert.equal(e.file, FILE);
            assert.ok(e.line === null || (Number.isInteger(e.line) && e.line >= 1));
            assert.ok(e.message.length > 0 && !e.message.includes("undefined"), e.message);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe("resource names come from the file name", () => {
  test("accepted names", () => {
    assert.deepEqual(resourceNameFromPath("policies/prod-database.yml"), {
      ok: true,
      value: "prod-database",
    });
    assert.deepEqual(resourceNameFromPath("policies/prod-database.yaml"), {
      ok: true,
      value: "prod-database",
    });
    assert.deepEqual(resourceNameFromPath("some/dir/0ps.yml"), { ok: true, value: "0ps" });
    assert.deepEqual(resourceNameFromPath("policies\\win.yml"), { ok: true, value: "win" });
    assert.equal(parsed(BASE, "policies/other.yaml").resource, "other");
  });

  test("refused names, reported with the other problems", () => {
    assert.deepEqual(refusals(BASE, "policies/Prod_DB.yml"), [
      "-: `Prod_DB` is not a valid resource name: rename the file using lowercase letters, digits and dashes (at most 63 characters), e.g. `prod-database.yml`",
    ]);
    assert.deepEqual(refusals(`${BASE}x: 1\n`, "policies/-x.yml"), [
      "-: `-x` is not a valid resource name: rename the file using lowercase letters, digits and dashes (at most 63 characters), e.g. `prod-database.yml`",
      "6: unknown key `x`; the keys allowed here are `description`, `roles`, `max_duration`, `default_duration`, `approvals`, `requesters`, `commands_via_apps`, `auto_approve`, `break_glass`, `extend`, `incident`, `limits`, `notify`, `audit_checklist`, `environment`, `keep_alive_after_job`, `access_review` or `drill`",
    ]);
    assert.deepEqual(refusals(BASE, "policies/notes.txt"), [
      "-: `notes.txt` is not a policy file name: name it `<resource>.yml`, e.g. `prod-database.yml`",
    ]);
    assert.equal(resourceNameFromPath(`policies/${"a".repeat(64)}.yml`).ok, false);
    assert.equal(resourceNameFromPath("policies/.yml").ok, false);
  });
});

describe("loadPolicies", () => {
  test("keeps the valid policies and lists every file's problems", () => {
    const { policies, errors } = loadPolicies([
      { path: "policies/a.yml", text: BASE },
      { path: "policies/b.yml", text: "description: b\n" },
      { path: "policies/a.yaml", text: BASE },
      { path: "policies/c.yml", text: BASE.replace("Test resource", "C") },
    ]);
    assert.deepEqual([...policies.keys()], ["a", "c"]);
    assert.equal(policies.get("c")!.description, "C");
    assert.deepEqual(errors.map(formatPolicyError), [
      "policies/b.yml: missing `roles` (The roles one may request, by name), e.g. `roles: {read: {provider: postgres, settings: {grant_role: bg_readonly}}}`",
      "policies/b.yml: missing `max_duration` (The longest a grant may last), e.g. `max_duration: 4h`",
      "policies/a.yaml: resource `a` is already defined by policies/a.yml; keep only one of the two files",
    ]);
  });

  test("formatPolicyError puts the line after the file", () => {
    assert.equal(formatPolicyError({ file: "policies/x.yml", line: 7, message: "m" }), "policies/x.yml:7: m");
    assert.equal(
      formatPolicyError({ file: "policies/x.yml", line: null, message: "m" }),
      "policies/x.yml: m",
    );
  });
});

describe("delivery: age", () => {
  const AGE = `description: Interactive access\nroles:\n  read:\n    provider: jwt\n    delivery: age\nmax_duration: 1h\n`;
  test("needs keep_alive_after_job: true, said on the delivery line", () => {
    assert.deepEqual(refusals(AGE), [
      "5: roles.read.delivery is `age`: the credential goes to a person, not to the job, so ending the grant with the job would revoke it at once; set `keep_alive_after_job: true`",
    ]);
  });
  test("with keep_alive_after_job the role carries delivery age; other roles stay job-delivered", () => {
    const policy = parsed(`${AGE}keep_alive_after_job: true\n`);
    assert.equal(policy.roles.read!.delivery, "age");
    assert.equal(parsed(BASE).roles.read!.delivery, undefined);
  });
  test("an unknown delivery is refused", () => {
    assert.match(refusals(AGE.replace("delivery: age", "delivery: email")).join("\n"), /^5: .*delivery/m);
  });
});
