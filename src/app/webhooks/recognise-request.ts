import { isWrittenByForm } from "../../core/request-form.ts";
import { APP_LABELS, REQUEST_LABEL } from "../../core/labels.ts";
import type { GitHubPort, IssueSummary } from "../../github/github-port.ts";

/**
 * Is this issue's body the request form's? For an issue with no label and no records yet: GitHub does
 * not add a form label the repository lacks. Whether an issue is a request is otherwise decided by
 * the app's ledger (see request-recognition.ts), never by the label alone.
 */
export function looksLikeRequest(issue: Pick<IssueSummary, "body">, issueForm: string | null): boolean {
  return issueForm !== null && isWrittenByForm(issue.body, issueForm);
}

/**
 * Creates whichever of the app's labels the repository lacks, with their colours and descriptions.
 * Run on installation, on repositories added to it, and whenever a request turns up without its label.
 */
export async function ensureAppLabels(port: GitHubPort): Promise<string[]> {
  const existing = new Set((await port.listLabels()).map((l) => l.toLowerCase()));
  const created: string[] = [];
  for (const spec of APP_LABELS) {
    if (existing.has(spec.name.toLowerCase())) continue;
    if (await port.createLabel(spec)) created.push(spec.name);
  }
  return created;
}

/** A request found by its form or records but without its label: the label is made (if missing) and put back. */
export async function repairRequestLabel(port: GitHubPort, issue: IssueSummary): Promise<void> {
  if (issue.labels.includes(REQUEST_LABEL)) return;
  await ensureAppLabels(port);
  await port.addLabels(issue.number, [REQUEST_LABEL]);
  issue.labels.push(REQUEST_LABEL);
}
