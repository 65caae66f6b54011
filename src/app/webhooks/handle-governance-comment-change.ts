import { readHiddenMarkers } from "../../core/markdown.ts";
import { appCommentChanged } from "../../core/messages/review-messages.ts";
import type { GitHubPort, IssueComment, IssueSummary } from "../../github/github-port.ts";
import { isAppComment } from "../../github/issue-records.ts";
import type { BreakglassDeps } from "../infra/deps.ts";
import { accessReviewPeriodOf } from "./access-review-issue.ts";
import { metricsMonthOf } from "./handle-metrics-edit.ts";

/** An access review or a monthly metrics issue: the app's own issues for oversight, not requests. */
export const isGovernanceIssue = (deps: BreakglassDeps, issue: IssueSummary): boolean =>
  accessReviewPeriodOf(deps, issue) !== null || metricsMonthOf(deps, issue) !== null;

/**
 * `issue_comment.edited` / `.deleted` of the app's comment on an access review or a metrics issue by
 * someone else. Those comments are not records (the issue's text is, from the ledger), but a reader
 * should not be misled by one: an edit is put back from the webhook's former text, a deletion is
 * posted again, quoted, and either is said with the sender's name.
 */
export async function handleGovernanceCommentChange(
  deps: BreakglassDeps,
  port: GitHubPort,
  issue: IssueSummary,
  change: "edited" | "deleted",
  sender: string,
  comment: { id: number; body: string; previousBody?: string },
): Promise<void> {
  if (sender === deps.identity.login) return;
  if (change === "edited") {
    if (comment.previousBody === undefined || comment.previousBody === comment.body) return;
    await port.updateComment(comment.id, comment.previousBody);
  }
  await port.createComment(
    issue.number,
    appCommentChanged(comment.id, { by: sender, edited: change === "edited", text: comment.body }),
  );
}

/**
 * The catch-up's part (the app was down, the webhook lost): an app comment whose GitHub `updated_at`
 * is past its creation was edited by someone (the app never edits these but to put one back, and says
 * so with a note naming it). Its first text is not kept, so it is flagged, once. Returns the ids flagged.
 */
export async function flagEditedAppComments(
  deps: BreakglassDeps,
  port: GitHubPort,
  issue: number,
  comments: readonly IssueComment[],
): Promise<number[]> {
  const mine = comments.filter((c) => isAppComment(c, deps.identity));
  // Markers only from notes nobody edited: a writer could type one into a comment of the app they edit.
  const said = new Set(
    mine
      .filter((c) => c.updated_at === undefined || c.updated_at === c.created_at)
      .flatMap((c) =>
        readHiddenMarkers(c.body)
          .filter((m) => m.kind === "comment-changed")
          .map((m) => Number(m.payload)),
      ),
  );
  const flagged: number[] = [];
  for (const c of mine) {
    if (said.has(c.id) || c.updated_at === undefined || c.updated_at === c.created_at) continue;
    await port.createComment(issue, appCommentChanged(c.id, null));
    flagged.push(c.id);
  }
  return flagged;
}
