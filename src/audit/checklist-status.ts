import type { GitHubPort } from "../github/github-port.ts";
import type { ReviewState } from "../core/lifecycle.ts";
import { outstandingItems } from "../core/review-progress.ts";
import { readTaskItems } from "../core/task-list.ts";
import type { ChecklistSummary } from "./audit-row.ts";

/** Counts task-list items of a review issue's body, as GitHub renders them (not inside code blocks). */
export function countChecklist(body: string): { checked: number; total: number } {
  const items = readTaskItems(body);
  return { checked: items.filter((t) => t.checked).length, total: items.length };
}

/**
 * The state of a post-event review issue; a review that was deleted or transferred away is `missing`.
 * With the request's recorded review items, only the recorded items count, and an item counts as
 * checked only when the app also recorded who ticked it; older reviews are counted from the body.
 */
export async function readChecklist(
  port: GitHubPort,
  issue: number,
  review?: ReviewState,
): Promise<ChecklistSummary> {
  try {
    const summary = await port.getIssue(issue);
    if (review?.items) {
      const total = new Set(review.items).size;
      return {
        issue,
        status: summary.state,
        checked: total - outstandingItems(review.items, review, summary.body).length,
        total,
      };
    }
    return { issue, status: summary.state, ...countChecklist(summary.body) };
  } catch (error) {
    const status = (error as { status?: unknown } | null)?.status;
    if (status === 404 || status === 410) return { issue, status: "missing", checked: 0, total: 0 };
    throw error;
  }
}
