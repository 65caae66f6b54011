import { permissionAtLeast, type Permission } from "./approvers.ts";
import { ok, type Result } from "./result.ts";
import { refuse, type Refusal } from "./refusal.ts";
import type { Policy } from "./types.ts";

/**
 * Whether this person may request the resource at all (the policy's `requesters`): at least the
 * minimum repository permission and, when teams are listed, a member of one. A read-only outside
 * collaborator can open an issue, so the issue form alone proves nothing about who they are.
 */
export function checkRequester(
  policy: Pick<Policy, "resource" | "requesters">,
  login: string,
  permission: Permission,
  /** The listed teams ("@org/slug", lower case) the person is a member of. */
  memberOf: ReadonlySet<string>,
  drill = false,
): Result<true, Refusal> {
  // The drill workflow opens its requests as a GitHub App's bot (`github-actions[bot]`), which GitHub's
  // permission API reports as "none": bots are never collaborators. Only a repository's own workflows
  // act as such bots, and a `[bot]` login cannot be registered by a person.
  if (drill && /\[bot\]$/i.test(login)) return ok(true);
  const { min_permission: min, teams } = policy.requesters;
  if (!permissionAtLeast(permission, min)) {
    return refuse(
      "requester_not_allowed",
      `Requests for ${policy.resource} need at least ${min} access to this repository; @${login} has ${permission}. Ask someone with ${min} access (or a repository admin) to request it for the incident.`,
    );
  }
  if (teams && !teams.some((t) => memberOf.has(t.toLowerCase()))) {
    return refuse(
      "requester_not_allowed",
      `Requests for ${policy.resource} may only be opened by members of ${teams.join(", ")}; @${login} is not in any of them. Ask a member to request it.`,
    );
  }
  return ok(true);
}
