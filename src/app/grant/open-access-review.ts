import { collectAudit } from "../../audit/collect.ts";
import {
  ACCESS_REVIEW_DEFAULTS,
  accessReviewPeriod,
  dueAt,
  mayRequestUnder,
  peopleOf,
  requestersInWords,
  reviewedIn,
  type AccessReviewResource,
  type RecordedUse,
} from "../../core/access-review.ts";
import { effectiveAccess, teamsToExpand } from "../../core/effective-access.ts";
import { ACCESS_REVIEW_LABEL } from "../../core/labels.ts";
import { accessReviewTitle, renderAccessReview } from "../../core/render-access-review.ts";
import type { Policy } from "../../core/types.ts";
import type { Permission } from "../../core/approvers.ts";
import type { GitHubPort } from "../../github/github-port.ts";
import { readAccessReview, recordAccessReview } from "../infra/access-review-records.ts";
import { listAccessReviews } from "../../github/access-review-records.ts";
import type { BreakglassDeps } from "../infra/deps.ts";
import { eligibleApprovers } from "../infra/policy-approvers.ts";
import { loadRepoConfig, type RepoConfig } from "../infra/repo-config.ts";
import { catchUpAccessReview } from "../webhooks/catch-up-access-review.ts";

/** Months this process already saw handled, per repository: after the first sweep of a month, no API call. */
const handled = new WeakMap<BreakglassDeps, Set<string>>();
/**
 * Per process and repository, the periods whose reviews are open: caught up on every sweep, whatever
 * period it is now (a review left open past its month is still watched, and told overdue). Listed from
 * the ledger on the process's first sweep of the repository, which also catches up every review once.
 */
const openReviews = new WeakMap<BreakglassDeps, Map<string, Set<string>>>();
/** A review started this long ago whose issue is not recorded was left by a crash: the next sweep opens it. */
const RESUME_AFTER_MS = 10 * 60_000;

const schedule = (p: Policy) => p.access_review ?? ACCESS_REVIEW_DEFAULTS;

/**
 * The periodic access review (core/access-review.ts): the first sweep of a period opens one issue for the
 * repository listing every resource due for review. Its first ledger record (`access_review_started`,
 * with what the issue lists) decides which process opens it, so two replicas, a restart or a second
 * sweep never open two; nobody with write access can write it (the ledger is the app's). Every sweep
 * then catches up the open reviews (catch-up-access-review.ts). Returns the new issue's number, or null.
 */
export async function openAccessReview(deps: BreakglassDeps, port: GitHubPort): Promise<number | null> {
  if (deps.accessReviews === false) return null;
  const open = await catchUpOpenReviews(deps, port);
  const month = new Date(deps.now()).toISOString().slice(0, 7);
  let seen = handled.get(deps);
  if (!seen) handled.set(deps, (seen = new Set()));
  const memo = `${port.owner}/${port.repo}#${month}`.toLowerCase();
  if (seen.has(memo)) return null;
  const config = await loadRepoConfig(port);
  const policies = [...config.policies.values()];
  const period = accessReviewPeriod(
    deps.now(),
    policies.map((p) => schedule(p).every),
  );
  if (period === null) {
    seen.add(memo);
    return null;
  }
  const existing = await readAccessReview(deps, port, period);
  if (existing.state.issue !== null || existing.problem) {
    if (
      !open.has(period) &&
      existing.state.issue !== null &&
      !existing.problem &&
      !existing.state.completed_at
    ) {
      open.add(period);
      await catchUpAccessReview(deps, port, existing);
    }
    seen.add(memo);
    return null;
  }
  let records = existing;
  if (existing.state.started_at === null) {
    const due = policies.filter((p) => reviewedIn(schedule(p).every, period));
    if (due.length === 0) {
      seen.add(memo);
      return null;
    }
    const resources = await snapshot(deps, port, config, due);
    const repository = await port.repository();
    const links = {
      repository_url: `https://github.com/${port.owner}/${port.repo}`,
      default_branch: repository.default_branch,
      codeowners_path: config.codeownersPath,
    };
    const started = await recordAccessReview(
      deps,
      port,
      period,
      "started",
      { type: "access_review_started", actor: deps.identity.login, period, resources, links },
      `Access review ${period} started: ${resources.length} resource(s).`,
      { firstOnly: true },
    );
    // Another process started it first: it opens the issue (a later sweep finds it recorded).
    if (!started.ok || !started.recorded) return null;
    records = started.records;
  } else if (deps.now() - Date.parse(existing.state.started_at) < RESUME_AFTER_MS) return null;
  const body = renderAccessReview(records.state, `${port.owner}/${port.repo}`, deps.now());
  const owners = [
    ...new Set(
      records.state.resources.flatMap((r) => r.people.filter((p) => p.may_approve).map((p) => p.login)),
    ),
  ].slice(0, 10);
  const issue = await port.createIssue({
    title: accessReviewTitle(period),
    body,
    labels: [ACCESS_REVIEW_LABEL],
    assignees: owners,
  });
  const opened = await recordAccessReview(
    deps,
    port,
    period,
    "opened",
    { type: "access_review_opened", actor: deps.identity.login, issue: issue.number },
    `Access review ${period} opened as #${issue.number}.`,
  );
  if (opened.ok && !opened.recorded && opened.records.state.issue !== issue.number) {
    // A process resuming after a crash raced another one: keep the recorded issue, close this copy.
    await port.createComment(
      issue.number,
      `This copy is not the access review of ${period}: #${opened.records.state.issue} is.`,
    );
    await port.updateIssue(issue.number, { state: "closed", state_reason: "not_planned" });
    return null;
  }
  open.add(period);
  seen.add(memo);
  return issue.number;
}

/** Catches up this repository's open reviews (all of its reviews on the process's first sweep); returns the open periods. */
async function catchUpOpenReviews(deps: BreakglassDeps, port: GitHubPort): Promise<Set<string>> {
  let byRepository = openReviews.get(deps);
  if (!byRepository) openReviews.set(deps, (byRepository = new Map()));
  const key = `${port.owner}/${port.repo}`.toLowerCase();
  let open = byRepository.get(key);
  const first = open === undefined;
  if (!open) byRepository.set(key, (open = new Set()));
  const reviews = first
    ? await listAccessReviews(deps, port)
    : await Promise.all([...open].map((period) => readAccessReview(deps, port, period)));
  for (const records of reviews) {
    const { period, issue, completed_at } = records.state;
    if (records.problem || issue === null || completed_at) open.delete(period);
    else open.add(period);
    if (!records.problem && issue !== null) await catchUpAccessReview(deps, port, records);
  }
  return open;
}

/** What the review lists, per resource: who may request and approve now, and each person's last recorded use. */
async function snapshot(
  deps: BreakglassDeps,
  port: GitHubPort,
  config: RepoConfig,
  due: readonly Policy[],
): Promise<AccessReviewResource[]> {
  const teams = teamsToExpand(new Map(due.map((p) => [p.resource, p])), config.codeowners);
  const teamMembers = new Map(
    await Promise.all(teams.map(async (t) => [t, await port.teamMembers(t)] as const)),
  );
  const access = effectiveAccess({ policies: config.policies, codeowners: config.codeowners, teamMembers });
  const collection = await collectAudit(port, {
    appLogin: deps.identity.login,
    jwks: deps.jwks,
    now: deps.now(),
  });
  const uses: RecordedUse[] = collection.rows
    .filter((r) => r.chain_entries > 0 && r.resource !== null)
    .flatMap((r) => [
      ...(r.requester && r.requested_at
        ? [{ resource: r.resource!, login: r.requester, kind: "requested" as const, at: r.requested_at }]
        : []),
      ...r.approvals
        .filter((a) => a.via !== "auto" && a.via !== "break_glass")
        .map((a) => ({ resource: r.resource!, login: a.login, kind: "approved" as const, at: a.at })),
    ]);
  const now = deps.now();
  const out: AccessReviewResource[] = [];
  const permissions = new Map<string, Permission>();
  for (const policy of [...due].sort((a, b) => a.resource.localeCompare(b.resource))) {
    const terms = schedule(policy);
    const approvers = await eligibleApprovers(port, config, policy);
    const members = (team: string) => teamMembers.get(team.toLowerCase()) ?? [];
    const requesterTeamMembers = (policy.requesters.teams ?? []).flatMap(members);
    // Each person the review lists is checked against the policy's requester rule, as a request would be.
    const listed = [
      ...approvers.keys(),
      ...requesterTeamMembers,
      ...uses.filter((u) => u.resource === policy.resource).map((u) => u.login),
    ].map((l) => l.toLowerCase());
    for (const login of listed)
      if (!permissions.has(login)) permissions.set(login, await port.permission(login));
    out.push({
      resource: policy.resource,
      policy_path: policy.path,
      requesters: requestersInWords(
        policy,
        `${port.owner}/${port.repo}`,
        access.get(policy.resource)?.requesters ?? "",
      ),
      approvals_required: policy.approvals.required,
      people: peopleOf({
        resource: policy.resource,
        approvers,
        requesterTeamMembers,
        mayRequest: (login) =>
          mayRequestUnder(policy, permissions.get(login) ?? "none", (team) =>
            members(team).some((m) => m.toLowerCase() === login),
          ),
        uses,
        nowMs: now,
        unusedAfterDays: terms.unused_after_days,
      }),
      unused_after_days: terms.unused_after_days,
      due_at: dueAt(now, terms.confirm_within_days),
    });
  }
  return out;
}
