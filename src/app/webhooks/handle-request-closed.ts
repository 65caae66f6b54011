import { AWAITING_DECISION, LIVE } from "../../core/lifecycle.ts";
import type { BreakglassDeps } from "../infra/deps.ts";
import type { GitHubPort, IssueSummary } from "../../github/github-port.ts";
import { isRequestIssue } from "../infra/request-recognition.ts";
import { RequestSession } from "../infra/request-session.ts";
import { revokeGrant } from "../grant/revoke-grant.ts";
import { finishRequest } from "../grant/finish-request.ts";
import { cancelledByClosing, closedWhileLive } from "../../core/messages/record-messages.ts";

/**
 * `issues.closed` on a request issue by a person: closing ends it. A live grant is revoked now (a
 * closed issue must never hide a live credential; the sweep only lists open issues); a pending
 * request is recorded as cancelled. A request naming several resources ends in each of them: every
 * resource still being decided is cancelled (reopening the issue revives none), then every live one
 * is revoked, and the issue is finished as a whole (one review when anything was granted).
 */
export async function handleRequestClosed(
  deps: BreakglassDeps,
  port: GitHubPort,
  issue: IssueSummary,
  closer: string,
): Promise<void> {
  if (closer === deps.identity.login || !(await isRequestIssue(deps, port, issue))) return;
  const session = await RequestSession.open(deps, port, issue.number, issue);
  const parts = session.parts();
  const live = parts.filter((p) => LIVE.has(p.state.status));
  const eventCount = session.wholeState.eventCount;
  if (live.length) await port.createComment(issue.number, closedWhileLive(closer));
  for (const part of parts) {
    if (!AWAITING_DECISION.has(part.state.status)) continue;
    await part.record(
      part.part === null ? `closed-by-hand:${eventCount}` : `closed-by-hand:${eventCount}:${part.part}`,
      { type: "cancelled", actor: closer, reason: "issue closed by hand" },
      cancelledByClosing(closer, part.part),
    );
  }
  for (const part of live)
    await revokeGrant(part, "revoked", closer, "The request issue was closed by hand.");
  if (live.length) {
    if (!session.wholeState.closed)
      await port.updateIssue(issue.number, { state: "open", state_reason: "reopened" });
    return;
  }
  if (session.wholeState.parts !== null) await finishRequest(session);
  else await session.publish();
}
