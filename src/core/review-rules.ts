import { hasWriteAccess } from "./approvers.ts";
import type { Actor } from "./approval-rules.ts";
import type { LifecycleEvent } from "./lifecycle-events.ts";
import type { RequestState } from "./lifecycle.ts";
import { mention } from "./markdown.ts";
import { isReadableReason, visibleLength } from "./reason-text.ts";
import { ok, type Result } from "./result.ts";
import { refuse, type Refusal } from "./refusal.ts";
import { isSecondPersonItem, selfReviewers } from "./review-items.ts";
import { UNREADABLE_REASON } from "./commands.ts";

/** A waiver skips the review's remaining items, so like a break-glass reason it must say something. */
export const MIN_WAIVER_REASON_LENGTH = 10;

const isPerson = (actor: Actor): boolean => actor.type === "User" && !/\[bot\]$/i.test(actor.login);

/** "@ivan" or "@ivan or @olga": the people who may not review their own use. */
const selfNames = (state: RequestState): string =>
  selfReviewers(state).map(mention).join(" or ") || "the requester";

/** Who may tick this item, in words, for refusals and for the review's reopen comment. */
export function whoMayTick(state: RequestState, item: string): string {
  return isSecondPersonItem(item)
    ? `a person with write access other than ${selfNames(state)} (the requester${state.break_glass ? ", who broke the glass" : ""})`
    : "a person with write access";
}

/**
 * Decides a tick of one review item by the person whose edit ticked it. The second-person item is
 * the point of a break-glass review, so the requester and whoever broke the glass cannot complete it.
 */
export function decideReviewTick(
  state: RequestState,
  item: string,
  actor: Actor,
): Result<LifecycleEvent, Refusal> {
  const issue = state.review_issue;
  if (issue === null) return refuse("invalid_transition", "This request has no post-event review.");
  const who = `Only ${whoMayTick(state, item)} may tick it`;
  if (!isPerson(actor)) return refuse("bot_reviewer", `${who}; a bot or app cannot review.`);
  if (!hasWriteAccess(actor.permission))
    return refuse("insufficient_permission", `${who}; ${actor.login} has ${actor.permission} access.`);
  if (isSecondPersonItem(item) && selfReviewers(state).includes(actor.login.toLowerCase())) {
    return refuse(
      "self_review",
      `${who}: nobody can be the second person for their own access. Ask one of the assignees to tick it.`,
    );
  }
  return ok({ type: "review_item_checked", actor: actor.login, issue, item });
}

/** Decides `/waive <reason>` on a review: not by the people under review, not without saying why. */
export function decideWaiver(
  state: RequestState,
  actor: Actor,
  reason: string,
  commentId: number,
): Result<LifecycleEvent, Refusal> {
  const issue = state.review_issue;
  if (issue === null) return refuse("invalid_transition", "This request has no post-event review.");
  if (state.review.waiver)
    return refuse("invalid_transition", `The review was already waived by ${state.review.waiver.actor}.`);
  if (!isPerson(actor)) return refuse("bot_reviewer", "A bot or app cannot waive a review; a person must.");
  if (selfReviewers(state).includes(actor.login.toLowerCase())) {
    return refuse(
      "self_waiver",
      `You cannot waive the review of your own access: ask a person with write access other than ${selfNames(state)} to review it, or to \`/waive\` it.`,
    );
  }
  if (!hasWriteAccess(actor.permission))
    return refuse(
      "insufficient_permission",
      `Waiving a review needs write access; ${actor.login} has ${actor.permission}.`,
    );
  const usage =
    "Write `/waive <why the remaining items do not apply>`, e.g. `/waive the rollback never ran, nothing to review`.";
  if (!isReadableReason(reason))
    return refuse(
      "invalid_command",
      `${reason.trim() === "" ? "`/waive` needs a reason." : `The reason ${UNREADABLE_REASON}.`} ${usage}`,
    );
  if (visibleLength(reason) < MIN_WAIVER_REASON_LENGTH) {
    return refuse(
      "invalid_command",
      `The reason is too short (${visibleLength(reason)} characters); write at least ${MIN_WAIVER_REASON_LENGTH}. ${usage}`,
    );
  }
  return ok({ type: "review_waived", actor: actor.login, issue, reason, comment_id: commentId });
}
