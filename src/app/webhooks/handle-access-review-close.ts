import { unconfirmed } from "../../core/access-review.ts";
import type { GitHubPort, IssueSummary } from "../../github/github-port.ts";
import type { BreakglassDeps } from "../infra/deps.ts";
import { accessReviewPeriodOf, openAccessReviewRecords } from "./access-review-issue.ts";
import { accessReviewReopened } from "../../core/messages/review-messages.ts";

/**
 * `issues.closed` on an access review by anyone but the app: refused (reopened with a comment) while a
 * resource is not confirmed in the records. The app closes the review itself after the last `/confirm`.
 */
export async function handleAccessReviewClose(
  deps: BreakglassDeps,
  port: GitHubPort,
  issue: IssueSummary,
  closer: string,
): Promise<void> {
  if (closer === deps.identity.login) return;
  const period = accessReviewPeriodOf(deps, issue);
  if (period === null) return;
  const records = await openAccessReviewRecords(deps, port, issue, period);
  if (!records || records.state.completed_at) return;
  const left = unconfirmed(records.state);
  if (left.length === 0) return;
  await port.updateIssue(issue.number, { state: "open", state_reason: "reopened" });
  await port.createComment(
    issue.number,
    accessReviewReopened(
      closer,
      left.map((r) => r.resource),
    ),
  );
}
