/**
 * What the app says on the issues it opens for oversight: the post-event review of a grant (ticks,
 * waivers, an early close) and the periodic access review (confirmations, edits put back, an early
 * close). Pure text, tested in test/core/messages.
 */
import { escapeInline, hiddenMarker, mention, quoteBlock } from "../markdown.ts";

/** A closed review whose title no longer names its request: reopened, with how to put it right. */
export const reviewReopenedWithoutTitle = (closer: string): string =>
  `↩️ ${mention(closer)}: this review still has unchecked items, so it was reopened. Its title no longer names the request it reviews (\`[breakglass audit] Review #<request> …\`): restore the title, then check the items or have someone else \`/waive\` them.`;

/** A review closed with items left: each item, why it does not count yet, and who may tick it. */
export function reviewReopened(input: {
  closer: string;
  outstanding: Array<{ item: string; why: "unchecked" | "unattributed"; whoMayTick: string }>;
  /** Who may not waive it (the people whose access it reviews), already as mentions. */
  selves: string;
}): string {
  return [
    `↩️ ${mention(input.closer)}: this review still has unchecked items (${input.outstanding.length} not done), so it was reopened.`,
    "",
    ...input.outstanding.map(
      ({ item, why, whoMayTick }) =>
        `- “${escapeInline(item, 200)}”: ${why === "unchecked" ? "not checked" : "checked, but nobody is recorded as ticking it"}. ${escapeInline(`Only ${whoMayTick} may tick it.`, 300)}`,
    ),
    "",
    `Tick them, or have a person with write access other than ${input.selves} comment \`/waive <why they do not apply>\` first.`,
  ].join("\n");
}

export const reviewItemTicked = (who: string, item: string, review: number): string =>
  `☑️ ${mention(who)} ticked “${escapeInline(item, 200)}” on the post-event review #${review}.`;

export const reviewItemUnticked = (who: string, item: string, review: number): string =>
  `⬜ ${mention(who)} unticked “${escapeInline(item, 200)}” on the post-event review #${review}.`;

/** Ticks that do not count, put back: refused ones with their reason, unattributed ones with who may tick. */
export function reviewTicksUndone(input: {
  who: string;
  refused: Array<{ item: string; code: string; message: string }>;
  unattributed: Array<{ item: string; whoMayTick: string }>;
}): string {
  const count = input.refused.length + input.unattributed.length;
  const lines = [
    ...input.refused.map(
      (r) => `- “${escapeInline(r.item, 200)}” — refused (\`${r.code}\`): ${escapeInline(r.message, 400)}`,
    ),
    ...input.unattributed.map(
      ({ item, whoMayTick }) =>
        `- “${escapeInline(item, 200)}” — refused (\`unattributed_tick\`): nobody is recorded as ticking it, so it does not count. ${escapeInline(`Only ${whoMayTick} may tick it`, 300)}: tick it again.`,
    ),
  ];
  return `↩️ ${mention(input.who)}: un-ticked ${count === 1 ? "an item" : `${count} items`} of this review.\n\n${lines.join("\n")}`;
}

export const reviewWaived = (who: string, review: number, reason: string): string =>
  `🟰 ${mention(who)} waived the rest of the post-event review #${review}.\n\n${quoteBlock(reason, 1000)}`;

export const reviewWaiverAccepted = (who: string, request: number): string =>
  `✅ ${mention(who)} waived the remaining items: this review may be closed. The waiver is recorded on #${request}.`;

const resources = (names: readonly string[]): string =>
  names.map((r) => `\`${escapeInline(r, 80)}\``).join(", ");

const CONFIRM_HOW =
  "Ticking a box confirms nothing: an owner of a resource comments `/confirm <resource>` (or `/confirm all`).";

/**
 * An access review's body is the app's, from its records: a person's edit was put back. `null`: the
 * edit was made while the app was not running, and GitHub's listing does not say by whom.
 */
export const accessReviewEditPutBack = (editor: string | null): string =>
  issueTextPutBack(editor, "review", CONFIRM_HOW);

/** The monthly metrics issue's figures are the app's, signed in the ledger: an edit was put back. */
export const metricsEditPutBack = (editor: string | null): string =>
  issueTextPutBack(
    editor,
    "issue",
    "The figures are the app's signed records (`breakglass audit export --metrics` gives them from the ledger); an edit of this issue changes nothing in them.",
  );

/** An issue the app writes from its records (`what`: how it calls itself) was edited: put back. */
function issueTextPutBack(editor: string | null, what: string, tail: string): string {
  return editor === null
    ? `↩️ This ${what}'s title or text was changed while the app was not running, so it was put back from the app's records. ${tail}`
    : `↩️ ${mention(editor)}: this ${what}'s text is written by the app from its records, so your edit was put back. ${tail}`;
}

/** Resources of an access review past their due date unconfirmed: their owners are asked (once). */
export const accessReviewOverdue = (overdue: readonly string[], owners: readonly string[]): string =>
  `🚨 Overdue: ${resources(overdue)} ${overdue.length === 1 ? "was" : "were"} not confirmed in time. ${
    owners.length
      ? `${owners.map(mention).join(", ")}: as an owner, check who may request and approve, and comment \`/confirm <resource>\` (or open a pull request to remove access).`
      : "Nobody may approve them: their policies have no owner."
  }`;

/** `/confirm` on an access review: what this person confirmed, and what is left. */
export const accessReviewConfirmed = (
  who: string,
  confirmed: readonly string[],
  left: readonly string[],
): string =>
  [
    confirmed.length
      ? `✅ ${mention(who)} confirmed ${resources(confirmed)}.`
      : `${mention(who)}: someone else confirmed these first.`,
    left.length
      ? `Still to confirm: ${resources(left)}.`
      : "Every resource is confirmed: the review is complete.",
  ].join(" ");

/** An access review closed before every resource was confirmed: reopened. */
export const accessReviewReopened = (closer: string, left: readonly string[]): string =>
  `↩️ ${mention(closer)}: this access review still has ${left.length} resource(s) nobody confirmed (${resources(left)}), so it was reopened. Each resource's owners comment \`/confirm <resource>\`; the app closes the review after the last one.`;

/** An access review closed (while the app was not running, by someone the listing does not name) before its last confirmation. */
export const accessReviewReopenedAfterOutage =
  "↩️ This access review was closed before every resource was confirmed, so it was reopened. Each resource's owners comment `/confirm <resource>`; the app closes the review after the last one.";

/**
 * A comment of the app on an access review or a metrics issue was changed by someone else: put back
 * (edited, its former text known), posted again (deleted, its text quoted), or, changed while the app
 * was not running, flagged (its first text is not kept). The marker names the comment, so it is said once.
 */
export const appCommentChanged = (
  commentId: number,
  change: { by: string; edited: boolean; text: string | null } | null,
): string =>
  `${hiddenMarker("comment-changed", String(commentId))}\n${
    change === null
      ? `⚠️ A comment of the app here (${commentId}) was edited while the app was not running. What this issue says is the app's text above, from its signed records; that comment's text is not.`
      : change.edited
        ? `↩️ ${mention(change.by)} edited a comment of the app here (${commentId}); it was put back.`
        : `↩️ ${mention(change.by)} deleted a comment of the app here (${commentId}). It said:\n\n${quoteBlock(change.text ?? "", 4000)}`
  }`;
