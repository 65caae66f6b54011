import type { BreakglassDeps } from "./deps.ts";
import type { GitHubPort } from "./github-port.ts";
import { REQUEST_LABEL, RequestSession } from "./request-session.ts";

const WINDOW_MS = 30 * 24 * 3600 * 1000;

/**
 * How many times this person broke the glass (self-approved) on their other requests in this
 * repository in the last 30 days, counted from each issue's verified records — not from titles,
 * labels or anything a user can edit. Repeated use is flagged, not refused: the policy decides
 * whether break-glass is allowed; the review decides whether it was abused.
 */
export async function priorBreakGlassUses(deps: BreakglassDeps, port: GitHubPort, login: string, current: number): Promise<number> {
  const since = deps.now() - WINDOW_MS;
  const issues = await port.listIssues({ labels: REQUEST_LABEL, state: "all", creator: login, since: new Date(since).toISOString() });
  let uses = 0;
  for (const issue of issues) {
    if (issue.number === current || issue.user.login.toLowerCase() !== login.toLowerCase()) continue;
    const session = await RequestSession.open(deps, port, issue.number, issue);
    uses += session.events.filter((e) => e.type === "break_glass" && e.actor.toLowerCase() === login.toLowerCase() && Date.parse(e.at) >= since).length;
  }
  return uses;
}
