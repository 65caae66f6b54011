import { ok, type Result } from "./result.ts";
import { refuse, type Refusal } from "./refusal.ts";

/** A comment as GitHub stamped it: its id and `created_at`, both assigned by GitHub, not by the app. */
export interface CommentStamp {
  id: number;
  created_at: string;
}

/**
 * Whether an `/approve` comment was written after the app recorded the request content it would
 * approve. GitHub neither orders nor guarantees webhook deliveries, so an approval written for an
 * earlier version can arrive after an edit; the delivery order proves nothing, the comments' own
 * stamps do. Both facts must agree: `created_at` (second resolution, so ties are common) not
 * earlier, and the comment id higher (GitHub lists issue comments by ascending id, in the order
 * they were written). A tie on both, or facts that disagree, count as "not after": the approver is
 * asked to approve again, which costs a comment; counting it could grant content nobody approved.
 */
export function approvalPostdatesRecord(
  approval: CommentStamp,
  record: CommentStamp | null,
  hash: string,
): Result<true, Refusal> {
  const again = "Read the request as it is now and approve again in a new comment.";
  if (record === null) {
    return refuse(
      "approval_predates_request",
      `The app cannot find its record of the request's current content (\`${hash.slice(0, 16)}\`), so it cannot tell whether you saw it. ${again}`,
    );
  }
  const approvedAt = Date.parse(approval.created_at);
  const recordedAt = Date.parse(record.created_at);
  const after =
    Number.isFinite(approvedAt) &&
    Number.isFinite(recordedAt) &&
    approvedAt >= recordedAt &&
    approval.id > record.id;
  if (!after) {
    return refuse(
      "approval_predates_request",
      `This approval was written (${approval.created_at}) before the request's current content \`${hash.slice(0, 16)}\` was recorded (${record.created_at}), so it may be for an earlier version and does not count. ${again}`,
    );
  }
  return ok(true);
}
