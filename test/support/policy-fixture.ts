import type { Policy } from "../../src/core/types.ts";

const HOUR = 3600;

/** A valid policy for unit tests of pure logic: two postgres roles, one approval, 1 h default, 4 h at most. */
export function policy(resource: string, overrides: Partial<Policy> = {}): Policy {
  return {
    resource,
    path: `policies/${resource}.yml`,
    description: `${resource} for tests`,
    roles: {
      read: { provider: "postgres", settings: {} },
      admin: { provider: "postgres", settings: {} },
    },
    max_duration_seconds: 4 * HOUR,
    default_duration_seconds: HOUR,
    approvals: { required: 1, from: "codeowners", timeout_seconds: HOUR, collect_within_seconds: HOUR },
    requesters: { min_permission: "write" },
    commands_via_apps: [],
    auto_approve: [],
    break_glass: { allowed: false },
    extend: { requires_approval: true },
    incident: { require_open_issue: false, revoke_on_close: false },
    limits: { max_active_grants_per_user: 1, max_requests_per_user_per_day: 5 },
    notify: [],
    audit_checklist: ["Review the session"],
    keep_alive_after_job: false,
    drill: { enabled: false, targets: { time_to_grant_seconds: 600, time_to_revoke_seconds: 600 } },
    ...overrides,
  };
}
