import { decideConfirm, unconfirmed, type AccessReviewEvent } from "../../core/access-review.ts";
import type { Eligibility } from "../../core/approvers.ts";
import { leadingCommand } from "../../core/commands.ts";
import type { GitHubPort, IssueComment, IssueSummary } from "../../github/github-port.ts";
import { recordAccessReview } from "../infra/access-review-records.ts";
import type { BreakglassDeps } from "../infra/deps.ts";
import { eligibleApprovers } from "../infra/policy-approvers.ts";
import { loadRepoConfig } from "../infra/repo-config.ts";
import {
  accessReviewPeriodOf,
  openAccessReviewRecords,
  renderAccessReviewIssue,
} from "./access-review-issue.ts";
import { accessReviewConfirmed } from "../../core/messages/review-messages.ts";
import { commandRefused } from "../../core/messages/command-messages.ts";

/** True when a new comment could be a `/confirm` on an access review (cheap, before any lock or read). */
export const mayBeAccessReviewCommand = (
  deps: BreakglassDeps,
  issue: IssueSummary,
  comment: IssueComment,
): boolean =>
  comment.user.login !== deps.identity.login &&
  accessReviewPeriodOf(deps, issue) !== null &&
  leadingCommand(comment.body)?.name === "confirm";

/**
 * `/confirm <resource>…` or `/confirm all` at the start of a new comment on an access review: recorded in
 * the review's ledger chain when the commenter is a person with write access who may approve the
 * resource's requests under the policy in force (infra/policy-approvers.ts, the approvals' rule). The
 * body is then written again from the records; the last confirmation closes the review.
 */
export async function handleAccessReviewComment(
  deps: BreakglassDeps,
  port: GitHubPort,
  issue: IssueSummary,
  comment: IssueComment,
): Promise<void> {
  const command = leadingCommand(comment.body);
  const period = accessReviewPeriodOf(deps, issue);
  if (!command || command.name !== "confirm" || period === null) return;
  const records = await openAccessReviewRecords(deps, port, issue, period);
  if (!records) return;
  await port.react(comment.id, "eyes");
  const refuse = async (code: string, message: string) => {
    await port.react(comment.id, "-1");
    await port.createComment(issue.number, commandRefused(comment.user.login, { code, message }));
  };
  if (command.glued)
    return refuse("unknown_command", "Write `/confirm <resource>` with a space after `/confirm`.");
  if (comment.app_id !== null)
    return refuse(
      "posted_via_app",
      "A comment posted through an app does not confirm an access review: comment yourself.",
    );
  const config = await loadRepoConfig(port);
  const eligibility = new Map<string, Eligibility | null>();
  for (const r of records.state.resources) {
    const policy = config.policies.get(r.resource);
    eligibility.set(
      r.resource,
      policy
        ? ((await eligibleApprovers(port, config, policy)).get(comment.user.login.toLowerCase()) ?? null)
        : null,
    );
  }
  const decided = decideConfirm(
    records.state,
    {
      login: comment.user.login,
      type: comment.user.type,
      permission: comment.user.type === "User" ? await port.permission(comment.user.login) : "none",
      eligibility: (resource) => eligibility.get(resource) ?? null,
    },
    command.args,
    comment.id,
  );
  if (!decided.ok) return refuse(decided.error.code, decided.error.message);
  let latest = records;
  const confirmed: string[] = [];
  for (const event of decided.value) {
    const written = await recordAccessReview(
      deps,
      port,
      period,
      `confirm:${event.resource}`,
      event,
      `${comment.user.login} confirmed ${event.resource} (comment ${comment.id}).`,
    );
    if (!written.ok) throw new Error(`access review ${period}: ${written.problem}`);
    latest = written.records;
    if (latest.state.confirmations.get(event.resource)?.comment_id === comment.id)
      confirmed.push(event.resource);
  }
  const left = unconfirmed(latest.state);
  if (left.length === 0 && !latest.state.completed_at) {
    const done: AccessReviewEvent = { type: "access_review_completed", actor: deps.identity.login };
    const written = await recordAccessReview(
      deps,
      port,
      period,
      "completed",
      done,
      `Access review ${period} completed.`,
    );
    if (written.ok) latest = written.records;
  }
  const current = await port.getIssue(issue.number);
  await renderAccessReviewIssue(deps, port, current, latest);
  await port.react(comment.id, "rocket");
  await port.createComment(
    issue.number,
    accessReviewConfirmed(
      comment.user.login,
      confirmed,
      left.map((r) => r.resource),
    ),
  );
  if (left.length === 0 && current.state === "open")
    await port.updateIssue(issue.number, { state: "closed", state_reason: "completed" });
}
