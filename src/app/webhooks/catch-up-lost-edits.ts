import { createHash } from "node:crypto";
import { checkRequestBody } from "../../core/check-request.ts";
import { PENDING } from "../../core/lifecycle.ts";
import { changesRecordedRequest, combinedHash, recordedCombinedHash } from "../../core/request-pairs.ts";
import type { RequestState } from "../../core/lifecycle.ts";
import { loadIssueForm } from "../infra/repo-config.ts";
import type { RequestSession } from "../infra/request-session.ts";
import { approvalsVoidedByUnseenEdit } from "../../core/messages/approval-messages.ts";
import { lostBodyEdit } from "../../core/messages/record-messages.ts";
import { withdrawApproval } from "./withdraw-approval.ts";

/**
 * How long GitHub's last change of the issue must be past before a body that differs from the records
 * counts as an edit whose delivery was lost, not one whose delivery is still on its way.
 */
export const LOST_EDIT_SETTLED_MS = 60_000;

export interface LostEdits {
  /** The body was changed by an edit the app never received: the requester was asked to save it again. */
  body: boolean;
  /** Approval comments edited or deleted without the app hearing of it: those approvals withdrawn. */
  withdrawn: number[];
}

/**
 * GitHub never sends a failed delivery again, so an `issues.edited` or an `issue_comment.edited` /
 * `.deleted` can be lost for good. This compares GitHub with the records and does what the lost
 * delivery would have done, as far as it can be told from GitHub now:
 *
 * - an approval whose comment is gone, or was edited since it was posted (GitHub's `updated_at`), is
 *   withdrawn with the record id and reason handle-comment-change.ts uses, so a late delivery of the
 *   same change is a no-op;
 * - a body whose request differs from the recorded one was edited, but by whom is not in the listing
 *   (only the lost delivery's sender said). The edit is not taken as the requester's (a writer's edit
 *   would then change their request) nor ignored (approvers read the body): the recorded request
 *   stands, every approval given so far stops counting, and the requester is asked to save the edit
 *   again, which arrives as an ordinary `edited` with its sender.
 *
 * Run by the start-up and per-issue catch-up and by every sweep; records are idempotent.
 */
export async function catchUpLostEdits(
  session: RequestSession,
  options: { settledMs?: number } = {},
): Promise<LostEdits> {
  const found: LostEdits = { body: false, withdrawn: [] };
  const { state, issue, deps } = session;
  // A request naming several resources is being decided while any of its resources is, even with
  // another one's grant live (the request as a whole then shows that grant's status).
  const deciding = (s: RequestState) => s.status === "requested" || s.status === "approved";
  if (
    session.gone ||
    issue.state !== "open" ||
    !session.parts().some((p) => deciding(p.state)) ||
    (!state.request && !state.parts)
  )
    return found;

  // Each part of a request naming several resources has its own approvals.
  for (const view of session.parts())
    for (const approval of deciding(view.state) ? view.state.approvals : []) {
      if (approval.comment_id === undefined) continue;
      const comment = session.comments.find((c) => c.id === approval.comment_id);
      const change = !comment
        ? "deleted"
        : comment.updated_at !== undefined && comment.updated_at !== comment.created_at
          ? "edited"
          : null;
      if (!change) continue;
      const recorded = await withdrawApproval(
        view,
        { actor: approval.actor, commentId: approval.comment_id },
        change,
        true,
      );
      if (recorded.ok && !recorded.duplicate) found.withdrawn.push(approval.comment_id);
    }

  const settledMs = options.settledMs ?? LOST_EDIT_SETTLED_MS;
  const quiet = issue.updated_at === undefined || Date.parse(issue.updated_at) <= deps.now() - settledMs;
  const current = session.state;
  if (quiet && session.parts().some((p) => deciding(p.state))) {
    const form = await loadIssueForm(session.port);
    const parsed = form
      ? checkRequestBody(
          issue.body,
          form,
          session.config.policies,
          session.config.policyErrors,
          // A retroactive record's times were checked against when the edit came; a lost one, against now.
          deps.now(),
        )
      : null;
    const hash = parsed?.ok ? combinedHash(parsed.value) : null;
    const recordedHash = recordedCombinedHash(current);
    const changed = parsed?.ok ? changesRecordedRequest(current, parsed.value) : recordedHash !== null;
    if (parsed && changed && !alreadyRefused(session, hash)) {
      const id = `unseen_edit:${createHash("sha256").update(issue.body).digest("hex").slice(0, 16)}`;
      let voidedAny = false;
      for (const view of session.parts()) {
        const approvals = view.state.approvals.filter((a) => a.via !== "auto");
        const voidId = view.part === null ? `${id}:voided` : `${id}:voided:${view.part}`;
        if (!approvals.length || !PENDING.has(view.state.status)) continue;
        voidedAny = true;
        if (session.hasRecord(voidId)) continue;
        await view.record(
          voidId,
          {
            type: "approvals_voided",
            actor: deps.identity.login,
            voided: approvals.map((a) => ({ actor: a.actor, reason: "request_edited_unseen" as const })),
            required_approvals: view.state.required_approvals,
          },
          approvalsVoidedByUnseenEdit(approvals.map((a) => a.actor)),
        );
      }
      const requester = current.requester ?? issue.user.login;
      const text = lostBodyEdit({
        hash: recordedHash ?? "",
        approvalsVoided: voidedAny,
        requester,
      });
      const refused = await session.record(
        id,
        { type: "edit_refused", actor: deps.identity.login, requester, hash },
        text,
      );
      found.body = refused.ok && !refused.duplicate;
    }
  }
  if (found.body || found.withdrawn.length) await session.publish();
  return found;
}

/** The body's request is one an edit refusal since the last request record already answered. */
export function alreadyRefused(session: RequestSession, hash: string | null): boolean {
  for (const event of [...session.events].reverse()) {
    if (event.type === "requested") return false;
    if (event.type === "edit_refused" && event.hash === hash) return true;
  }
  return false;
}
