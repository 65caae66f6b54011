import { metricsEditPutBack } from "../../core/messages/review-messages.ts";
import type { GitHubPort, IssueSummary } from "../../github/github-port.ts";
import { readMetricsRecords, type MetricsRecords } from "../../github/metrics-records.ts";
import type { BreakglassDeps } from "../infra/deps.ts";
import { putBackIssueText } from "./put-back-issue-text.ts";

const TITLE = /^\[breakglass metrics\] (\d{4}-\d{2})$/;

/**
 * The month a metrics issue's title names, for issues the app opened itself (or its title before an
 * edit). A hint only: the ledger's record of the month names the issue.
 */
export function metricsMonthOf(
  deps: Pick<BreakglassDeps, "identity">,
  issue: Pick<IssueSummary, "title" | "user">,
  formerTitle?: string,
): string | null {
  if (issue.user.type !== "Bot" || issue.user.login !== deps.identity.login) return null;
  return TITLE.exec(issue.title)?.[1] ?? (formerTitle ? (TITLE.exec(formerTitle)?.[1] ?? null) : null);
}

export const metricsLockKey = (port: GitHubPort, month: string): string =>
  `${port.owner}/${port.repo}#metrics-${month}`;

/**
 * Writes the metrics issue's title and body back to what the app posted (its ledger record), and says
 * so; `editor` null when the edit was made while the app was not running. Returns true when put back.
 */
export async function putBackMetricsIssue(
  port: GitHubPort,
  records: MetricsRecords,
  editor: string | null,
): Promise<boolean> {
  if (records.problem || !records.posted) return false;
  const issue = await port.getIssue(records.posted.issue);
  if (!(await putBackIssueText(port, issue, records.posted))) return false;
  await port.createComment(issue.number, metricsEditPutBack(editor));
  return true;
}

/**
 * `issues.edited` on a monthly metrics issue by anyone but the app: an auditor must not read forged
 * figures, so the title and body the app posted (signed in the ledger) are written back.
 */
export async function handleMetricsEdit(
  deps: BreakglassDeps,
  port: GitHubPort,
  issue: IssueSummary,
  sender: string,
  formerTitle?: string,
): Promise<void> {
  if (sender === deps.identity.login) return;
  // A retitle to another month's title: the month the issue was is the former title's.
  const months = new Set([
    metricsMonthOf(deps, issue),
    formerTitle ? metricsMonthOf(deps, { ...issue, title: formerTitle }) : null,
  ]);
  for (const month of months) {
    if (month === null) continue;
    const records = await readMetricsRecords(deps, port, month);
    if (records.posted?.issue === issue.number)
      return void (await putBackMetricsIssue(port, records, sender));
  }
}
