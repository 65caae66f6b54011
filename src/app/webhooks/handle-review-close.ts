import { mention } from "../../core/markdown.ts";
import { outstandingItems } from "../../core/review-progress.ts";
import { whoMayTick } from "../../core/review-rules.ts";
import { selfReviewers } from "../../core/review-items.ts";
import { readTaskItems } from "../../core/task-list.ts";
import type { BreakglassDeps } from "../infra/deps.ts";
import type { GitHubPort, IssueSummary } from "../../github/github-port.ts";
import { opensReview } from "../infra/request-recognition.ts";
import { itemsOfReview, openReviewSession } from "./review-issue.ts";
import { reviewReopened, reviewReopenedWithoutTitle } from "../../core/messages/review-messages.ts";

/**
 * `issues.closed` on a post-event review the app opened: refused (reopened with a comment) while an
 * item is not done — its box unchecked, or checked without the app having recorded who ticked it —
 * unless a `/waive <reason>` by someone other than the people under review is recorded. The items
 * are the ones recorded when the review opened, so deleting a line from the body completes nothing.
 */
export async function handleReviewClose(
  deps: BreakglassDeps,
  port: GitHubPort,
  issue: IssueSummary,
  closer: string,
): Promise<void> {
  // A review is an issue the app opened, whatever labels anyone put on it or took off.
  if (closer === deps.identity.login || !opensReview(deps, issue) || issue.user.type !== "Bot") return;
  const session = await openReviewSession(deps, port, issue);
  if (!session) {
    // Our review issue whose title no longer names its request: the body is all there is to go by.
    if (!readTaskItems(issue.body).some((t) => !t.checked)) return;
    await reopen(port, issue, reviewReopenedWithoutTitle(closer));
    return;
  }
  const { state } = session;
  if (state.review.waiver) return;
  const outstanding = outstandingItems(itemsOfReview(session), state.review, issue.body);
  if (outstanding.length === 0) return;
  const selves = selfReviewers(state).map(mention).join(" or ");
  await reopen(
    port,
    issue,
    reviewReopened({
      closer,
      outstanding: outstanding.map(({ item, why }) => ({ item, why, whoMayTick: whoMayTick(state, item) })),
      selves,
    }),
  );
}

async function reopen(port: GitHubPort, issue: IssueSummary, text: string): Promise<void> {
  await port.updateIssue(issue.number, { state: "open", state_reason: "reopened" });
  await port.createComment(issue.number, text);
}
