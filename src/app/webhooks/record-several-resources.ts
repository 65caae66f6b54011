import { EDITABLE_PARTS, PENDING } from "../../core/lifecycle.ts";
import { requestHash } from "../../core/request-hash.ts";
import { changesRecordedRequest, combinedHash } from "../../core/request-pairs.ts";
import type { FieldError, Result } from "../../core/result.ts";
import type { AccessRequest } from "../../core/types.ts";
import {
  invalidRequest,
  oneResourceRequest,
  partRemovedByEdit,
  severalResourcesFrozen,
} from "../../core/messages/request-messages.ts";
import { dispatchGrant } from "../grant/dispatch-grant.ts";
import type { RecordOptions, RequestSession } from "../infra/request-session.ts";
import { alreadyRefused } from "./catch-up-lost-edits.ts";
import { errorsKey, lastInvalidKey, recordRequest } from "./record-request.ts";

/**
 * The requester's own body of a request naming several resources (or becoming one), checked: each
 * resource is one part, recorded on its own (core/lifecycle.ts), so each is approved by its own
 * policy's owners and granted and revoked on its own. An edit applies only while every part is still
 * being decided: a part whose resource the body no longer names is withdrawn, a new one is added, an
 * unchanged one keeps its approvals. An invalid body makes every part invalid until it is fixed.
 */
export async function recordSeveralResources(
  session: RequestSession,
  validated: Result<AccessRequest[], FieldError[]>,
  who: { requester: string; editor: string; stillCurrent: RecordOptions["stillCurrent"] },
): Promise<void> {
  const { deps, port } = session;
  const whole = session.wholeState;
  if (whole.parts === null && whole.request) {
    // Recorded for one resource: its records name no parts, and adding them would rewrite what was approved.
    await port.createComment(session.number, oneResourceRequest(whole.request.resource));
    return;
  }
  const existing = session.parts().filter((p) => p.part !== null);
  // A part withdrawn by an earlier edit is over, but blocks nothing: the others are still open to edits.
  const decided = existing.filter((p) => !EDITABLE_PARTS.has(p.state.status));
  if (decided.length) {
    // A re-save (a title edit) changes nothing. A change is refused, and recorded (as another's edit
    // is): the body now differs from the records, and the sweep must not take it for a lost edit.
    if (validated.ok && !changesRecordedRequest(whole, validated.value)) return;
    const hash = validated.ok ? combinedHash(validated.value) : null;
    if (alreadyRefused(session, hash)) return; // this very body was answered (then retitled, say)
    const refused = await session.record(
      `edit_refused:${who.editor.toLowerCase()}:${hash ?? "invalid"}:${session.chain.length}`,
      { type: "edit_refused", actor: who.editor, requester: who.requester, hash },
      severalResourcesFrozen(decided.map((p) => ({ resource: p.part!, status: p.state.status }))),
    );
    if (refused.ok) await session.publish();
    return;
  }
  const { requester, stillCurrent } = who;
  if (!validated.ok) {
    const errors = validated.error;
    if (whole.status === "invalid" && existing.every((p) => lastInvalidKey(p) === errorsKey(errors))) return;
    // Before any part is known, the request as a whole is invalid (no part yet to name).
    const views = existing.length ? existing : [session];
    for (const [index, view] of views.entries()) {
      const recorded = await view.recordAndConfirm(
        `invalid:${errorsKey(errors)}:${session.chain.length}:${view.part ?? ""}`,
        { type: "invalid", actor: requester, errors },
        index === 0
          ? invalidRequest(requester, errors)
          : `✏️ \`${view.part}\`: invalid until the request is fixed.`,
        { stillCurrent },
      );
      if (!recorded.ok || !recorded.won) return;
    }
    await session.publish();
    return;
  }
  const named = new Set(validated.value.map((r) => r.resource));
  for (const view of existing) {
    if (named.has(view.part!) || !PENDING.has(view.state.status)) continue;
    await view.record(
      `part_removed:${view.part}:${session.chain.length}`,
      { type: "cancelled", actor: requester, reason: "removed from the request by the requester's edit" },
      partRemovedByEdit(view.part!),
      { stillCurrent },
    );
  }
  for (const request of validated.value) {
    const view = session.forPart(request.resource);
    const { state } = view;
    if (state.hash === requestHash(request) && state.status !== "invalid") continue; // unchanged part
    const outcome = await recordRequest(view, request, who);
    if (outcome === "lost") return; // another process handling the same delivery goes on
  }
  await session.publish();
  for (const view of session.parts()) {
    if (view.state.status === "approved" && view.state.runs.length === 0) await dispatchGrant(view);
  }
  // Escalate at half the shortest approval timeout (reconcile reschedules the next step).
  const timeouts = session
    .parts()
    .filter((v) => v.state.status === "requested")
    .map((v) => v.policy()?.approvals.timeout_seconds)
    .filter((t): t is number => t !== undefined);
  if (timeouts.length)
    deps.scheduler?.schedule(port, session.number, deps.now() + (Math.min(...timeouts) * 1000) / 2);
}
