import type { GitHubPort } from "../app/github-port.ts";
import type { ChecklistSummary } from "./audit-row.ts";

const TASK = /^\s*[-*+]\s+\[([ xX])\]\s/;
const FENCE = /^\s{0,3}(`{3,}|~{3,})/;

/** Counts task-list items of a review issue's body, as GitHub renders them (not inside code blocks). */
export function countChecklist(body: string): { checked: number; total: number } {
  let checked = 0;
  let total = 0;
  let fence: string | null = null;
  for (const line of body.split(/\r?\n/)) {
    const marker = FENCE.exec(line)?.[1];
    if (marker) {
      if (fence === null) fence = marker;
      else if (marker[0] === fence[0] && marker.length >= fence.length) fence = null;
      continue;
    }
    if (fence !== null) continue;
    const box = TASK.exec(line)?.[1];
    if (box === undefined) continue;
    total++;
    if (box !== " ") checked++;
  }
  return { checked, total };
}

/** The state of a post-event review issue; a review that was deleted or transferred away is `missing`. */
export async function readChecklist(port: GitHubPort, issue: number): Promise<ChecklistSummary> {
  try {
    const summary = await port.getIssue(issue);
    return { issue, status: summary.state, ...countChecklist(summary.body) };
  } catch (error) {
    const status = (error as { status?: unknown } | null)?.status;
    if (status === 404 || status === 410) return { issue, status: "missing", checked: 0, total: 0 };
    throw error;
  }
}
