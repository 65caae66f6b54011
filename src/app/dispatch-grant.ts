import { escapeInline } from "../core/markdown.ts";
import type { RequestSession } from "./request-session.ts";

/** With no run exchanging its token this long after a dispatch, the workflow is dispatched again. */
export const REDISPATCH_AFTER_MS = 10 * 60_000;
/** At most this many extra dispatches; then the request waits for an owner (and its comment says so). */
export const MAX_REDISPATCHES = 3;

/**
 * Starts the grant workflow for an approved request. Credentials are only ever handed to that
 * workflow's run (through the OIDC exchange), never to a comment.
 */
export async function dispatchGrant(session: RequestSession): Promise<void> {
  const { deps, port } = session;
  // A drill's own workflow run exchanges its token: that is the rehearsal.
  if (session.state.request?.drill) return;
  const repo = await port.repository();
  try {
    await port.dispatchWorkflow(deps.grantWorkflow, repo.default_branch, { issue: String(session.number) });
    // If no run ever exchanges its token (no runner, a cancelled run), reconcile dispatches again.
    deps.scheduler?.schedule(port, session.number, deps.now() + REDISPATCH_AFTER_MS);
  } catch (error) {
    await port.createComment(
      session.number,
      `🚨 Approved, but the grant workflow \`${escapeInline(deps.grantWorkflow, 80)}\` could not be started: ${escapeInline((error as Error).message, 300)}. Check that \`.github/workflows/${escapeInline(deps.grantWorkflow, 80)}\` exists on ${escapeInline(repo.default_branch, 80)}; an owner can run it by hand with input \`issue: ${session.number}\`.`,
    );
  }
}
