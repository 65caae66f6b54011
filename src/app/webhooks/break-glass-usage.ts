import type { BreakglassDeps } from "../infra/deps.ts";
import type { RequestSession } from "../infra/request-session.ts";
import { otherRequestsOf } from "../infra/requester-requests.ts";

const WINDOW_MS = 30 * 24 * 3600 * 1000;

/**
 * How many times this person broke the glass (self-approved, one /break-glass command each) on their other requests in this
 * repository in the last 30 days, counted from each issue's verified records — not from titles,
 * labels, issue state or anything a user can edit. Repeated use is flagged, not refused: the policy decides
 * whether break-glass is allowed; the review decides whether it was abused.
 */
export async function priorBreakGlassUses(
  deps: BreakglassDeps,
  current: RequestSession,
  login: string,
): Promise<number> {
  const since = deps.now() - WINDOW_MS;
  let uses = 0;
  for await (const session of otherRequestsOf(deps, current.port, login, {
    except: current.number,
    since,
    config: current.config,
  })) {
    // One /break-glass is one use, also on a request naming several resources (recorded once per
    // resource as `comment:<id>:<resource>`): the signed records' ids say which command each came from.
    const commands = session.chain
      .filter(
        (e) =>
          e.entry.event.type === "break_glass" &&
          e.entry.event.actor.toLowerCase() === login.toLowerCase() &&
          Date.parse(e.entry.at) >= since,
      )
      .map((e) => e.entry.id.split(":").slice(0, 2).join(":"));
    uses += new Set(commands).size;
  }
  return uses;
}
