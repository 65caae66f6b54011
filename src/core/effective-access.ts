import { resolveApprovers, teamsAmong } from "./approvers.ts";
import type { CompiledCodeowners } from "./codeowners.ts";
import { formatDuration } from "./duration.ts";
import type { Policy, StepUp } from "./types.ts";

/**
 * Who may do what on each resource, in words a reviewer can compare: the effective access a set
 * of policies and a CODEOWNERS file give, teams expanded into people. Pure: the caller expands the
 * teams (`teamsToExpand`) and says which CODEOWNERS teams may own (a team needs write access).
 */
export interface ResourceAccess {
  resource: string;
  /** Who may open a request, as a sentence (`write access or more, and a member of @acme/oncall (olga)`). */
  requesters: string;
  /** Sorted logins, each with how they are eligible (`bob (via @acme/dba)`). */
  approvers: string[];
  approvalsRequired: number;
  maxDuration: string;
  defaultDuration: string;
  autoApproval: string[];
  stepUp: string;
  breakGlass: string;
}

export interface AccessInputs {
  policies: ReadonlyMap<string, Policy>;
  codeowners: CompiledCodeowners | null;
  /** Members of each team ("@org/slug", lower case keys), as the API answered. */
  teamMembers: ReadonlyMap<string, readonly string[]>;
  /** CODEOWNERS teams that cannot own a path (no write access of their own): they approve nothing. */
  teamsWithoutWrite?: ReadonlySet<string>;
}

/** Every team whose members the access of these policies depends on. */
export function teamsToExpand(
  policies: ReadonlyMap<string, Policy>,
  codeowners: CompiledCodeowners | null,
): string[] {
  const teams = new Set<string>();
  for (const p of policies.values()) {
    const owners =
      p.approvals.from === "codeowners" ? (codeowners?.ownersOf(p.path).owners ?? []) : p.approvals.from;
    for (const t of teamsAmong(owners)) teams.add(t.toLowerCase());
    for (const t of p.requesters.teams ?? []) teams.add(t.toLowerCase());
    for (const r of p.auto_approve) if (r.on_call_team) teams.add(r.on_call_team.toLowerCase());
  }
  return [...teams].sort();
}

const members = (team: string, inputs: AccessInputs): string => {
  const list = inputs.teamMembers.get(team.toLowerCase()) ?? [];
  return `${team} (${list.length ? [...list].sort().join(", ") : "no members"})`;
};

function stepUpText(s: StepUp | undefined): string {
  if (!s) return "none";
  return `${s.methods.join(" or ")}${s.require_hardware_key ? ", hardware-backed key only" : ""}`;
}

export function effectiveAccess(inputs: AccessInputs): Map<string, ResourceAccess> {
  const out = new Map<string, ResourceAccess>();
  const lowerTeams = new Map([...inputs.teamMembers].map(([k, v]) => [k.toLowerCase(), v]));
  for (const p of [...inputs.policies.values()].sort((a, b) => a.resource.localeCompare(b.resource))) {
    const codeowners = (inputs.codeowners?.ownersOf(p.path).owners ?? []).filter(
      (o) => !inputs.teamsWithoutWrite?.has(o.toLowerCase()),
    );
    const eligible = resolveApprovers(
      p,
      codeowners,
      new Map(
        [...teamsAmong(p.approvals.from === "codeowners" ? codeowners : p.approvals.from)].map((t) => [
          t,
          lowerTeams.get(t.toLowerCase()) ?? [],
        ]),
      ),
    );
    const approvers = [...eligible]
      .map(
        ([login, e]) =>
          `${login}${e.team ? ` (via ${e.team})` : e.via === "codeowner" ? " (CODEOWNERS)" : " (listed)"}`,
      )
      .sort();
    const requesters = `${p.requesters.min_permission} access or more${p.requesters.teams?.length ? `, and a member of ${p.requesters.teams.map((t) => members(t, inputs)).join(" or ")}` : ""}`;
    const autoApproval = p.auto_approve.map((r) => {
      const terms = [
        r.roles ? `roles ${r.roles.join(", ")}` : "any role",
        r.severities ? `severity ${r.severities.join(", ")}` : "any severity",
        r.max_duration_seconds !== undefined ? `at most ${formatDuration(r.max_duration_seconds)}` : null,
        r.on_call_team ? `requester in ${members(r.on_call_team, inputs)}` : null,
        r.drill_only ? "drills only" : null,
      ].filter(Boolean);
      return `${r.name}: ${terms.join("; ")}`;
    });
    out.set(p.resource, {
      resource: p.resource,
      requesters,
      approvers,
      approvalsRequired: p.approvals.required,
      maxDuration: formatDuration(p.max_duration_seconds),
      defaultDuration: formatDuration(p.default_duration_seconds),
      autoApproval,
      stepUp: stepUpText(p.approvals.step_up),
      breakGlass: p.break_glass.allowed
        ? `allowed (self-approval), step-up: ${stepUpText(p.break_glass.step_up)}`
        : "not allowed",
    });
  }
  return out;
}

export interface AccessChange {
  resource: string;
  kind: "added" | "removed" | "changed" | "unchanged";
  /** One line per field that differs: [field, before, after]. */
  fields: Array<[string, string, string]>;
}

const FIELDS: Array<[keyof ResourceAccess, string]> = [
  ["requesters", "Who may request"],
  ["approvers", "Who may approve"],
  ["approvalsRequired", "Approvals required"],
  ["maxDuration", "Max duration"],
  ["defaultDuration", "Default duration"],
  ["autoApproval", "Auto-approval rules"],
  ["stepUp", "Step-up for approvers"],
  ["breakGlass", "Break-glass"],
];

const show = (v: ResourceAccess[keyof ResourceAccess] | undefined): string =>
  v === undefined ? "—" : Array.isArray(v) ? (v.length ? v.join("; ") : "nobody / none") : String(v);

export function diffAccess(
  before: ReadonlyMap<string, ResourceAccess>,
  after: ReadonlyMap<string, ResourceAccess>,
): AccessChange[] {
  const names = [...new Set([...before.keys(), ...after.keys()])].sort();
  return names.map((resource) => {
    const b = before.get(resource);
    const a = after.get(resource);
    const fields: Array<[string, string, string]> = [];
    for (const [key, label] of FIELDS) {
      const x = show(b?.[key]);
      const y = show(a?.[key]);
      if (x !== y) fields.push([label, x, y]);
    }
    const kind = !b ? "added" : !a ? "removed" : fields.length ? "changed" : "unchanged";
    return { resource, kind, fields };
  });
}

/** For a list field, who or what appears and disappears (`+ mallory (CODEOWNERS)`, `− bob (via @acme/dba)`). */
function listDelta(
  before: ResourceAccess | undefined,
  after: ResourceAccess | undefined,
  key: "approvers" | "autoApproval",
): string[] {
  const b = new Set(before?.[key] ?? []);
  const a = new Set(after?.[key] ?? []);
  return [
    ...[...a].filter((x) => !b.has(x)).map((x) => `+ ${x}`),
    ...[...b].filter((x) => !a.has(x)).map((x) => `− ${x}`),
  ];
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** The before/after of effective access as Markdown, changed resources first. */
export function renderAccessDiff(
  before: ReadonlyMap<string, ResourceAccess>,
  after: ReadonlyMap<string, ResourceAccess>,
): string {
  const changes = diffAccess(before, after);
  const lines: string[] = [];
  const touched = changes.filter((c) => c.kind !== "unchanged");
  if (touched.length === 0)
    lines.push(
      "No change to who may request or approve anything, durations, auto-approval, step-up or break-glass.",
    );
  for (const c of touched) {
    lines.push(`### \`${c.resource}\` — ${c.kind}`, "");
    for (const key of ["approvers", "autoApproval"] as const) {
      const delta = listDelta(before.get(c.resource), after.get(c.resource), key);
      if (delta.length)
        lines.push(
          `${key === "approvers" ? "Approvers" : "Auto-approval rules"}: ${delta.map((d) => `\`${cell(d)}\``).join(", ")}`,
          "",
        );
    }
    lines.push("| | Before | After |", "| --- | --- | --- |");
    for (const [label, x, y] of c.fields) lines.push(`| ${label} | ${cell(x)} | ${cell(y)} |`);
    lines.push("");
  }
  const same = changes.filter((c) => c.kind === "unchanged").map((c) => `\`${c.resource}\``);
  if (same.length) lines.push(`Unchanged: ${same.join(", ")}.`);
  return lines.join("\n");
}
