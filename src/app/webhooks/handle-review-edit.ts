import { createHash } from "node:crypto";
import type { Refusal } from "../../core/refusal.ts";
import { reviewItemText } from "../../core/review-items.ts";
import { reviewEditChanges } from "../../core/review-progress.ts";
import { decideReviewTick, whoMayTick } from "../../core/review-rules.ts";
import { uncheckTaskItems } from "../../core/task-list.ts";
import type { BreakglassDeps } from "../infra/deps.ts";
import type { GitHubPort, IssueSummary } from "../../github/github-port.ts";
import { itemsOfReview, openReviewSession } from "./review-issue.ts";
import {
  reviewItemTicked,
  reviewItemUnticked,
  reviewTicksUndone,
} from "../../core/messages/review-messages.ts";

export interface ReviewEdit {
  /** `sender` of the `issues.edited` webhook: who GitHub says made this edit. */
  sender: { login: string; type: string };
  /** `changes.body.from`; undefined when the edit did not touch the body. */
  before: string | undefined;
  /** The webhook's delivery GUID (`X-GitHub-Delivery`): the same for a redelivery of this edit, new for every other edit. */
  editKey: string;
}

/**
 * `issues.edited` on a post-event review. GitHub does not say who ticked a box, only who made the
 * edit and what the body was before, so each item this edit ticked is credited to the edit's
 * sender, in a signed record on the request — later edits cannot move that credit. A tick by
 * someone not allowed to tick the item is undone with a comment saying who may; a box found
 * checked that nobody is recorded as ticking is undone too.
 */
export async function handleReviewEdit(
  deps: BreakglassDeps,
  port: GitHubPort,
  issue: IssueSummary,
  edit: ReviewEdit,
): Promise<void> {
  if (edit.before === undefined || edit.sender.login === deps.identity.login) return; // our own un-ticks
  const session = await openReviewSession(deps, port, issue);
  if (!session) return;
  const items = itemsOfReview(session);
  const changes = reviewEditChanges(items, session.state.review, edit.before, issue.body);
  if (!changes.ticked.length && !changes.unticked.length && !changes.unattributed.length) return;
  const actor = await session.actor(edit.sender);
  const id = (what: string, item: string) =>
    `review:${issue.number}:${what}:${createHash("sha256").update(`${edit.editKey}\n${edit.sender.login}\n${item}`).digest("hex").slice(0, 24)}`;
  const refused: Array<{ item: string; refusal: Refusal }> = [];
  for (const item of changes.ticked) {
    const decided = decideReviewTick(session.state, item, actor);
    const recorded = decided.ok
      ? await session.record(
          id("checked", item),
          decided.value,
          reviewItemTicked(edit.sender.login, item, issue.number),
        )
      : { ok: false as const, refusal: decided.error };
    if (!recorded.ok) refused.push({ item, refusal: recorded.refusal });
  }
  for (const item of changes.unticked) {
    await session.record(
      id("unchecked", item),
      { type: "review_item_unchecked", actor: edit.sender.login, issue: issue.number, item },
      reviewItemUnticked(edit.sender.login, item, issue.number),
    );
  }
  const undo = [...refused.map((r) => r.item), ...changes.unattributed];
  if (undo.length === 0) return;
  // Un-tick in the body as it is now, line by line, so an edit someone made meanwhile survives.
  const current = await port.getIssue(issue.number);
  const unticked = uncheckTaskItems(current.body, new Set(undo.map(reviewItemText)));
  if (unticked !== current.body) await port.updateIssue(issue.number, { body: unticked });
  await port.createComment(
    issue.number,
    reviewTicksUndone({
      who: edit.sender.login,
      refused: refused.map((r) => ({ item: r.item, code: r.refusal.code, message: r.refusal.message })),
      unattributed: changes.unattributed.map((item) => ({
        item,
        whoMayTick: whoMayTick(session.state, item),
      })),
    }),
  );
}
