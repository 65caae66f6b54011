import { parseCommand } from "../../core/commands.ts";
import type { BreakglassDeps } from "../infra/deps.ts";
import type { GitHubPort, IssueComment, IssueSummary } from "../../github/github-port.ts";
import { isRequestIssue } from "../infra/request-recognition.ts";
import { RequestSession } from "../infra/request-session.ts";
import { editedCommandIgnored } from "../../core/messages/approval-messages.ts";
import { withdrawApproval } from "./withdraw-approval.ts";

/**
 * `issue_comment.edited` / `.deleted`: a changed or removed comment never creates an approval, and an
 * approval whose comment was changed or removed no longer counts (until the grant: after that the
 * records, not the comments, are what happened).
 */
export async function handleCommentChange(
  deps: BreakglassDeps,
  port: GitHubPort,
  issue: IssueSummary,
  comment: IssueComment,
  change: "edited" | "deleted",
): Promise<void> {
  if (comment.user.login === deps.identity.login || !(await isRequestIssue(deps, port, issue))) return;
  const session = await RequestSession.open(deps, port, issue.number, issue);
  // Each part of a request naming several resources the comment approved loses that approval.
  let withdrew = false;
  for (const part of session.parts()) {
    const approval = part.state.approvals.find((a) => a.comment_id === comment.id);
    if (!approval || (part.state.status !== "requested" && part.state.status !== "approved")) continue;
    await withdrawApproval(part, { actor: approval.actor, commentId: comment.id }, change, false);
    withdrew = true;
  }
  if (withdrew) {
    await session.publish();
    return;
  }
  if (change === "edited" && parseCommand(comment.body)) {
    await port.createComment(issue.number, editedCommandIgnored(comment.user.login));
  }
}
