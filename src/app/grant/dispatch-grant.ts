import { collectDeadline } from "../../core/approval-expiry.ts";
import { escapeInline } from "../../core/markdown.ts";
import type { RequestSession } from "../infra/request-session.ts";
import { runUrl } from "./trusted-run.ts";
import { dispatchFailed, dispatchRunUnknown } from "../../core/messages/grant-messages.ts";

/** With no run exchanging its token this long after a dispatch, the workflow is dispatched again. */
export const REDISPATCH_AFTER_MS = 10 * 60_000;
/** At most this many extra dispatches; then the request waits for an owner (and its comment says so). */
export const MAX_REDISPATCHES = 3;

/**
 * Starts the grant workflow for an approved request. Credentials are only ever handed to that
 * workflow's run (through the OIDC exchange), never to a comment.
 */
export async function dispatchGrant(
  session: RequestSession,
  options: { deferMirror?: boolean } = {},
): Promise<void> {
  const { deps, port } = session;
  // A drill's own workflow run exchanges its token: that is the rehearsal.
  if (session.state.request?.drill) return;
  const repo = await port.repository();
  const policy = session.policy();
  const environment = policy?.environment;
  let runId: number | null;
  try {
    // Always the default branch: its copy of the workflow is the reviewed one, and the exchange
    // accepts no other. One workflow serves every policy: the job's environment comes as an input.
    ({ run_id: runId } = await port.dispatchWorkflow(deps.grantWorkflow, repo.default_branch, {
      issue: String(session.number),
      ...(environment ? { environment } : {}),
      // A request naming several resources: one run per resource, each in its own concurrency group.
      ...(session.part !== null ? { resource: session.part } : {}),
    }));
    // If no run ever exchanges its token (no runner, a cancelled run), reconcile dispatches again.
    // The timer fires no later than the approval's collect deadline, so an expiry is recorded on time.
    const deadline = policy ? collectDeadline(session.state, policy) : null;
    deps.scheduler?.schedule(
      port,
      session.number,
      Math.min(deps.now() + REDISPATCH_AFTER_MS, deadline ?? Infinity),
    );
  } catch (error) {
    await port.createComment(
      session.number,
      dispatchFailed({
        workflow: deps.grantWorkflow,
        error: (error as Error).message,
        defaultBranch: repo.default_branch,
        issue: session.number,
      }),
    );
    return;
  }
  if (runId === null) {
    await port.createComment(
      session.number,
      dispatchRunUnknown({
        workflow: deps.grantWorkflow,
        defaultBranch: repo.default_branch,
        issue: session.number,
      }),
    );
    return;
  }
  // Recorded before any run can exchange: only runs in the request's records receive credentials.
  await session.record(
    `dispatched:${runId}`,
    { type: "dispatched", actor: deps.identity.login, run_id: String(runId) },
    `🏃 Started the grant workflow as [run ${runId}](${runUrl(session, runId)}) on \`${escapeInline(repo.default_branch, 80)}\`. Only this run receives the credentials; runs on other branches, or started by anyone but an approver, are refused.`,
    options,
  );
}
