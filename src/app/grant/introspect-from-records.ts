import { randomUUID } from "node:crypto";
import { decodeJwt } from "jose";
import type { BreakglassDeps, IntrospectionContext } from "../infra/deps.ts";
import type { GitHubPort } from "../../github/github-port.ts";
import { recordUses } from "./record-uses.ts";
import { RequestSession } from "../infra/request-session.ts";

type Introspect = NonNullable<BreakglassDeps["introspect"]>;

/** Base answers whose token carried the app's valid signature (jose checks the signature before the claims). */
const SIGNED_BUT_INACTIVE = new Set(["revoked", "ERR_JWT_EXPIRED"]);

/**
 * Introspection that does not depend on this process's memory: after the token's signature, issuer
 * and expiry check out (and the in-memory revocation list, which answers at once on the replica
 * that revoked), the request issue the token names is read, and the token is active only while the
 * app's own signed records say its grant is live with exactly this credential. So a restarted app,
 * or another replica, never calls a revoked token active.
 *
 * Every introspection of one of the app's tokens is a use of the credential: the service, time,
 * scopes and answer go into the request's ledger (an inactive answer too: a revoked token presented
 * again is exactly what a review wants to see), and the status comment's count follows.
 */
export function introspectFromRecords(
  deps: BreakglassDeps,
  portFor: (owner: string, repo: string) => Promise<GitHubPort | null>,
  base: Introspect,
): Introspect {
  return async (token, use) => {
    const answer = await base(token);
    if (!answer.active && !SIGNED_BUT_INACTIVE.has(answer.reason ?? "")) return answer;
    // The signature was verified by `base`, so these claims are the app's own.
    const claims = decodeJwt(token);
    const [owner, repo, ...rest] = typeof claims.bg_repo === "string" ? claims.bg_repo.split("/") : [];
    if (!owner || !repo || rest.length || typeof claims.bg_issue !== "number")
      return { active: false, reason: "token names no request" };
    const port = await portFor(owner, repo);
    if (!port) return { active: false, reason: "the app is not installed on the token's repository" };
    const opened = await RequestSession.open(deps, port, claims.bg_issue);
    // A request naming several resources: the token is the credential of one of them, judged by that one's records.
    const session = opened.parts().find((p) => p.state.grant?.credential_id === claims.jti) ?? opened;
    const { state } = session;
    const live =
      answer.active &&
      state.status === "active" &&
      state.grant &&
      !state.grant.ended &&
      state.grant.credential_id === claims.jti;
    const result = live
      ? answer
      : { active: false, reason: answer.active ? "revoked" : (answer.reason ?? "inactive") };
    if (state.grant && state.grant.credential_id === claims.jti) {
      await recordUses(session, [
        {
          id: randomUUID(),
          at: new Date(deps.now()).toISOString(),
          provider: "jwt",
          credential_id: state.grant.credential_id,
          kind: "introspection",
          action: `introspect by ${use?.service ?? "an unnamed service"}`,
          ...(use ? { source: use.service, scopes: use.scopes } : {}),
          result: result.active ? "active" : `inactive: ${result.reason}`,
        },
      ]);
    }
    return result;
  };
}

/** The service's own description of a use, from an introspection request's body; null when it gave none. */
export function introspectionContext(body: Record<string, unknown>): IntrospectionContext | null {
  const service =
    typeof body.service === "string" && /^[A-Za-z0-9._-]{1,100}$/.test(body.service) ? body.service : null;
  if (!service) return null;
  const raw = Array.isArray(body.scopes)
    ? body.scopes
    : typeof body.scope === "string"
      ? body.scope.split(" ")
      : [];
  const scopes = raw
    .filter((s): s is string => typeof s === "string" && /^[\x21-\x7e]{1,100}$/.test(s))
    .slice(0, 20);
  return { service, scopes };
}
