/**
 * What the app says when approvals stop counting (a comment edited or deleted, the rules on the
 * default branch changed, an edit never delivered) or when a request ends without anyone deciding.
 * Pure text, tested in test/core/messages.
 */
import { formatDuration } from "../duration.ts";
import { escapeInline, mention } from "../markdown.ts";
import { STALE_REASON_TEXT, type RecheckResult } from "../recheck-approvals.ts";

/** An approval's comment was edited or deleted; `byCatchUp` when the sweep found it (its webhook was lost). */
export const approvalWithdrawn = (
  approver: string,
  change: "edited" | "deleted",
  byCatchUp: boolean,
): string =>
  byCatchUp
    ? `↩️ The approval by ${mention(approver)} no longer counts: its comment was ${change} (found by Breakglass's catch-up; the change's webhook never arrived). Approve again in a new comment.`
    : `↩️ The approval by ${mention(approver)} no longer counts: its comment was ${change}. Approve again in a new comment.`;

/** A command in an edited comment is never taken (what the approver saw is the comment as first posted). */
export const editedCommandIgnored = (who: string): string =>
  `ℹ️ ${mention(who)}: commands in edited comments are ignored. Post a new comment instead.`;

/** Approvals checked again against the rules on the default branch: which stopped counting and why. */
export function approvalsVoided(result: RecheckResult, requiredBefore: number): string {
  const lines = result.voided.map((v) => `- ${mention(v.actor)} ${STALE_REASON_TEXT[v.reason]}.`);
  const more =
    result.required !== requiredBefore
      ? [`- The policy in force now asks for **${result.required}** approval(s) (it was ${requiredBefore}).`]
      : [];
  const requester = result.requester ? [``, `⛔ ${escapeInline(result.requester.message, 400)}`] : [];
  const head = result.voided.length
    ? `↩️ **${result.voided.length} approval(s) no longer count**, checked again against the CODEOWNERS, team memberships, permissions and policy on the default branch:`
    : "↩️ **The policy on the default branch changed how many approvals this request needs:**";
  return [
    head,
    "",
    ...lines,
    ...more,
    ...requester,
    "",
    result.complete
      ? "What is left still approves the request."
      : "Approvers who still may: read the request and `/approve` again in a new comment.",
  ].join("\n");
}

/** Approved, but no run collected the credentials within `collect_within`. */
export const approvalExpired = (approvedAt: string, withinSeconds: number): string =>
  `⌛ Approved at ${approvedAt}, but no grant workflow run collected the credentials within ${formatDuration(withinSeconds)}: **the approval expired** and nothing can be granted from it. Open a new request if access is still needed.`;

/** Approvals given while the body was changed by an edit whose webhook never arrived. */
export const approvalsVoidedByUnseenEdit = (approvers: string[]): string =>
  `↩️ ${approvers.length} approval(s) no longer count: ${approvers.map((a) => mention(a)).join(", ")} approved while the request's body was changed by an edit Breakglass never received.`;

export const timedOut = (timeoutSeconds: number): string =>
  `⌛ Nobody decided within ${Math.round(timeoutSeconds / 60)} minutes: the request timed out. Open a new one if access is still needed.`;

/** Half the approval timeout has passed: the owners are asked by name. */
export const escalated = (waitedSeconds: number, owners: string[]): string =>
  `⏰ Still waiting for approval after ${Math.round(waitedSeconds / 60)} minutes. ${owners.map((o) => mention(o.replace(/^@/, ""))).join(" ")} please decide: \`/approve\` or \`/deny <reason>\`.`;
