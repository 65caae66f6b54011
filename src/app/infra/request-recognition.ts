import type { BreakglassDeps } from "./deps.ts";
import type { GitHubPort, IssueSummary } from "../../github/github-port.ts";
import { REQUEST_LABEL } from "./request-session.ts";

/**
 * Is this issue a break-glass request? Decided by what only the app writes, never by a label alone:
 * - an issue with entries in the app's ledger is a request, whatever labels, title or state it has now
 *   (anyone with triage access can take labels off or put `breakglass:audit` on);
 * - an issue the app opened itself (a post-event review) is never one, whatever labels it carries;
 * - an issue not recorded yet is a candidate when it carries the request form's label; its body must
 *   still parse as the form, from its author, before anything is recorded.
 */
export async function isRequestIssue(
  deps: Pick<BreakglassDeps, "identity">,
  port: Pick<GitHubPort, "ledger">,
  issue: Pick<IssueSummary, "number" | "labels" | "user">,
): Promise<boolean> {
  if (opensReview(deps, issue)) return false;
  if ((await port.ledger.read(issue.number)).entries.length > 0) return true;
  return issue.labels.includes(REQUEST_LABEL);
}

/** A post-event review issue: one the app opened itself (its labels are display only). */
export const opensReview = (
  deps: Pick<BreakglassDeps, "identity">,
  issue: Pick<IssueSummary, "user">,
): boolean => issue.user.login === deps.identity.login;
