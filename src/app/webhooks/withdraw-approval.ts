import { approvalWithdrawn } from "../../core/messages/approval-messages.ts";
import type { RequestSession } from "../infra/request-session.ts";

/**
 * Records that an approval stopped counting because its comment was edited or deleted: one record per
 * comment (the id), whether the webhook said so or the catch-up found it (`byCatchUp`).
 */
export function withdrawApproval(
  session: RequestSession,
  approval: { actor: string; commentId: number },
  change: "edited" | "deleted",
  byCatchUp: boolean,
) {
  return session.record(
    // One comment may have approved several resources of one request: withdrawn from each part.
    session.part === null
      ? `withdrawn:${approval.commentId}`
      : `withdrawn:${approval.commentId}:${session.part}`,
    {
      type: "approval_withdrawn",
      actor: approval.actor,
      comment_id: approval.commentId,
      reason: change === "edited" ? "comment_edited" : "comment_deleted",
    },
    approvalWithdrawn(approval.actor, change, byCatchUp),
  );
}
