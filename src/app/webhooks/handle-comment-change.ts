import { parseCommand } from "../../core/commands.ts";
import { mention } from "../../core/markdown.ts";
import type { BreakglassDeps } from "../infra/deps.ts";
import type { GitHubPort, IssueComment, IssueSummary } from "../../github/github-port.ts";
import { isRequestIssue } from "../infra/request-recognition.ts";
import { RequestSession } from "../infra/request-session.ts";

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
  const approval = session.state.approvals.find((a) => a.comment_id === comment.id);
  if (approval && (session.state.status === "requested" || session.state.status === "approved")) {
    await session.record(
      `withdrawn:${comment.id}`,
      {
        type: "approval_withdrawn",
        actor: approval.actor,
        comment_id: comment.id,
        reason: change === "edited" ? "comment_edited" : "comment_deleted",
      },
      `↩️ The approval by ${mention(approval.actor)} no longer counts: its comment was ${change}. Approve again in a new comment.`,
    );
    await session.publish();
    return;
  }
  if (change === "edited" && parseCommand(comment.body)) {
    await port.createComment(
      issue.number,
      `ℹ️ ${mention(comment.user.login)}: commands in edited comments are ignored. Post a new comment instead.`,
    );
  }
}
