import type { GitHubPort, IssueSummary } from "../../github/github-port.ts";
import type { BreakglassDeps } from "../infra/deps.ts";
import {
  accessReviewPeriodOf,
  openAccessReviewRecords,
  renderAccessReviewIssue,
} from "./access-review-issue.ts";
import { accessReviewEditPutBack } from "../../core/messages/review-messages.ts";

/**
 * `issues.edited` on an access review by anyone but the app: its title and body are the app's, written
 * from the records, so an edit (a ticked box, a removed line, a retitle) is put back and confirms nothing.
 */
export async function handleAccessReviewEdit(
  deps: BreakglassDeps,
  port: GitHubPort,
  issue: IssueSummary,
  sender: string,
  formerTitle?: string,
): Promise<void> {
  if (sender === deps.identity.login) return;
  // A retitle to another period's title: the review the issue is, is the former title's.
  let records = null;
  for (const period of new Set([
    accessReviewPeriodOf(deps, issue),
    formerTitle ? accessReviewPeriodOf(deps, { ...issue, title: formerTitle }) : null,
  ])) {
    if (period !== null) records ??= await openAccessReviewRecords(deps, port, issue, period);
  }
  if (!records) return;
  const current = await port.getIssue(issue.number);
  if (!(await renderAccessReviewIssue(deps, port, current, records))) return;
  await port.createComment(issue.number, accessReviewEditPutBack(sender));
}
