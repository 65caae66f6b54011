import { leadingCommand } from "../../core/commands.ts";
import { decideWaiver } from "../../core/review-rules.ts";
import type { BreakglassDeps } from "../infra/deps.ts";
import type { GitHubPort, IssueComment, IssueSummary } from "../../github/github-port.ts";
import { openReviewSession, reviewedRequestNumber } from "./review-issue.ts";
import { reviewWaived, reviewWaiverAccepted } from "../../core/messages/review-messages.ts";
import { commandRefused } from "../../core/messages/command-messages.ts";

/** True when a new comment on this issue could be a review command (cheap, before any lock or read). */
export const mayBeReviewCommand = (
  deps: BreakglassDeps,
  issue: IssueSummary,
  comment: IssueComment,
): boolean =>
  comment.user.login !== deps.identity.login &&
  reviewedRequestNumber(issue, deps.identity.login) !== null &&
  leadingCommand(comment.body)?.name === "waive";

/**
 * `/waive <reason>` at the start of a new comment on a post-event review: recorded on the request,
 * so closing with unchecked items is allowed. Only a new comment counts (an edit of someone else's
 * comment cannot make them waive), and never by the requester or whoever broke the glass.
 */
export async function handleReviewComment(
  deps: BreakglassDeps,
  port: GitHubPort,
  issue: IssueSummary,
  comment: IssueComment,
): Promise<void> {
  const command = leadingCommand(comment.body);
  if (!command || command.name !== "waive" || comment.user.login === deps.identity.login) return;
  const session = await openReviewSession(deps, port, issue);
  if (!session) return;
  await port.react(comment.id, "eyes");
  const decided = command.glued
    ? {
        ok: false as const,
        error: {
          code: "unknown_command" as const,
          message: "Write `/waive <reason>` with a space after `/waive`.",
        },
      }
    : decideWaiver(session.state, await session.actor(comment.user), command.args, comment.id);
  const recorded = decided.ok
    ? await session.record(
        `comment:${comment.id}`,
        decided.value,
        reviewWaived(comment.user.login, issue.number, command.args),
      )
    : { ok: false as const, refusal: decided.error };
  if (!recorded.ok) {
    await port.react(comment.id, "-1");
    await port.createComment(issue.number, commandRefused(comment.user.login, recorded.refusal));
    return;
  }
  await port.react(comment.id, "rocket");
  await port.createComment(issue.number, reviewWaiverAccepted(comment.user.login, session.number));
}
