/** The policy the app uses, built from a file the schema and the semantic rules accepted, defaults filled in. */
import { parseDuration } from "../duration.ts";
import { DEFAULT_DURATION_CAP, POLICY_DEFAULTS } from "../policy-schema.ts";
import { withProviderDefaults } from "../provider-settings/index.ts";
import type { StepUp, AutoApproveRule, Policy, RoleSpec } from "../types.ts";
import type { RawPolicy, RawRule, Seconds, StepUpSetting } from "./semantic-rules.ts";

export function buildPolicy(resource: string, path: string, raw: RawPolicy, seconds: Seconds): Policy {
  const d = POLICY_DEFAULTS;
  const max = seconds.get("max_duration")!;
  const cap = parseDuration(DEFAULT_DURATION_CAP);
  const roles: Record<string, RoleSpec> = Object.create(null) as Record<string, RoleSpec>;
  for (const [name, role] of Object.entries(raw.roles)) {
    roles[name] = {
      provider: role.provider,
      ...(role.description !== undefined ? { description: role.description } : {}),
      settings: withProviderDefaults(role.provider, role.settings ?? {}),
      ...(role.delivery === "age" ? { delivery: "age" as const } : {}),
    };
  }
  return {
    resource,
    path,
    description: raw.description,
    roles,
    max_duration_seconds: max,
    default_duration_seconds: seconds.get("default_duration") ?? Math.min(cap.ok ? cap.value : 3600, max),
    approvals: {
      required: raw.approvals?.required ?? d.approvals.required,
      from: raw.approvals?.from ? structuredClone(raw.approvals.from) : d.approvals.from,
      timeout_seconds: seconds.get("approvals.timeout") ?? secondsOf(d.approvals.timeout),
      ...stepUpOf(
        raw.approvals?.step_up,
        raw.approvals?.require_hardware_key,
        raw.approvals?.hardware_aaguids,
      ),
      collect_within_seconds:
        seconds.get("approvals.collect_within") ?? secondsOf(d.approvals.collect_within),
    },
    requesters: {
      min_permission: raw.requesters?.min_permission ?? d.requesters.min_permission,
      ...(raw.requesters?.teams ? { teams: [...raw.requesters.teams] } : {}),
    },
    commands_via_apps: [...(raw.commands_via_apps ?? d.commands_via_apps)],
    auto_approve: (raw.auto_approve ?? []).map((rule, i) =>
      toRule(rule, seconds.get(`auto_approve[${i}].max_duration`)),
    ),
    break_glass: { allowed: raw.break_glass?.allowed ?? d.break_glass.allowed, ...breakGlassStepUp(raw) },
    extend: { requires_approval: raw.extend?.requires_approval ?? d.extend.requires_approval },
    incident: {
      require_open_issue: raw.incident?.require_open_issue ?? d.incident.require_open_issue,
      revoke_on_close: raw.incident?.revoke_on_close ?? d.incident.revoke_on_close,
    },
    limits: {
      max_active_grants_per_user:
        raw.limits?.max_active_grants_per_user ?? d.limits.max_active_grants_per_user,
      max_requests_per_user_per_day:
        raw.limits?.max_requests_per_user_per_day ?? d.limits.max_requests_per_user_per_day,
    },
    notify: (raw.notify ?? []).map((t) => ({ ...t })),
    audit_checklist: [...(raw.audit_checklist ?? d.audit_checklist)],
    ...(raw.environment !== undefined ? { environment: raw.environment } : {}),
    keep_alive_after_job: raw.keep_alive_after_job ?? d.keep_alive_after_job,
    access_review: {
      every: raw.access_review?.every ?? d.access_review.every,
      confirm_within_days: raw.access_review?.confirm_within_days ?? d.access_review.confirm_within_days,
      unused_after_days: raw.access_review?.unused_after_days ?? d.access_review.unused_after_days,
    },
    drill: {
      enabled: raw.drill?.enabled ?? d.drill.enabled,
      targets: {
        time_to_grant_seconds:
          seconds.get("drill.targets.time_to_grant") ?? secondsOf(d.drill.targets.time_to_grant),
        time_to_revoke_seconds:
          seconds.get("drill.targets.time_to_revoke") ?? secondsOf(d.drill.targets.time_to_revoke),
      },
    },
  };
}

export function toRule(rule: RawRule, maxSeconds: number | undefined): AutoApproveRule {
  return {
    name: rule.name,
    ...(rule.roles ? { roles: [...rule.roles] } : {}),
    ...(rule.severities ? { severities: [...rule.severities] } : {}),
    ...(maxSeconds !== undefined ? { max_duration_seconds: maxSeconds } : {}),
    ...(rule.on_call_team !== undefined ? { on_call_team: rule.on_call_team } : {}),
    ...(rule.drill_only !== undefined ? { drill_only: rule.drill_only } : {}),
  };
}

export function secondsOf(text: string): number {
  const parsed = parseDuration(text);
  return parsed.ok ? parsed.value : 0;
}

/**
 * A self-approval is an approval: where approvers need step-up and `break_glass.step_up` says
 * nothing, the person breaking the glass needs the same (a stolen session of an on-call engineer
 * must not self-approve what an approver could only sign for). `step_up: none` there opts out.
 */
export function breakGlassStepUp(raw: RawPolicy): { step_up?: StepUp } {
  const own = raw.break_glass?.step_up;
  const aaguids = raw.approvals?.hardware_aaguids;
  if (own !== undefined) return stepUpOf(own, raw.break_glass?.require_hardware_key, aaguids);
  return stepUpOf(
    raw.approvals?.step_up,
    raw.break_glass?.require_hardware_key ?? raw.approvals?.require_hardware_key,
    aaguids,
  );
}

/** `none` / one method / a list → the methods any of which satisfies the step-up, and the hardware rule; nothing when none. */
export function stepUpOf(
  setting: StepUpSetting | undefined,
  hardware: boolean | undefined,
  aaguids?: readonly string[],
): { step_up?: StepUp } {
  const methods =
    setting === undefined || setting === "none" ? [] : Array.isArray(setting) ? [...setting] : [setting];
  return methods.length
    ? {
        step_up: {
          methods,
          require_hardware_key: hardware ?? false,
          ...(aaguids?.length ? { hardware_aaguids: aaguids.map((a) => a.toLowerCase()) } : {}),
        },
      }
    : {};
}
