/**
 * What the app says about its own records and the issue around them: an issue closed by hand, a body
 * it cannot attribute, record comments missing or tampered with, the ledger unavailable. Pure text,
 * tested in test/core/messages.
 */
import { escapeInline, mention } from "../markdown.ts";

export const closedWhileLive = (closer: string): string =>
  `🔒 ${mention(closer)} closed the issue while the grant was live: revoking it now.`;

export const cancelledByClosing = (closer: string, resource: string | null = null): string =>
  resource === null
    ? `🚫 ${mention(closer)} closed the issue: the request is cancelled.`
    : `🚫 ${mention(closer)} closed the issue: \`${escapeInline(resource, 60)}\` is cancelled.`;

/** Opened while the app was down and changed since: who wrote the body cannot be told. */
export const resubmitAfterOutage = (author: string): string =>
  `⚠️ ${mention(author)}: Breakglass was not running when this request was opened, and the issue has changed since, so it cannot tell who wrote the body. Edit the issue (any change, saved by you) to submit it.`;

/** The body differs from the records and its edit never arrived: the recorded request stands. */
export const lostBodyEdit = (input: { hash: string; approvalsVoided: boolean; requester: string }): string =>
  [
    `⚠️ **The request's body was changed, but Breakglass never received that edit** (GitHub does not send a failed delivery again), so it cannot tell who made it.`,
    "",
    `The request stays as recorded (hash \`${input.hash.slice(0, 16)}\`, shown in the status comment)${input.approvalsVoided ? ", and the approvals given so far no longer count" : ""}. ${mention(input.requester)}: if the change is yours, edit the issue again (any change, saved by you) and it is checked as your request.`,
  ].join("\n");

/** Nothing was recorded because the ledger could not be written. */
export const ledgerUnavailable = (who: string, error: string): string =>
  `⚠️ ${mention(who)}: Breakglass could not write to its ledger (${escapeInline(error, 300)}), so **nothing was recorded**: the request stays as it was and nothing was granted. Try again in a few minutes; the app's log has the details for its operators.`;

/** Record comments a restarted app finished posting (never posted, or deleted while it was down). */
export function unpostedRecordsPosted(
  ledgerLocation: string,
  unposted: Array<{ type: string; seq: number }>,
): string {
  const one = unposted.length === 1;
  return `ℹ️ ${one ? "A record comment was" : `${unposted.length} record comments were`} missing when the app finished this command after a restart and ${one ? "was" : "were"} posted from the ledger (\`${ledgerLocation}\`): ${unposted.map((p) => `\`${p.type}\` (entry ${p.seq})`).join(", ")}. Either the app stopped before posting ${one ? "it" : "them"}, or someone deleted ${one ? "it" : "them"} while the app was down; the request's state is the ledger's either way.`;
}

/** Record comments deleted or edited, put back from the ledger; `by` when the webhook named who. */
export function recordsTampered(input: {
  by?: { login: string; change: "edited" | "deleted" };
  problems: Array<{ type: string; seq: number; kind: "missing" | "edited" }>;
  ledgerLocation: string;
  status: string;
}): string {
  const what = tamperedList(input.problems);
  const who = input.by
    ? `${mention(input.by.login)} ${input.by.change} the app's record comment`
    : "Record comments of the app were missing or changed (found by the sweep)";
  return `🛡️ **Records tampered with.** ${who}: ${what}. The records live in the app's ledger (\`${input.ledgerLocation}\`), which people with access to this repository cannot change, so nothing about this request changed: it is still **${input.status}**. The record${input.problems.length > 1 ? "s were" : " was"} restored from the ledger.`;
}

/** The restored records, as the tamper comment and the notify summary list them. */
export const tamperedList = (
  problems: Array<{ type: string; seq: number; kind: "missing" | "edited" }>,
): string =>
  problems
    .map((p) => `\`${p.type}\` (entry ${p.seq}, ${p.kind === "missing" ? "deleted" : "edited"})`)
    .join(", ");
