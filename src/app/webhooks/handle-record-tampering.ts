import type { BreakglassDeps } from "../infra/deps.ts";
import type { GitHubPort, IssueSummary } from "../../github/github-port.ts";
import { RequestSession } from "../infra/request-session.ts";

/**
 * `issue_comment.edited` / `.deleted` of a comment the app wrote. Anyone with write access may edit or
 * delete any comment, the app's too; the records are the ledger's, so this never changes a request:
 * the comments are put back from the ledger, the issue says who did what, and the policy's targets
 * are told. The status comment is simply rendered again. The app's own edits (the status comment,
 * restorations) arrive here too and are ignored.
 */
export async function handleRecordTampering(
  deps: BreakglassDeps,
  port: GitHubPort,
  issue: IssueSummary,
  change: "edited" | "deleted",
  sender: string,
  comment: { id: number; previousBody?: string },
): Promise<void> {
  if (sender === deps.identity.login) return;
  const session = await RequestSession.open(deps, port, issue.number, issue);
  if (session.chain.length === 0) return;
  await session.restoreMirror({
    login: sender,
    change,
    commentId: comment.id,
    ...(comment.previousBody !== undefined ? { previousBody: comment.previousBody } : {}),
  });
  await session.publish();
}
