import { escapeInline } from "./markdown.ts";

export const SECOND_PERSON_ITEM =
  "Second-person review: someone other than the requester confirms this break-glass use was justified";
const DEFAULT_ITEM = "Review what was done with the access";

/** The items of a post-event review: the policy's checklist, and for a break-glass use the second-person item first. */
export function reviewItems(checklist: readonly string[] | undefined, breakGlass: boolean): string[] {
  const items = [...(checklist && checklist.length ? checklist : [DEFAULT_ITEM])];
  return breakGlass ? [SECOND_PERSON_ITEM, ...items] : items;
}

/** How an item reads in the review issue's body, after `- [ ] `: what a task line is matched against. */
export const reviewItemText = (item: string): string => escapeInline(item, 300);

export const isSecondPersonItem = (item: string): boolean => item === SECOND_PERSON_ITEM;

/**
 * Who reviews nobody's use but their own: the requester and, after a break-glass, whoever broke the
 * glass. They may neither waive the review nor complete its second-person item.
 */
export function selfReviewers(state: {
  requester: string | null;
  break_glass: { actor: string } | null;
}): string[] {
  return [
    ...new Set(
      [state.requester, state.break_glass?.actor]
        .filter((l): l is string => Boolean(l))
        .map((l) => l.toLowerCase()),
    ),
  ];
}
