import type { BreakglassDeps } from "./deps.ts";
import type { GitHubPort } from "../../github/github-port.ts";
import type { RepoConfig } from "./repo-config.ts";
import { RequestSession } from "./request-session.ts";

/**
 * A person's other requests in this repository, each opened as a session from its ledger records.
 * Where they are found is the app's own, too: every unsettled request comes from the app's index (so a
 * live grant whose issue was unlabelled, closed, retitled or transferred still counts), and, with
 * `since`, the settled ones come from the issues that person opened (GitHub's `creator`, which nobody
 * can change) — never from labels, titles or open/closed state, which anyone with triage access can.
 * Whose request it is comes from the records (`requester`), not from the issue's author field.
 * Used to count their usage for limits and their break-glass history.
 */
export async function* otherRequestsOf(
  deps: BreakglassDeps,
  port: GitHubPort,
  login: string,
  options: { except: number; since?: number; config?: RepoConfig },
): AsyncGenerator<RequestSession> {
  const seen = new Set<number>([options.except]);
  const candidates = [...(await port.ledger.index())];
  if (options.since !== undefined) {
    const opened = await port.listIssues({
      state: "all",
      creator: login,
      since: new Date(options.since).toISOString(),
    });
    candidates.push(
      ...opened.filter((i) => i.user.login.toLowerCase() === login.toLowerCase()).map((i) => i.number),
    );
  }
  for (const n of candidates) {
    if (seen.has(n)) continue;
    seen.add(n);
    // Most of a person's issues are no requests: one ledger read says so before anything else is read.
    if ((await port.ledger.read(n)).entries.length === 0) continue;
    const session = await RequestSession.open(deps, port, n, undefined, options.config);
    if (session.state.requester?.toLowerCase() !== login.toLowerCase()) continue;
    yield session;
  }
}
