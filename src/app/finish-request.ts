import { ENDED_WITHOUT_GRANT } from "../core/lifecycle.ts";
import type { RequestSession } from "./request-session.ts";

/** A request that ended without a grant (denied, cancelled, timed out) is closed as not planned. */
export async function finishRequest(session: RequestSession): Promise<void> {
  await session.publish();
  if (!session.state.closed && ENDED_WITHOUT_GRANT.has(session.state.status)) {
    await session.record("closed", { type: "closed", actor: session.deps.identity.login }, "🔒 Closing: this request ended without a grant.");
    await session.port.updateIssue(session.number, { state: "closed", state_reason: "not_planned" });
  }
}
