import type { Actor } from "../../core/approval-rules.ts";
import type { LifecycleEvent } from "../../core/lifecycle-events.ts";
import { approvalRecorded } from "../../core/messages/command-messages.ts";
import { approvalPolicyDigest } from "../../core/policy-digest.ts";
import type { Refusal } from "../../core/refusal.ts";
import type { StepUpProof } from "../../core/step-up.ts";
import { dispatchGrant } from "../grant/dispatch-grant.ts";
import { finishGrant } from "../grant/revoke-grant.ts";
import type { RequestSession } from "../infra/request-session.ts";

export interface ApprovalToRecord {
  /** The record's idempotency key (`comment:<id>`, `webauthn:<nonce>`). */
  id: string;
  actor: Actor;
  /** decideApproval's event. */
  decided: LifecycleEvent;
  proof: StepUpProof | null;
  note?: string;
  /** The comment that carried it, so editing or deleting the comment withdraws it. */
  commentId?: number;
}

/**
 * Records an approval decided by decideApproval (from a comment or the app's WebAuthn page) and, when
 * it completes the request, starts the grant: across replicas, only the one whose record counts dispatches.
 * The caller publishes (mirror comments, status, labels) once it returns "done".
 */
export async function recordApproval(
  session: RequestSession,
  input: ApprovalToRecord,
): Promise<"done" | Refusal> {
  const { actor, proof } = input;
  const who = actor.login;
  const policy = session.policy();
  const digest =
    policy && session.state.request
      ? { policy_digest: approvalPolicyDigest(policy, session.state.request.role) }
      : {};
  const event =
    input.decided.type === "approved"
      ? {
          ...input.decided,
          ...(input.commentId !== undefined ? { comment_id: input.commentId } : {}),
          ...digest,
          ...(proof ? { step_up: proof } : {}),
        }
      : input.decided;
  const s = session.state;
  const count = s.approvals.length + 1;
  const text = approvalRecorded({
    who,
    team: actor.eligibility?.team,
    proof,
    hash: s.hash ?? "",
    count,
    required: s.required_approvals,
    note: input.note,
  });
  const completes = count >= s.required_approvals;
  // The dispatch is what everyone waits for: the approval's mirror comment, the status comment and
  // the labels follow it (the caller publishes once this returns "done"), the ledger record precedes it.
  const recorded = completes
    ? await session.recordAndConfirm(input.id, event, text, { deferMirror: true })
    : await session.record(input.id, event, text, { deferMirror: true });
  if (!recorded.ok) return recorded.refusal;
  if ("won" in recorded && !recorded.won) return "done";
  if (session.state.status === "approved") {
    await dispatchGrant(session, { deferMirror: true });
    await notifyPolicy(session, "approved", `${who} approved; granting`);
  }
  // A retroactive record approved after the fact: nothing to grant; it closes and its review opens.
  if (session.state.status === "recorded") await finishGrant(session);
  return "done";
}

export async function notifyPolicy(
  session: RequestSession,
  event: "approved" | "break_glass",
  summary: string,
): Promise<void> {
  const policy = session.policy();
  if (!policy) return;
  await session.deps.notifier.notify(policy.notify, {
    event,
    repository: `${session.port.owner}/${session.port.repo}`,
    issue: session.number,
    url: session.url,
    summary,
  });
}
