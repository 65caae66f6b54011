import { renderAccessReview, accessReviewTitle } from "../../core/render-access-review.ts";
import {
  accessReviewEditPutBack,
  accessReviewReopenedAfterOutage,
} from "../../core/messages/review-messages.ts";
import type { GitHubPort, IssueSummary } from "../../github/github-port.ts";
import { notifyOverdueAccessReview } from "../grant/notify-overdue-access-review.ts";
import { readAccessReview, type AccessReviewRecords } from "../infra/access-review-records.ts";
import type { BreakglassDeps } from "../infra/deps.ts";
import { accessReviewLockKey, renderAccessReviewIssue } from "./access-review-issue.ts";
import { handleAccessReviewComment, mayBeAccessReviewCommand } from "./handle-access-review-comment.ts";
import { flagEditedAppComments } from "./handle-governance-comment-change.ts";

/**
 * A review whose webhooks were lost (the app was down; GitHub does not redeliver), run by every sweep
 * for an open review and by a process's first sweep for every review:
 *
 * - a retitle or an edit of its text is put back from the records first (so a `/confirm` is read on the
 *   review as the app wrote it) and, since the sender is not in GitHub's listing, said so without a name;
 * - a `/confirm` whose webhook was lost is handled now, once (the app reacts to every command it handles);
 * - a close before the last confirmation is reopened;
 * - a comment of the app someone edited is flagged, once (handle-governance-comment-change.ts);
 * - resources past their due date unconfirmed are told to their owners, once (notify-overdue-access-review.ts).
 *
 * A completed review only gets its text put back.
 */
export async function catchUpAccessReview(
  deps: BreakglassDeps,
  port: GitHubPort,
  records: AccessReviewRecords,
): Promise<void> {
  const work = async () => {
    const number = records.state.issue!;
    const issue = await port.getIssue(number);
    if (!appWrote(deps, port, issue, records) && (await renderAccessReviewIssue(deps, port, issue, records)))
      await port.createComment(number, accessReviewEditPutBack(null));
    const comments = await port.listComments(number);
    await flagEditedAppComments(deps, port, number, comments);
    if (records.state.completed_at) return;
    const handled = new Set([...records.state.confirmations.values()].map((c) => c.comment_id));
    let confirmed = false;
    for (const comment of comments) {
      if (handled.has(comment.id) || !mayBeAccessReviewCommand(deps, issue, comment)) continue;
      const reactions = (await port.listCommentReactions?.(comment.id)) ?? [];
      if (reactions.some((r) => r.user === deps.identity.login)) continue;
      await handleAccessReviewComment(deps, port, issue, comment);
      confirmed = true;
    }
    const fresh = confirmed ? await readAccessReview(deps, port, records.state.period) : records;
    const current = confirmed ? await port.getIssue(number) : issue;
    // The body says which resources are overdue: written again when one became so since the last write.
    await renderAccessReviewIssue(deps, port, current, fresh);
    if (current.state === "closed" && !fresh.state.completed_at) {
      await port.updateIssue(number, { state: "open", state_reason: "reopened" });
      await port.createComment(number, accessReviewReopenedAfterOutage);
    }
    await notifyOverdueAccessReview(deps, port, fresh);
  };
  const key = accessReviewLockKey(port, records.state.period);
  await (deps.lock ? deps.lock(key, work) : work());
}

/**
 * The title and body are ones the app wrote from these records: the body as of now, or as of just
 * before a resource fell due (the app writes it again when one becomes overdue, which is no one's edit).
 */
function appWrote(
  deps: BreakglassDeps,
  port: GitHubPort,
  issue: IssueSummary,
  records: AccessReviewRecords,
): boolean {
  if (issue.title !== accessReviewTitle(records.state.period)) return false;
  const times = [deps.now(), ...records.state.resources.map((r) => Date.parse(r.due_at) - 1)];
  return times.some((t) => renderAccessReview(records.state, `${port.owner}/${port.repo}`, t) === issue.body);
}
