import { AWAITING_DECISION, LIVE } from "../../core/lifecycle.ts";
import type { BreakglassDeps } from "../infra/deps.ts";
import type { GitHubPort, IssueSummary } from "../../github/github-port.ts";
import { isRequestIssue } from "../infra/request-recognition.ts";
import { RequestSession } from "../infra/request-session.ts";
import { revokeGrant } from "../grant/revoke-grant.ts";
import { cancelledByClosing, closedWhileLive } from "../../core/messages/record-messages.ts";

/**
 * `issues.closed` on a request issue by a person: closing ends it. A live grant is revoked now (a
 * closed issue must never hide a live credential; the sweep only lists open issues); a pending
 * request is recorded as cancelled.
 */
export async function handleRequestClosed(
  deps: BreakglassDeps,
  port: GitHubPort,
  issue: IssueSummary,
  closer: string,
): Promise<void> {
  if (closer === deps.identity.login || !(await isRequestIssue(deps, port, issue))) return;
  const session = await RequestSession.open(deps, port, issue.number, issue);
  const { state } = session;
  if (LIVE.has(state.status)) {
    await port.createComment(issue.number, closedWhileLive(closer));
    await revokeGrant(session, "revoked", closer, "The request issue was closed by hand.");
    if (!session.state.closed)
      await port.updateIssue(issue.number, { state: "open", state_reason: "reopened" });
    return;
  }
  if (AWAITING_DECISION.has(state.status)) {
    await session.record(
      `closed-by-hand:${state.eventCount}`,
      { type: "cancelled", actor: closer, reason: "issue closed by hand" },
      cancelledByClosing(closer),
    );
    await session.publish();
  }
}
