import { collectAudit } from "../../audit/collect.ts";
import {
  ACCESS_REVIEW_DEFAULTS,
  accessReviewPeriod,
  dueAt,
  peopleOf,
  reviewedIn,
  type AccessReviewResource,
  type RecordedUse,
} from "../../core/access-review.ts";
import { effectiveAccess, teamsToExpand } from "../../core/effective-access.ts";
import { ACCESS_REVIEW_LABEL } from "../../core/labels.ts";
import { accessReviewTitle, renderAccessReview } from "../../core/render-access-review.ts";
import type { Policy } from "../../core/types.ts";
import type { GitHubPort } from "../../github/github-port.ts";
import { readAccessReview, recordAccessReview } from "../infra/access-review-records.ts";
import type { BreakglassDeps } from "../infra/deps.ts";
import { eligibleApprovers } from "../infra/policy-approvers.ts";
import { loadRepoConfig, type RepoConfig } from "../infra/repo-config.ts";
import { accessReviewLockKey, renderAccessReviewIssue } from "../webhooks/access-review-issue.ts";
import {
  handleAccessReviewComment,
  mayBeAccessReviewCommand,
} from "../webhooks/handle-access-review-comment.ts";

/** Months this process already saw handled, per repository: after the first sweep of a month, no API call. */
const handled = new WeakMap<BreakglassDeps, Set<string>>();
/** The period of a review still open, per repository and month, so later sweeps skip the configuration. */
const openPeriods = new Map<string, string>();
/** A review started this long ago whose issue is not recorded was left by a crash: the next sweep opens it. */
const RESUME_AFTER_MS = 10 * 60_000;

const schedule = (p: Policy) => p.access_review ?? ACCESS_REVIEW_DEFAULTS;

/**
 * The periodic access review (core/access-review.ts): the first sweep of a period opens one issue for the
 * repository listing every resource due for review. Its first ledger record (`access_review_started`,
 * with what the issue lists) decides which process opens it, so two replicas, a restart or a second
 * sweep never open two; nobody with write access can write it (the ledger is the app's). Returns the
 * new issue's number, or null.
 */
export async function openAccessReview(deps: BreakglassDeps, port: GitHubPort): Promise<number | null> {
  if (deps.accessReviews === false) return null;
  const month = new Date(deps.now()).toISOString().slice(0, 7);
  let seen = handled.get(deps);
  if (!seen) handled.set(deps, (seen = new Set()));
  const memo = `${port.owner}/${port.repo}#${month}`.toLowerCase();
  if (seen.has(memo)) return null;
  // A review this process saw open: only its records and its issue are read again (no configuration).
  const open = openPeriods.get(memo);
  if (open) {
    const records = await readAccessReview(deps, port, open);
    if (records.state.issue !== null || records.problem) {
      if (records.state.completed_at || records.problem) seen.add(memo);
      else await catchUpAccessReview(deps, port, records);
      return null;
    }
    openPeriods.delete(memo); // started but not opened yet: the path below opens it when it is due
  }
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
    if (existing.state.completed_at || existing.problem) seen.add(memo);
    else {
      openPeriods.set(memo, period);
      await catchUpAccessReview(deps, port, existing);
    }
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
    if (!started.ok || !started.recorded) {
      // Another process started it first: it opens the issue.
      openPeriods.set(memo, period);
      return null;
    }
    records = started.records;
  } else if (deps.now() - Date.parse(existing.state.started_at) < RESUME_AFTER_MS) return null;
  openPeriods.set(memo, period);
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
  return issue.number;
}

/**
 * An open review whose webhooks were lost (the app was down): a writer's edit of its text is put back
 * (and an overdue resource shown as such), and a close before the last confirmation is reopened.
 */
async function catchUpAccessReview(
  deps: BreakglassDeps,
  port: GitHubPort,
  records: Awaited<ReturnType<typeof readAccessReview>>,
): Promise<void> {
  const work = async () => {
    const issue = await port.getIssue(records.state.issue!);
    // A `/confirm` whose webhook was lost: handled now, once (the app reacts to every command it handles).
    const handled = new Set([...records.state.confirmations.values()].map((c) => c.comment_id));
    const comments = await port.listComments(issue.number);
    for (const comment of comments) {
      if (handled.has(comment.id) || !mayBeAccessReviewCommand(deps, issue, comment)) continue;
      const reactions = (await port.listCommentReactions?.(comment.id)) ?? [];
      if (reactions.some((r) => r.user === deps.identity.login)) continue;
      await handleAccessReviewComment(deps, port, issue, comment);
    }
    const fresh = await readAccessReview(deps, port, records.state.period);
    const current = await port.getIssue(issue.number);
    await renderAccessReviewIssue(deps, port, current, fresh);
    if (current.state === "closed" && !fresh.state.completed_at) {
      await port.updateIssue(issue.number, { state: "open", state_reason: "reopened" });
      await port.createComment(
        issue.number,
        "↩️ This access review was closed before every resource was confirmed, so it was reopened. Each resource's owners comment `/confirm <resource>`; the app closes the review after the last one.",
      );
    }
  };
  const key = accessReviewLockKey(port, records.state.period);
  await (deps.lock ? deps.lock(key, work) : work());
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
  for (const policy of [...due].sort((a, b) => a.resource.localeCompare(b.resource))) {
    const terms = schedule(policy);
    const approvers = await eligibleApprovers(port, config, policy);
    const requesterTeams = policy.requesters.teams;
    out.push({
      resource: policy.resource,
      policy_path: policy.path,
      requesters:
        access.get(policy.resource)?.requesters ?? `${policy.requesters.min_permission} access or more`,
      approvals_required: policy.approvals.required,
      people: peopleOf({
        resource: policy.resource,
        approvers,
        requesterTeamMembers: requesterTeams?.length
          ? requesterTeams.flatMap((t) => teamMembers.get(t.toLowerCase()) ?? [])
          : null,
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
