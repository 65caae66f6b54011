import { accessReviewPeriodOfTitle } from "../../core/access-review.ts";
import { accessReviewTitle, renderAccessReview } from "../../core/render-access-review.ts";
import type { GitHubPort, IssueSummary } from "../../github/github-port.ts";
import { readAccessReview, type AccessReviewRecords } from "../infra/access-review-records.ts";
import type { BreakglassDeps } from "../infra/deps.ts";
import { putBackIssueText } from "./put-back-issue-text.ts";

/**
 * The period of an access-review issue, as its title says — only for issues the app opened itself. The
 * title is anyone's to edit, so this is a hint: {@link openAccessReviewRecords} checks it against the ledger.
 */
export function accessReviewPeriodOf(
  deps: Pick<BreakglassDeps, "identity">,
  issue: Pick<IssueSummary, "title" | "user">,
  formerTitle?: string,
): string | null {
  if (issue.user.type !== "Bot" || issue.user.login !== deps.identity.login) return null;
  return (
    accessReviewPeriodOfTitle(issue.title) ?? (formerTitle ? accessReviewPeriodOfTitle(formerTitle) : null)
  );
}

/** The review's records, or null when the ledger does not name this very issue as that period's review. */
export async function openAccessReviewRecords(
  deps: BreakglassDeps,
  port: GitHubPort,
  issue: IssueSummary,
  period: string,
): Promise<AccessReviewRecords | null> {
  const records = await readAccessReview(deps, port, period);
  return records.state.issue === issue.number && !records.problem ? records : null;
}

/**
 * Writes the issue's title and body from the records when they differ (a writer's edit, a tick, or a new
 * confirmation). Returns true when something was put back.
 */
export async function renderAccessReviewIssue(
  deps: BreakglassDeps,
  port: GitHubPort,
  issue: IssueSummary,
  records: AccessReviewRecords,
): Promise<boolean> {
  return putBackIssueText(port, issue, {
    title: accessReviewTitle(records.state.period),
    body: renderAccessReview(records.state, `${port.owner}/${port.repo}`, deps.now()),
  });
}

export const accessReviewLockKey = (port: GitHubPort, period: string): string =>
  `${port.owner}/${port.repo}#access-review-${period}`;
