import { formatIssueRef, incidentIssueRef, type IncidentIssueRef } from "../../core/incident-issue.ts";
import type { AccessRequest, Policy } from "../../core/types.ts";
import type { GitHubPort } from "../../github/github-port.ts";

export type IncidentFinding = {
  ref: IncidentIssueRef;
  state: "open" | "closed" | "unreadable" | "pull_request";
};

/**
 * Reads the GitHub issue a request's incident link names, with the app's own installation (so an
 * issue in a repository the app is not installed on is "unreadable", whatever the requester can see).
 * A link that names no issue is recorded as given: null.
 */
export async function findIncident(
  port: GitHubPort,
  request: AccessRequest,
): Promise<IncidentFinding | null> {
  const ref = incidentIssueRef(request.incident, port);
  if (!ref) return null;
  const found = await port.readIssueAnywhere(ref.owner, ref.repo, ref.number);
  return { ref, state: found === null ? "unreadable" : found.is_pull_request ? "pull_request" : found.state };
}

/** The refusal when the policy requires an open incident issue and the link does not give one; null when it passes. */
export function incidentRefusal(
  policy: Policy,
  request: AccessRequest,
  finding: IncidentFinding | null,
): { code: string; message: string } | null {
  if (!policy.incident.require_open_issue) return null;
  const hint =
    "Link the open incident issue (`#123`, `owner/repo#123` or its https://github.com/… URL) in the Incident field.";
  if (!request.incident)
    return {
      code: "incident_required",
      message: `Requests for ${policy.resource} must link an open incident issue. ${hint}`,
    };
  if (!finding)
    return {
      code: "incident_not_an_issue",
      message: `The incident link is not a GitHub issue, and ${policy.resource} requires one. ${hint}`,
    };
  const name = formatIssueRef(finding.ref);
  switch (finding.state) {
    case "open":
      return null;
    case "closed":
      return {
        code: "incident_closed",
        message: `The incident ${name} is closed. Reopen it if the incident is still going on (then edit this request to check again), or link the open one.`,
      };
    case "pull_request":
      return {
        code: "incident_not_an_issue",
        message: `${name} is a pull request, not an incident issue. ${hint}`,
      };
    case "unreadable":
      return {
        code: "incident_unreadable",
        message: `Breakglass cannot read ${name}: it does not exist, or the app is not installed on that repository. ${hint}`,
      };
  }
}
