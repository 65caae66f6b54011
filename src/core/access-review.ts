/**
 * Periodic access reviews (issue 21): once a period the app opens one issue per repository listing,
 * per resource, who may request and who may approve, when each person last used it, and whose
 * eligibility went unused. A resource's owners (the people who may approve its requests) confirm it
 * with a `/confirm <resource>` comment; the review's state is a fold over the app's own signed
 * records, never the issue body (a writer can edit it and tick its boxes). Pure: no I/O.
 */
import { hasWriteAccess, permissionAtLeast, type Eligibility, type Permission } from "./approvers.ts";
import type { Policy } from "./types.ts";
import { isBot } from "./approval-rules.ts";
import { ok, type Result } from "./result.ts";
import { refuse, type Refusal } from "./refusal.ts";

export const ACCESS_REVIEW_SCHEDULES = ["monthly", "quarterly", "off"] as const;
export type AccessReviewSchedule = (typeof ACCESS_REVIEW_SCHEDULES)[number];
export const ACCESS_REVIEW_DEFAULTS = {
  every: "monthly" as AccessReviewSchedule,
  confirm_within_days: 14,
  unused_after_days: 90,
};
const DAY_MS = 86_400_000;

/** The title prefix of the app's review issues; the period follows (`2026-12`, `2026-Q4`). */
export const ACCESS_REVIEW_TITLE = "[breakglass access review]";
const TITLE = /^\[breakglass access review\] (\d{4}-(?:\d{2}|Q[1-4]))(?:\s|$)/;

/** The period an access-review issue's title names, or null. A hint only: the ledger says which issue it is. */
export function accessReviewPeriodOfTitle(title: string): string | null {
  return TITLE.exec(title)?.[1] ?? null;
}

/**
 * The period `nowMs` falls in for a repository whose resources review on these schedules: the month
 * (`YYYY-MM`, UTC) when any resource reviews monthly; otherwise, when any reviews quarterly, the
 * quarter (`YYYY-Qn`); null when every resource is `off`.
 */
export function accessReviewPeriod(nowMs: number, schedules: readonly AccessReviewSchedule[]): string | null {
  const d = new Date(nowMs);
  if (schedules.includes("monthly")) return d.toISOString().slice(0, 7);
  if (schedules.includes("quarterly")) return `${d.getUTCFullYear()}-Q${Math.floor(d.getUTCMonth() / 3) + 1}`;
  return null;
}

/** Whether a resource on `schedule` is reviewed in `period` (a quarterly one only in a quarter's first month). */
export function reviewedIn(schedule: AccessReviewSchedule, period: string): boolean {
  if (schedule === "off") return false;
  if (schedule === "monthly" || /Q/.test(period)) return true;
  return (Number(period.slice(5, 7)) - 1) % 3 === 0;
}

/** One person's access to one resource, as the review shows it. */
export interface AccessReviewPerson {
  login: string;
  /** Named by the policy's requester teams (or seen requesting it): they may open requests. */
  may_request: boolean;
  /** How they may approve (`CODEOWNERS`, `via @acme/dba`, `listed`), or null. */
  may_approve: string | null;
  /** Their last request of this resource the app recorded (ISO), or null. */
  last_requested: string | null;
  /** Their last approval of a request for this resource (ISO), or null. */
  last_approved: string | null;
  /** Eligible, but neither requested nor approved within the policy's `unused_after_days`. */
  unused: boolean;
}

export interface AccessReviewResource {
  resource: string;
  policy_path: string;
  /** Who may request, in words (`write access or more, and a member of @acme/oncall (olga)`). */
  requesters: string;
  approvals_required: number;
  people: AccessReviewPerson[];
  unused_after_days: number;
  /** Confirmation is due by then (ISO): later, the resource is overdue. */
  due_at: string;
}

export type AccessReviewEvent =
  /** The first record, written before the issue exists: it decides which process opens the review. */
  | {
      type: "access_review_started";
      actor: string;
      period: string;
      resources: AccessReviewResource[];
      /** Where the review's "open a PR to remove" links point. */
      links: AccessReviewLinks;
    }
  | { type: "access_review_opened"; actor: string; issue: number }
  | {
      type: "access_review_confirmed";
      actor: string;
      resource: string;
      comment_id: number;
      /** How the person was an owner of the resource when they confirmed. */
      via: Eligibility["via"];
      team?: string;
    }
  | { type: "access_review_completed"; actor: string }
  /** The sweep found these resources past their due date unconfirmed, and told their owners (once). */
  | { type: "access_review_overdue"; actor: string; resources: string[]; owners: string[] };

export interface AccessReviewConfirmation {
  actor: string;
  at: string;
  comment_id: number;
}

export interface AccessReviewLinks {
  /** `https://github.com/<owner>/<repo>` */
  repository_url: string;
  default_branch: string;
  /** Where CODEOWNERS lives (`.github/CODEOWNERS`), or null. */
  codeowners_path: string | null;
}

export interface AccessReviewState {
  period: string;
  links: AccessReviewLinks | null;
  /** When the first record was written (the review's start; due dates count from it). */
  started_at: string | null;
  issue: number | null;
  resources: AccessReviewResource[];
  confirmations: Map<string, AccessReviewConfirmation>;
  completed_at: string | null;
  /** When each resource's owners were told it is overdue (ISO). */
  overdue_notified: Map<string, string>;
}

/** The review as its records say, oldest first. */
export function foldAccessReview(
  period: string,
  entries: ReadonlyArray<{ at: string; event: AccessReviewEvent }>,
): AccessReviewState {
  const state: AccessReviewState = {
    period,
    links: null,
    started_at: null,
    issue: null,
    resources: [],
    confirmations: new Map(),
    completed_at: null,
    overdue_notified: new Map(),
  };
  for (const { at, event } of entries) {
    if (event.type === "access_review_started" && state.started_at === null) {
      state.started_at = at;
      state.resources = event.resources;
      state.links = event.links;
    } else if (event.type === "access_review_opened" && state.issue === null) state.issue = event.issue;
    else if (event.type === "access_review_confirmed" && !state.confirmations.has(event.resource)) {
      state.confirmations.set(event.resource, { actor: event.actor, at, comment_id: event.comment_id });
    } else if (event.type === "access_review_completed") state.completed_at ??= at;
    else if (event.type === "access_review_overdue")
      for (const r of event.resources) if (!state.overdue_notified.has(r)) state.overdue_notified.set(r, at);
  }
  return state;
}

export const unconfirmed = (state: AccessReviewState): AccessReviewResource[] =>
  state.resources.filter((r) => !state.confirmations.has(r.resource));

/** Resources not confirmed by their due date. */
export function overdueResources(state: AccessReviewState, nowMs: number): AccessReviewResource[] {
  return unconfirmed(state).filter((r) => Date.parse(r.due_at) <= nowMs);
}

/**
 * What the sweep tells about now: resources overdue whose owners were not told yet, and those owners
 * (who may approve them; none of them confirmed, or the resource would not be overdue). Null when nothing.
 */
export function overdueNotice(
  state: AccessReviewState,
  nowMs: number,
): { resources: string[]; owners: string[] } | null {
  if (state.completed_at || state.issue === null) return null;
  const due = overdueResources(state, nowMs).filter((r) => !state.overdue_notified.has(r.resource));
  if (due.length === 0) return null;
  const owners = new Map<string, string>();
  for (const r of due)
    for (const p of r.people) if (p.may_approve) owners.set(p.login.toLowerCase(), p.login);
  return {
    resources: due.map((r) => r.resource),
    owners: [...owners.values()].sort((a, b) => a.localeCompare(b)),
  };
}

/** The person behind a `/confirm`, with how they own each resource under the policy in force. */
export interface ConfirmActor {
  login: string;
  type: string;
  permission: Permission;
  /** Their eligibility to approve `resource` now (the same rule as approving its requests), or null. */
  eligibility: (resource: string) => Eligibility | null;
}

/**
 * Decides a `/confirm <resource>` or `/confirm all`: only a person (not a bot) with write access who
 * may approve the resource's requests confirms it. `all` confirms what the person owns and is still
 * unconfirmed. Returns the confirmations to record.
 */
export function decideConfirm(
  state: AccessReviewState,
  actor: ConfirmActor,
  args: string,
  commentId: number,
): Result<Array<Extract<AccessReviewEvent, { type: "access_review_confirmed" }>>, Refusal> {
  if (isBot(actor))
    return refuse("bot_approver", "Bots and apps cannot confirm an access review; a person must.");
  if (state.completed_at)
    return refuse("review_completed", "Every resource of this review is confirmed already.");
  const words = args.split(/[\s,]+/).filter(Boolean);
  if (words.length === 0)
    return refuse(
      "invalid_command",
      `Write \`/confirm <resource>\` or \`/confirm all\`; the resources are ${state.resources.map((r) => `\`${r.resource}\``).join(", ")}.`,
    );
  if (!hasWriteAccess(actor.permission))
    return refuse(
      "insufficient_permission",
      `Confirming needs write access to this repository; @${actor.login} has ${actor.permission}.`,
    );
  const all = words.length === 1 && words[0]!.toLowerCase() === "all";
  const targets = all ? unconfirmed(state) : [];
  if (!all) {
    for (const word of words) {
      const found = state.resources.find((r) => r.resource === word.replace(/^`|`$/g, ""));
      if (!found)
        return refuse(
          "unknown_resource",
          `\`${word.slice(0, 80)}\` is not a resource of this review; it lists ${state.resources.map((r) => `\`${r.resource}\``).join(", ")}.`,
        );
      if (state.confirmations.has(found.resource))
        return refuse(
          "already_confirmed",
          `\`${found.resource}\` was confirmed by @${state.confirmations.get(found.resource)!.actor} already.`,
        );
      if (!targets.includes(found)) targets.push(found);
    }
  }
  const owned = targets.filter((r) => actor.eligibility(r.resource) !== null);
  const foreign = targets.filter((r) => actor.eligibility(r.resource) === null);
  if (owned.length === 0 || (!all && foreign.length))
    return refuse(
      "not_codeowner",
      all
        ? `@${actor.login} may approve none of the resources still to confirm (${targets.map((r) => `\`${r.resource}\``).join(", ") || "none"}); only each resource's owners (the CODEOWNERS of its policy) confirm it.`
        : `Only the owners of a resource (the CODEOWNERS of its policy, who approve its requests) may confirm it; @${actor.login} is not an owner of ${foreign.map((r) => `\`${r.resource}\``).join(", ")}.`,
    );
  return ok(
    owned.map((r) => {
      const e = actor.eligibility(r.resource)!;
      return {
        type: "access_review_confirmed" as const,
        actor: actor.login,
        resource: r.resource,
        comment_id: commentId,
        via: e.via,
        ...(e.team ? { team: e.team } : {}),
      };
    }),
  );
}

/** One use the app recorded: someone requested, or approved a request for, a resource. */
export interface RecordedUse {
  resource: string;
  login: string;
  kind: "requested" | "approved";
  at: string;
}

/**
 * Who may request a resource, in words: the policy's rule as it is. Without requester teams that is
 * everyone who can open an issue in the repository with the policy's least permission, who are not
 * listed one by one (GitHub has no list of who can open an issue); with teams, their members.
 */
export function requestersInWords(
  policy: Pick<Policy, "requesters">,
  repository: string,
  /** The teams' sentence, members expanded (`write access or more, and a member of @acme/oncall (olga)`). */
  withTeams: string,
): string {
  const min = policy.requesters.min_permission;
  return policy.requesters.teams?.length
    ? withTeams
    : `anyone who can open an issue in ${repository} and has ${min} access or more to it, not listed one by one: the table checks each person who may approve or has requested`;
}

/** Whether a person may request under the policy: the least permission and, when teams are listed, a member of one. */
export const mayRequestUnder = (
  policy: Pick<Policy, "requesters">,
  permission: Permission,
  memberOf: (team: string) => boolean,
): boolean =>
  permissionAtLeast(permission, policy.requesters.min_permission) &&
  (!policy.requesters.teams?.length || policy.requesters.teams.some(memberOf));

/**
 * The people of one resource: its eligible approvers, the members of its requester teams, and whoever
 * the records show using it; each with their last request and approval, flagged when eligible but unused.
 */
export function peopleOf(input: {
  resource: string;
  approvers: ReadonlyMap<string, Eligibility>;
  /** Members of the policy's requester teams (listed whatever their use); empty without teams. */
  requesterTeamMembers: readonly string[];
  /** Whether this person (lower case) may request the resource now ({@link mayRequestUnder}). */
  mayRequest: (login: string) => boolean;
  uses: readonly RecordedUse[];
  nowMs: number;
  unusedAfterDays: number;
}): AccessReviewPerson[] {
  const mine = input.uses.filter((u) => u.resource === input.resource);
  const logins = new Map<string, string>();
  const add = (login: string) =>
    void (logins.has(login.toLowerCase()) || logins.set(login.toLowerCase(), login));
  for (const login of input.approvers.keys()) add(login);
  for (const login of input.requesterTeamMembers) add(login);
  for (const u of mine) add(u.login);
  const latest = (login: string, kind: RecordedUse["kind"]) =>
    mine
      .filter((u) => u.kind === kind && u.login.toLowerCase() === login)
      .map((u) => u.at)
      .sort()
      .pop() ?? null;
  const since = input.nowMs - input.unusedAfterDays * DAY_MS;
  return [...logins]
    .map(([key, login]) => {
      const e = input.approvers.get(key) ?? null;
      const last_requested = latest(key, "requested");
      const last_approved = latest(key, "approved");
      const may_request = input.mayRequest(key);
      const eligible = may_request || e !== null;
      const lastUse = [last_requested, last_approved]
        .filter((x): x is string => x !== null)
        .sort()
        .pop();
      return {
        login,
        may_request,
        may_approve: e ? (e.team ? `via ${e.team}` : e.via === "codeowner" ? "CODEOWNERS" : "listed") : null,
        last_requested,
        last_approved,
        unused: eligible && (lastUse === undefined || Date.parse(lastUse) < since),
      };
    })
    .sort((a, b) => a.login.localeCompare(b.login));
}

export const dueAt = (openedAtMs: number, days: number): string =>
  new Date(openedAtMs + days * DAY_MS).toISOString();

/** One resource of one review, as the dashboard and `breakglass audit export --access-reviews` show it. */
export interface AccessReviewRow {
  repository: string;
  period: string;
  issue: number | null;
  resource: string;
  status: "confirmed" | "to_confirm" | "overdue";
  due_at: string;
  confirmed_by: string | null;
  confirmed_at: string | null;
  /** Who may approve it, when the review opened. */
  approvers: string[];
  /** Eligible people flagged unused. */
  unused: string[];
  started_at: string | null;
  /** When its owners were told it is overdue (on the issue and the policy's notify targets), or null. */
  overdue_notified_at: string | null;
}

export function accessReviewRows(
  state: AccessReviewState,
  repository: string,
  nowMs: number,
): AccessReviewRow[] {
  return state.resources.map((r) => {
    const c = state.confirmations.get(r.resource) ?? null;
    return {
      repository,
      period: state.period,
      issue: state.issue,
      resource: r.resource,
      status: c ? "confirmed" : Date.parse(r.due_at) <= nowMs ? "overdue" : "to_confirm",
      due_at: r.due_at,
      confirmed_by: c?.actor ?? null,
      confirmed_at: c?.at ?? null,
      approvers: r.people.filter((p) => p.may_approve).map((p) => p.login),
      unused: r.people.filter((p) => p.unused).map((p) => p.login),
      started_at: state.started_at,
      overdue_notified_at: state.overdue_notified.get(r.resource) ?? null,
    };
  });
}
