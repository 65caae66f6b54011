import { ENDED_WITHOUT_GRANT, needsReview } from "../../core/lifecycle.ts";
import type { RequestSession } from "../infra/request-session.ts";
import { finishGrant } from "./revoke-grant.ts";

/**
 * A request that ended without a grant (denied, cancelled, timed out) is closed as not planned; a
 * denied retroactive record gets its post-event review too (the access was taken all the same).
 */
export async function finishRequest(part: RequestSession): Promise<void> {
  // The to finish: a request naming several resources ends when every one of them has.
  const session = part.whole();
  if (needsReview(session.state)) return finishGrant(session);
  if (session.state.closed || !ENDED_WITHOUT_GRANT.has(session.state.status)) return session.publish();
  // The closing record first; then the status comment, and the labels with the closing in one write.
  await session.record(
    "closed",
    { type: "closed", actor: session.deps.identity.login },
    "🔒 Closing: this request ended without a grant.",
  );
  await session.publish({ closeAs: "not_planned" });
}
