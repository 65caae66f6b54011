import { decodeJwt } from "jose";
import type { BreakglassDeps } from "./deps.ts";
import type { GitHubPort } from "./github-port.ts";
import { RequestSession } from "./request-session.ts";

type Introspect = NonNullable<BreakglassDeps["introspect"]>;

/**
 * Introspection that does not depend on this process's memory: after the token's signature, issuer
 * and expiry check out (and the in-memory revocation list, which answers at once on the replica
 * that revoked), the request issue the token names is read, and the token is active only while the
 * app's own signed records say its grant is live with exactly this credential. So a restarted app,
 * or another replica, never calls a revoked token active.
 */
export function introspectFromRecords(deps: BreakglassDeps, portFor: (owner: string, repo: string) => Promise<GitHubPort | null>, base: Introspect): Introspect {
  return async (token) => {
    const answer = await base(token);
    if (!answer.active) return answer;
    // The signature was verified by `base`, so these claims are the app's own.
    const claims = decodeJwt(token);
    const [owner, repo, ...rest] = typeof claims.bg_repo === "string" ? claims.bg_repo.split("/") : [];
    if (!owner || !repo || rest.length || typeof claims.bg_issue !== "number") return { active: false, reason: "token names no request" };
    const port = await portFor(owner, repo);
    if (!port) return { active: false, reason: "the app is not installed on the token's repository" };
    const { state } = await RequestSession.open(deps, port, claims.bg_issue);
    const live = state.status === "active" && state.grant && !state.grant.ended && state.grant.credential_id === claims.jti;
    return live ? answer : { active: false, reason: "revoked" };
  };
}
