/**
 * What the app says on a request issue about its grant: the workflow dispatched and collecting, a run
 * refused, minting failed, the grant revoked or its revocation failed, the review opened, an orphaned
 * credential revoked, a handle resealed. Pure text (tested in test/core/messages); anything that came
 * from outside (error messages, workflow refs, logins) is escaped here.
 */
import type { RevocationReason } from "../lifecycle-events.ts";
import { escapeInline, mention, quoteBlock } from "../markdown.ts";

/** How a grant ended, as the revocation comment and the notify summary say it. */
export const REVOCATION_WORDS: Record<RevocationReason, string> = {
  expired: "expired",
  revoked: "was revoked",
  cancelled: "was cancelled",
  job_ended: "ended with its job",
  incident_closed: "was revoked because its incident was closed",
};

export const revoked = (input: {
  reason: RevocationReason;
  actor: string;
  credentialId: string;
  evidence: string;
  note?: string;
}): string =>
  `🔒 The grant ${REVOCATION_WORDS[input.reason]}${input.reason === "expired" ? "" : ` (by ${mention(input.actor)})`}; the credential \`${escapeInline(input.credentialId, 80)}\` is revoked and verified unusable: ${escapeInline(input.evidence, 300)}${input.note ? `\n\n${quoteBlock(input.note, 500)}` : ""}`;

export const revocationFailed = (attempt: number, error: string, notified: boolean): string =>
  `🚨 **Revocation failed** (attempt ${attempt}): ${escapeInline(error, 500)}\n\nThe issue stays open and revocation is retried until it is verified. ${notified ? "Notify targets were alerted." : ""}`;

export const reviewOpened = (review: number): string =>
  `📋 Post-event review opened: #${review}. It cannot be closed with unchecked items.`;

/** The dispatch itself failed: what to check and how an approver can start the run by hand. */
export const dispatchFailed = (input: {
  workflow: string;
  error: string;
  defaultBranch: string;
  issue: number;
}): string => {
  const workflow = escapeInline(input.workflow, 80);
  const branch = escapeInline(input.defaultBranch, 80);
  return `🚨 Approved, but the grant workflow \`${workflow}\` could not be started: ${escapeInline(input.error, 300)}. Check that \`.github/workflows/${workflow}\` exists on ${branch}; an approver (not the requester) can run it by hand on ${branch} with input \`issue: ${input.issue}\`.`;
};

/** GitHub accepted the dispatch but named no run, so no run is trusted until an approver starts one. */
export const dispatchRunUnknown = (input: {
  workflow: string;
  defaultBranch: string;
  issue: number;
}): string =>
  `⚠️ The grant workflow was dispatched, but GitHub did not say which run it started, so no run can be trusted with the credentials yet. An approver (not the requester) can run \`${escapeInline(input.workflow, 80)}\` by hand on ${escapeInline(input.defaultBranch, 80)} with input \`issue: ${input.issue}\`; that run is accepted because an approver started it.`;

/** The sweep dispatches again an approved request that no run collected. */
export const dispatchRetried = (input: {
  minutesSinceApproval: number;
  workflow: string;
  attempt: number;
  last: boolean;
  issue: number;
}): string =>
  `🔁 Approved ${input.minutesSinceApproval} minutes ago, but no grant workflow run has collected the credentials: dispatching \`${input.workflow}\` again (attempt ${input.attempt + 1}).${input.last ? " This is the last automatic attempt; after it an owner can run the workflow by hand with input `issue: " + input.issue + "`." : ""}`;

/** The run that collects the credentials: the app's own dispatch, or an approver's hand-started run. */
export const runCollecting = (input: {
  runId: number;
  runUrl: string;
  /** Who started it by hand; undefined when the app dispatched it. */
  startedBy?: string;
  defaultBranch: string;
}): string =>
  input.startedBy === undefined
    ? `🏃 Grant workflow [run ${input.runId}](${input.runUrl}), started by Breakglass, is collecting the credentials.`
    : `🏃 ${mention(input.startedBy)}, an approver of this request, started grant workflow [run ${input.runId}](${input.runUrl}) by hand on \`${escapeInline(input.defaultBranch, 80)}\`; it is accepted as the run that receives the credentials.`;

/** A run asked for the credentials and was refused; `lastRecorded` when further refusals are only logged. */
export const exchangeRefused = (input: {
  code: string;
  message: string;
  run: string;
  workflowRef: string;
  actor: string;
  lastRecorded: number | null;
}): string =>
  `🛑 A workflow run asked for this request's credentials and was **refused** (\`${input.code}\`): ${escapeInline(input.message, 500)}\n\nRun ${escapeInline(input.run, 40)} of \`${escapeInline(input.workflowRef, 200)}\`, started by ${mention(input.actor)}. Nothing was minted.${input.lastRecorded !== null ? `\n\nThis is the ${input.lastRecorded}th refusal recorded here; further ones are only logged by the app.` : ""}`;

/** An `age` delivery with no recipient for the requester: what to do (the message says it). */
export const noRecipient = (message: string): string =>
  `🔑 ${escapeInline(message, 600)}\n\nNothing was minted.`;

/** `error` must already be scrubbed of secrets. */
export const mintFailed = (provider: string, error: string): string =>
  `🚨 Minting ${provider} credentials failed: ${escapeInline(error, 400)}. Nothing was granted; the workflow can be re-run.`;

export const orphanRevoked = (credentialId: string, provider: string): string =>
  `🔒 The unrecorded credential \`${escapeInline(credentialId, 80)}\` (${escapeInline(provider, 20)}), minted for this request and never handed out, is now revoked.`;

export const resealed = (keyId: string): string =>
  `🔑 The app's seal key was rotated: this grant's revocation handle is now sealed under the new key (\`${keyId}\`). Nothing else changed.`;

/** Two replicas granted at the same moment: this run's credential lost and never left the app. */
export const grantLostRace = (input: {
  runId: string;
  credentialId: string;
  /** The run whose grant counts, when known. */
  winnerRun: string | null;
  undone: string;
}): string =>
  `↩️ The grant to run ${escapeInline(input.runId, 30)} (credential \`${escapeInline(input.credentialId, 80)}\`) lost a race with ${input.winnerRun !== null ? `run ${escapeInline(input.winnerRun, 40)}` : "another run"} and was ${input.undone === "revoked at once" ? "revoked before it was handed out" : `never handed out; it was ${escapeInline(input.undone, 300)}`}. The request is granted once.`;
