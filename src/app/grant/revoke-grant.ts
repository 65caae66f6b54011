import { REVOKE_FAILED_LABEL } from "../../core/labels.ts";
import { needsReview } from "../../core/lifecycle.ts";
import type { RevocationReason } from "../../core/lifecycle-events.ts";
import { credentialOf } from "./credential-ref.ts";
import { collectGrantUses, usageSeal } from "./collect-uses.ts";
import { openReview } from "./open-review.ts";
import { AUDIT_LABEL, type RequestSession } from "../infra/request-session.ts";
import { renderClosingSummary } from "../../core/messages/closing-summary.ts";
import {
  REVOCATION_WORDS,
  revocationFailed,
  revoked as revokedText,
  reviewOpened,
} from "../../core/messages/grant-messages.ts";

/**
 * The one revocation path, for expiry, /revoke, /cancel, the Action's post step and the sweep:
 * provider.revoke, then provider.verifyRevoked; only a verified revocation is recorded as such and
 * lets the issue close. A failure is recorded, labelled, alerted and retried — never hidden.
 */
export async function revokeGrant(
  session: RequestSession,
  reason: RevocationReason,
  actor: string,
  note?: string,
): Promise<"revoked" | "failed" | "nothing"> {
  const { state, deps } = session;
  const grant = state.grant;
  if (!grant || !["active", "revoke_failed"].includes(state.status)) return "nothing";
  const policy = session.policy();
  let error: string | null = null;
  let evidence = "";
  try {
    const { provider, ref } = credentialOf(session);
    await provider.revoke(ref);
    const check = await provider.verifyRevoked(ref);
    evidence = check.evidence;
    if (!check.revoked) error = `revocation could not be verified: ${check.evidence}`;
  } catch (e) {
    error = (e as Error).message;
  }
  if (error !== null) {
    const attempt = grant.revocation_failures + 1;
    deps.counters?.revokeFailed(grant.provider);
    await session.record(
      `revocation_failed:${grant.grant_id}:${attempt}`,
      { type: "revocation_failed", actor, grant_id: grant.grant_id, error: error.slice(0, 500), attempt },
      revocationFailed(attempt, error, !!policy?.notify.length),
    );
    await session.publish();
    await session.port.addLabels(session.number, [REVOKE_FAILED_LABEL]);
    if (!session.issue.labels.includes(REVOKE_FAILED_LABEL)) session.issue.labels.push(REVOKE_FAILED_LABEL);
    if (policy) {
      await deps.notifier.notify(policy.notify, {
        event: "revocation_failed",
        repository: `${session.port.owner}/${session.port.repo}`,
        issue: session.number,
        url: session.url,
        summary: `revocation of ${grant.credential_id} failed (attempt ${attempt})`,
      });
    }
    deps.scheduler?.retry(session.port, session.number, attempt);
    return "failed";
  }
  const words = REVOCATION_WORDS[reason];
  // After revocation (sessions ended), so the collection holds everything the credential did.
  const usage = session.hasRecord(`revoked:${grant.grant_id}`)
    ? undefined
    : await usageSeal(session, await collectGrantUses(session));
  await session.record(
    `revoked:${grant.grant_id}`,
    { type: "revoked", actor, grant_id: grant.grant_id, reason, evidence, ...(usage ? { usage } : {}) },
    revokedText({ reason, actor, credentialId: grant.credential_id, evidence, note }),
  );
  // Another resource of the same request whose revocation still fails keeps the label.
  if (session.issue.labels.includes(REVOKE_FAILED_LABEL) && session.wholeState.status !== "revoke_failed")
    await session.port.removeLabel(session.number, REVOKE_FAILED_LABEL);
  if (policy) {
    await deps.notifier.notify(policy.notify, {
      event: "revoked",
      repository: `${session.port.owner}/${session.port.repo}`,
      issue: session.number,
      url: session.url,
      summary: `${grant.credential_id} ${words}`,
    });
  }
  await finishGrant(session);
  return "revoked";
}

/** After a verified revocation: open the post-event review, post the summary, close the issue. Idempotent. */
export async function finishGrant(part: RequestSession): Promise<void> {
  // The issue's to finish: a request naming several resources ends, and is reviewed once, when every one of them has.
  const session = part.whole();
  const { state, deps } = session;
  // An ended grant, or a retroactive record once decided: both get their post-event review.
  if (!needsReview(state)) return;
  if (state.review_issue === null) {
    const { number: checklist, items } = await openReview(session);
    const claimed = await session.recordAndConfirm(
      "checklist_opened",
      { type: "checklist_opened", actor: deps.identity.login, issue: checklist, items },
      reviewOpened(checklist),
    );
    // Another replica finished this grant at the same moment and its review issue counts: retire ours.
    if (claimed.ok && !claimed.won) await retireDuplicateReview(session, checklist);
  }
  if (session.state.closed) return session.publish();
  // The closing record first; then the status comment, and the labels with the closing in one write.
  await session.record(
    "closed",
    { type: "closed", actor: deps.identity.login },
    renderClosingSummary({ state: session.state, events: session.events, entries: session.chain.length }),
  );
  await session.publish({ closeAs: session.state.status === "denied" ? "not_planned" : "completed" });
}

/** A review issue that lost the race to another replica's: unlabelled (so it is no review), then closed. */
async function retireDuplicateReview(session: RequestSession, duplicate: number): Promise<void> {
  const winner = session.state.review_issue;
  if (winner === duplicate) return;
  await session.port.removeLabel(duplicate, AUDIT_LABEL);
  await session.port.createComment(
    duplicate,
    `Duplicate: the post-event review of #${session.number} is ${winner ? `#${winner}` : "the other one"} (two Breakglass replicas finished the grant at the same moment). Nothing to do here.`,
  );
  await session.port.updateIssue(duplicate, {
    state: "closed",
    state_reason: "not_planned",
    title: `[breakglass audit] duplicate review of #${session.number}`,
  });
}
