import { goneIssue, type GitHubPort, type IssueSummary } from "../github/github-port.ts";
import { REQUEST_LABEL } from "./labels.ts";

/**
 * The repository's break-glass requests, for the auditor: every request the app's ledger holds (its
 * issue may since have been unlabelled, deleted or transferred — the entries stay), and every issue
 * labelled as a request that has no entry (filed, never recorded). The app's own review issues are
 * never requests, whatever labels anyone put on them. Oldest first. An issue that is gone is given
 * by number and address only.
 */
export async function listRequests(
  port: GitHubPort,
  options: { appLogin: string; since?: string },
): Promise<IssueSummary[]> {
  // The repository first: a bad token or a wrong --repo is named as GitHub's refusal of it.
  const labelled = await port.listIssues({
    labels: REQUEST_LABEL,
    state: "all",
    ...(options.since ? { since: options.since } : {}),
  });
  const recorded = await port.ledger.requests();
  const found = new Map<number, IssueSummary>();
  for (const issue of labelled) found.set(issue.number, issue);
  for (const n of recorded)
    if (!found.has(n)) found.set(n, await port.getIssue(n).catch(() => goneIssue(port, n)));
  return [...found.values()]
    .filter((i) => i.user.login !== options.appLogin)
    .sort((a, b) => a.number - b.number);
}
