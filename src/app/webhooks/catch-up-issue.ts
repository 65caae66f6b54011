import { parseCommand } from "../../core/commands.ts";
import { withoutSignature } from "../../core/step-up.ts";
import type { BreakglassDeps } from "../infra/deps.ts";
import type { GitHubPort, IssueComment, IssueSummary } from "../../github/github-port.ts";
import { handleCommand } from "./handle-command.ts";
import { catchUpLostEdits } from "./catch-up-lost-edits.ts";
import { handleRequestIssue } from "./handle-request-issue.ts";
import { isRequestIssue } from "../infra/request-recognition.ts";
import type { IssueLock } from "../infra/issue-lock.ts";
import { RequestSession } from "../infra/request-session.ts";

/** What catching up reads from GitHub besides the port: comments with their edit time, and the app's reactions. */
export interface CatchUpSource {
  issue(): Promise<IssueSummary>;
  comments(): Promise<Array<IssueComment & { updated_at: string }>>;
  /** Has the app reacted to this comment (👀 first, on every command it handles)? Only the app can add or remove its reactions. */
  appReacted(commentId: number): Promise<boolean>;
}

export interface CatchUpReport {
  intake: boolean;
  /** An edit whose webhook (or run) was lost was found and handled (catch-up-lost-edits.ts). */
  lostEdits: boolean;
  /** Comment ids handled now, oldest first. */
  commands: number[];
  /** Command comments left alone because they were edited before the app saw them. */
  skippedEdited: number[];
}

/**
 * Serverless mode: a run of breakglass-app.yml may never come. GitHub keeps one running and one
 * pending run per concurrency group and cancels the pending one when a newer event queues, so of
 * three quick events on an issue the middle one's run is dropped. Every run therefore catches up its
 * whole issue, not just its own event:
 *
 * - a request issue the app has no record of yet goes through intake as its author opened it (what
 *   the server does for a body first seen on `labeled`);
 * - every command comment the app has not reacted to is handled, oldest first, through the same
 *   `handleCommand` as a webhook: its author is the comment's, GitHub's, never a payload's.
 *
 * A comment edited before the app handled it is not replayed: a `created` webhook carries the body as
 * posted and an edit can only ever withdraw (handle-comment-change.ts), so replaying the current body
 * would let an edit add a command. Those are reported, and their authors can post the command again.
 */
export async function catchUpIssue(
  deps: BreakglassDeps,
  port: GitHubPort,
  lock: IssueLock,
  source: CatchUpSource,
): Promise<CatchUpReport> {
  const report: CatchUpReport = { intake: false, lostEdits: false, commands: [], skippedEdited: [] };
  const issue = await source.issue();
  if (!(await isRequestIssue(deps, port, issue))) return report;
  const key = `${port.owner}/${port.repo}#${issue.number}`;
  await lock(key, async () => {
    const session = await RequestSession.open(deps, port, issue.number, issue);
    if (session.state.status === "new" && issue.state === "open") {
      await handleRequestIssue(deps, port, issue, issue.user.login, "opened");
      report.intake = true;
    } else {
      // An edit (of the body or of an approval comment) whose run GitHub cancelled is found here.
      const lost = await catchUpLostEdits(session);
      report.lostEdits = lost.body || lost.withdrawn.length > 0;
    }
  });
  const comments = (await source.comments()).sort((a, b) => a.id - b.id);
  for (const comment of comments) {
    if (comment.user.login === deps.identity.login) continue;
    if (!parseCommand(withoutSignature(comment.body))) continue;
    if (await source.appReacted(comment.id)) continue;
    if (comment.updated_at !== comment.created_at) {
      report.skippedEdited.push(comment.id);
      continue;
    }
    // The issue as it is now (labels, state), as a later webhook would carry it.
    const current = await source.issue();
    await lock(key, () => handleCommand(deps, port, current, comment));
    report.commands.push(comment.id);
  }
  return report;
}
