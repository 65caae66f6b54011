import { hasWriteAccess } from "../core/approvers.ts";
import { mention } from "../core/markdown.ts";
import type { BreakglassDeps } from "./deps.ts";
import type { GitHubPort, IssueSummary } from "./github-port.ts";
import { isAppComment } from "./issue-records.ts";
import { opensReview } from "./request-recognition.ts";

const UNCHECKED = /^\s*[-*] \[ \]/m;
const WAIVE = /^\s*\/waive\s+(\S.{9,})/s;

/**
 * `issues.closed` on a post-event review: refused (reopened with a comment) while items are unchecked,
 * unless someone with write access explained why in a `/waive <reason>` comment.
 */
export async function handleAuditClose(deps: BreakglassDeps, port: GitHubPort, issue: IssueSummary, closer: string): Promise<void> {
  // A review is an issue the app opened, whatever labels anyone put on it or took off.
  if (!opensReview(deps, issue) || !UNCHECKED.test(issue.body)) return;
  if (closer === deps.identity.login) return;
  const comments = await port.listComments(issue.number);
  for (const c of comments) {
    if (isAppComment(c, deps.identity) || c.user.type !== "User" || !WAIVE.test(c.body)) continue;
    if (hasWriteAccess(await port.permission(c.user.login))) return;
  }
  await port.updateIssue(issue.number, { state: "open", state_reason: "reopened" });
  await port.createComment(
    issue.number,
    `↩️ ${mention(closer)}: this review still has unchecked items, so it was reopened. Check them, or comment \`/waive <why they do not apply>\` first.`,
  );
}
