/** The rules of a policy that the schema cannot express (durations, approvers, providers' limits). */
import { parseDuration } from "../duration.ts";
import type { NotifyTarget, Policy, ProviderName, Severity, StepUpMethod } from "../types.ts";
import { type Located, type Segment } from "./policy-errors.ts";
import { type Locate } from "./read-yaml.ts";
import { closest, code, dotted, isRecord, list, show, valueAt } from "./text.ts";
import {
  DEFAULT_MAX_SESSION_SECONDS as AWS_MIN_SESSION_SECONDS,
  IAM_MAX_SESSION_SECONDS as AWS_MAX_SESSION_SECONDS,
} from "../provider-settings/aws.ts";

export type StepUpSetting = "none" | StepUpMethod | StepUpMethod[];

export interface RawRole {
  provider: ProviderName;
  description?: string;
  settings?: Record<string, unknown>;
  delivery?: "job" | "age";
}
export interface RawRule {
  name: string;
  roles?: string[];
  severities?: Severity[];
  max_duration?: string;
  on_call_team?: string;
  drill_only?: boolean;
}
/** The file's data once the schema has accepted it. */
export interface RawPolicy {
  description: string;
  roles: Record<string, RawRole>;
  approvals?: {
    required?: number;
    from?: "codeowners" | string[];
    step_up?: StepUpSetting;
    require_hardware_key?: boolean;
    hardware_aaguids?: string[];
  };
  requesters?: { min_permission?: Policy["requesters"]["min_permission"]; teams?: string[] };
  commands_via_apps?: string[];
  auto_approve?: RawRule[];
  break_glass?: { allowed?: boolean; step_up?: StepUpSetting; require_hardware_key?: boolean };
  extend?: { requires_approval?: boolean };
  incident?: { require_open_issue?: boolean; revoke_on_close?: boolean };
  limits?: { max_active_grants_per_user?: number; max_requests_per_user_per_day?: number };
  notify?: NotifyTarget[];
  audit_checklist?: string[];
  environment?: string;
  keep_alive_after_job?: boolean;
  drill?: { enabled?: boolean };
  access_review?: {
    every?: "monthly" | "quarterly" | "off";
    confirm_within_days?: number;
    unused_after_days?: number;
  };
}

/** Seconds of every duration that parsed, keyed by its dotted path. */
export type Seconds = Map<string, number>;

export function checkSemantics(data: unknown, locate: Locate): { problems: Located[]; seconds: Seconds } {
  const problems: Located[] = [];
  const seconds: Seconds = new Map();
  if (!isRecord(data)) return { problems, seconds };

  for (const path of durationPaths(data)) {
    const value = valueAt(data, path);
    if (typeof value !== "string") continue;
    const parsed = parseDuration(value);
    if (parsed.ok) seconds.set(dotted(path), parsed.value);
    else problems.push({ line: locate.value(path), message: `${dotted(path)}: ${parsed.error}` });
  }
  const max = seconds.get("max_duration");
  const def = seconds.get("default_duration");
  if (max !== undefined && def !== undefined && def > max) {
    problems.push({
      line: locate.value(["default_duration"]),
      message: `default_duration (${show(data.default_duration)}) is longer than max_duration (${show(data.max_duration)}); shorten default_duration or raise max_duration`,
    });
  }

  const approvals = isRecord(data.approvals) ? data.approvals : {};
  if (
    Array.isArray(approvals.from) &&
    typeof approvals.required === "number" &&
    approvals.required > approvals.from.length
  ) {
    const n = approvals.from.length;
    problems.push({
      line: locate.value(["approvals", "required"]),
      message: `approvals.required is ${approvals.required} but approvals.from lists only ${n} approver${n === 1 ? "" : "s"}; lower \`required\` to at most ${n} or add approvers to \`from\``,
    });
  }

  for (const [name, role] of Object.entries(isRecord(data.roles) ? data.roles : {})) {
    if (isRecord(role) && role.delivery === "age" && data.keep_alive_after_job !== true) {
      problems.push({
        line: locate.value(["roles", name, "delivery"]),
        message: `roles.${name}.delivery is \`age\`: the credential goes to a person, not to the job, so ending the grant with the job would revoke it at once; set \`keep_alive_after_job: true\``,
      });
    }
  }

  const roleNames = isRecord(data.roles) ? Object.keys(data.roles) : [];
  const rules = Array.isArray(data.auto_approve) ? data.auto_approve : [];
  const ruleNames = new Set<string>();
  rules.forEach((rule, i) => {
    if (!isRecord(rule)) return;
    const at = (...rest: Segment[]): Segment[] => ["auto_approve", i, ...rest];
    if (typeof rule.name === "string") {
      if (ruleNames.has(rule.name)) {
        problems.push({
          line: locate.value(at("name")),
          message: `auto_approve[${i}].name ${code(rule.name)} is used by an earlier rule; give each rule its own name`,
        });
      }
      ruleNames.add(rule.name);
    }
    const ruleMax = seconds.get(`auto_approve[${i}].max_duration`);
    if (ruleMax !== undefined && max !== undefined && ruleMax > max) {
      problems.push({
        line: locate.value(at("max_duration")),
        message: `auto_approve[${i}].max_duration (${show(rule.max_duration)}) is longer than the policy's max_duration (${show(data.max_duration)}); lower it to at most ${show(data.max_duration)}`,
      });
    }
    if (Array.isArray(rule.roles)) {
      rule.roles.forEach((name, j) => {
        if (typeof name !== "string" || roleNames.length === 0 || roleNames.includes(name)) return;
        const guess = closest(name, roleNames);
        problems.push({
          line: locate.value(at("roles", j)),
          message: `auto_approve[${i}].roles names ${code(name)}, which is not a role of this policy; ${guess ? `did you mean ${code(guess)}?` : `the roles are ${list(roleNames)}`}`,
        });
      });
    }
    const conditions = ["roles", "severities", "max_duration", "on_call_team"].filter(
      (k) => rule[k] !== undefined,
    );
    if (conditions.length === 0 && rule.drill_only !== true) {
      problems.push({
        line: locate.value(at()),
        message: `auto_approve[${i}] states no condition, so it would approve every request; add \`roles\`, \`severities\`, \`max_duration\`, \`on_call_team\` or \`drill_only: true\``,
      });
    }
  });

  for (const [name, role] of Object.entries(isRecord(data.roles) ? data.roles : {})) {
    const session = seconds.get(`roles.${name}.settings.max_session`);
    if (
      isRecord(role) &&
      session !== undefined &&
      (session < AWS_MIN_SESSION_SECONDS || session > AWS_MAX_SESSION_SECONDS)
    ) {
      problems.push({
        line: locate.value(["roles", name, "settings", "max_session"]),
        message: `roles.${name}.settings.max_session must be between 1h and 12h, the range IAM allows for a role's MaxSessionDuration`,
      });
    }
  }
  return { problems, seconds };
}

export function durationPaths(data: Record<string, unknown>): Segment[][] {
  const paths: Segment[][] = [
    ["max_duration"],
    ["default_duration"],
    ["approvals", "timeout"],
    ["approvals", "collect_within"],
  ];
  paths.push(["drill", "targets", "time_to_grant"], ["drill", "targets", "time_to_revoke"]);
  if (Array.isArray(data.auto_approve))
    data.auto_approve.forEach((_, i) => paths.push(["auto_approve", i, "max_duration"]));
  if (isRecord(data.roles)) {
    for (const [name, role] of Object.entries(data.roles)) {
      if (isRecord(role) && role.provider === "aws") paths.push(["roles", name, "settings", "max_session"]);
    }
  }
  return paths;
}
