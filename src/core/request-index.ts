import { ENDED, needsReview, type RequestState } from "./lifecycle.ts";

/**
 * Whether a request needs nothing more from the app: it ended, it is closed, and an ended grant has
 * its review issue. Only then does it leave the app's index of open requests; anything else (a live
 * or failed credential, a pending decision, an unfinished close) stays there for the sweep, whatever
 * the issue's labels, open/closed state or title say.
 */
export function isSettled(state: RequestState): boolean {
  if (!ENDED.has(state.status) || !state.closed) return false;
  if (needsReview(state) && state.review_issue === null) return false;
  return true;
}
