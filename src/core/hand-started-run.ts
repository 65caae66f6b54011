import { isBot, type Actor } from "./approval-rules.ts";
import { hasWriteAccess } from "./approvers.ts";
import type { RequestState } from "./lifecycle.ts";

/**
 * Whether a grant workflow run someone started by hand may collect a request's credentials: only an
 * eligible approver of that request (a person, not its requester, with write access) may start one,
 * so starting a run is never a way around the approval. Returns why not, or null when allowed.
 */
export function handStartedRunRefusal(state: RequestState, starter: Actor): string | null {
  const login = starter.login.toLowerCase();
  if (isBot(starter)) return `its starter @${starter.login} is not a person.`;
  if (state.requester !== null && state.requester.toLowerCase() === login)
    return `its starter @${starter.login} is the requester; an approver must start the workflow.`;
  if (!starter.eligibility) return `its starter @${starter.login} is not an approver of this resource.`;
  if (!hasWriteAccess(starter.permission))
    return `its starter @${starter.login} has no write access to the repository.`;
  return null;
}
