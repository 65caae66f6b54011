import {
  incidentIssueRef,
  sameIssue,
  formatIssueRef,
  type IncidentIssueRef,
} from "../../core/incident-issue.ts";
import type { BreakglassDeps } from "../infra/deps.ts";
import type { GitHubPort, IssueSummary } from "../../github/github-port.ts";
import type { IssueLock } from "../infra/issue-lock.ts";
import { RequestSession } from "../infra/request-session.ts";
import { revokeGrant } from "../grant/revoke-grant.ts";

/**
 * `issues.closed` of any issue: if requests name it as their incident (found through the ledger's
 * incident links, never labels), each live grant whose policy says `incident.revoke_on_close` is
 * revoked (each resource of a request naming several on its own policy). Each request is checked against its own records first: a link alone decides nothing.
 * Reopening the incident brings nothing back.
 */
export async function handleIncidentClosed(
  deps: BreakglassDeps,
  port: GitHubPort,
  issue: Pick<IssueSummary, "number" | "html_url">,
  closedBy: string,
  lock: IssueLock,
  portFor: (owner: string, repo: string) => Promise<GitHubPort | null>,
): Promise<number> {
  const incident: IncidentIssueRef = { owner: port.owner, repo: port.repo, number: issue.number };
  const linked = await port.ledger.linkedToIncident(incident);
  let revoked = 0;
  for (const link of linked) {
    const same =
      link.owner.toLowerCase() === port.owner.toLowerCase() &&
      link.repo.toLowerCase() === port.repo.toLowerCase();
    const requestPort = same ? port : await portFor(link.owner, link.repo);
    if (!requestPort) continue;
    await lock(`${requestPort.owner}/${requestPort.repo}#${link.issue}`, async () => {
      const session = await RequestSession.open(deps, requestPort, link.issue);
      // A request naming several resources: each resource is checked against its own policy and revoked on its own.
      for (const view of session.parts()) {
        const named = incidentIssueRef(view.state.request?.incident ?? null, requestPort);
        if (!named || !sameIssue(named, incident)) continue;
        if (!view.policy()?.incident.revoke_on_close) continue;
        const result = await revokeGrant(
          view,
          "incident_closed",
          closedBy,
          `The incident ${formatIssueRef(incident)} was closed (${issue.html_url}); the policy revokes the grants tied to it.`,
        );
        if (result === "revoked") revoked++;
      }
    });
  }
  return revoked;
}
