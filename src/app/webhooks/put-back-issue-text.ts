import type { GitHubPort, IssueSummary } from "../../github/github-port.ts";

/**
 * An issue whose title and body are the app's (an access review, a month's metrics): written back when
 * they differ from `text`, the app's from its records. Returns true when something was put back.
 */
export async function putBackIssueText(
  port: GitHubPort,
  issue: IssueSummary,
  text: { title: string; body: string },
): Promise<boolean> {
  if (issue.body === text.body && issue.title === text.title) return false;
  await port.updateIssue(issue.number, { body: text.body, title: text.title });
  issue.body = text.body;
  issue.title = text.title;
  return true;
}
