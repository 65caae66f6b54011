import { AUDIT_LABEL, REQUEST_LABEL, DRILL_LABEL, ALL_STATUS_LABELS } from "../../core/labels.ts";
import type { BreakglassDeps } from "../infra/deps.ts";
import type { GitHubPort, IssueSummary } from "../../github/github-port.ts";
import { RequestSession } from "../infra/request-session.ts";

const APP_LABELS = new Set<string>([REQUEST_LABEL, AUDIT_LABEL, DRILL_LABEL, ...ALL_STATUS_LABELS]);

/**
 * `issues.labeled` / `issues.unlabeled` by someone else on a recorded request: the app's labels are put
 * back as the ledger's state says. Labels never decide anything (the ledger and the index do), so this
 * is for people reading the issue list: a grant someone unlabelled still shows as active.
 */
export async function handleLabelChange(
  deps: BreakglassDeps,
  port: GitHubPort,
  issue: IssueSummary,
  label: string,
  sender: string,
): Promise<void> {
  if (sender === deps.identity.login || !APP_LABELS.has(label)) return;
  if (issue.user.login === deps.identity.login) return; // a review issue: its labels are display only too
  if ((await port.ledger.read(issue.number)).entries.length === 0) return; // not a recorded request
  const session = await RequestSession.open(deps, port, issue.number, issue);
  await session.publish();
}
