import type { ReviewState } from "./lifecycle.ts";
import { reviewItemText } from "./review-items.ts";
import { isTaskChecked } from "./task-list.ts";

export interface ReviewEditChanges {
  /** Items this edit ticked: unchecked in the body before the edit, checked after. */
  ticked: string[];
  /** Items recorded as ticked that the edit left unchecked. */
  unticked: string[];
  /**
   * Items checked both before and after the edit with nobody recorded as ticking them (a lost
   * webhook, or a refused tick the app could not undo yet): the edit's sender did not tick them, so
   * they are not credited to anyone.
   */
  unattributed: string[];
}

/**
 * What one edit of a review issue's body did to its items. GitHub's `issues.edited` says who edited
 * (`sender`) and what the body was before (`changes.body.from`); an item counts as ticked by the
 * sender only when this very edit changed its box. Task lines that are not one of the review's
 * items (added, reworded) are ignored.
 */
export function reviewEditChanges(
  items: readonly string[],
  review: ReviewState,
  before: string,
  after: string,
): ReviewEditChanges {
  const result: ReviewEditChanges = { ticked: [], unticked: [], unattributed: [] };
  for (const item of new Set(items)) {
    const text = reviewItemText(item);
    const was = isTaskChecked(before, text);
    const is = isTaskChecked(after, text);
    const recorded = review.ticks.some((t) => t.item === item);
    if (is && !was) result.ticked.push(item);
    else if (is && !recorded) result.unattributed.push(item);
    else if (!is && recorded) result.unticked.push(item);
  }
  return result;
}

/**
 * The review's items that are not done: an item is done when its box is checked in the body AND the
 * app recorded who ticked it (only people allowed to tick it are recorded). Deleting or rewording an
 * item's line does not complete it.
 */
export function outstandingItems(
  items: readonly string[],
  review: ReviewState,
  body: string,
): Array<{ item: string; why: "unchecked" | "unattributed" }> {
  const outstanding: Array<{ item: string; why: "unchecked" | "unattributed" }> = [];
  for (const item of new Set(items)) {
    if (!isTaskChecked(body, reviewItemText(item))) outstanding.push({ item, why: "unchecked" });
    else if (!review.ticks.some((t) => t.item === item)) outstanding.push({ item, why: "unattributed" });
  }
  return outstanding;
}
