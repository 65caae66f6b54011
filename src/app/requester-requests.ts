import type { BreakglassDeps } from "./deps.ts";
import type { GitHubPort, IssueSummary } from "./github-port.ts";
import type { RepoConfig } from "./repo-config.ts";
import { REQUEST_LABEL, RequestSession } from "./request-session.ts";

/**
 * A person's other request issues in this repository, each opened as a session from its verified
 * records (never from titles or labels anyone with triage access could change). Used to count
 * their usage for limits and their break-glass history. `config` is the repository's configuration
 * the caller already read; `worthOpening` lets a caller skip issues before their records are read.
 */
export async function* otherRequestsOf(
  deps: BreakglassDeps,
  port: GitHubPort,
  login: string,
  options: { except: number; state: "open" | "all"; since?: number; config?: RepoConfig; worthOpening?: (issue: IssueSummary) => boolean },
): AsyncGenerator<{ issue: IssueSummary; session: RequestSession }> {
  const issues = await port.listIssues({
    labels: REQUEST_LABEL,
    state: options.state,
    creator: login,
    ...(options.since !== undefined ? { since: new Date(options.since).toISOString() } : {}),
  });
  for (const issue of issues) {
    if (issue.number === options.except || issue.user.login.toLowerCase() !== login.toLowerCase()) continue;
    if (options.worthOpening && !options.worthOpening(issue)) continue;
    yield { issue, session: await RequestSession.open(deps, port, issue.number, issue, options.config) };
  }
}
