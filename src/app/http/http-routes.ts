import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { BreakglassDeps } from "../infra/deps.ts";
import { SCHEDULED_EVENTS } from "../../core/workload-trust.ts";
import { APP_ROUTES, type ReleaseResult, type RefusalBody } from "../../core/app-wire.ts";
import { LedgerUnavailable } from "../../github/ledger.ts";
import {
  ExchangeRefusal,
  checkWorkflowIdentity,
  exchangeToken,
  releaseGrant,
} from "../grant/grant-exchange.ts";
import type { GitHubPort } from "../../github/github-port.ts";
import { HttpError, readJson, sendJson } from "./http-json.ts";
import type { IssueLock } from "../infra/issue-lock.ts";
import { OidcRefusal, type ActionsClaims } from "../grant/oidc-verifier.ts";
import { reconcileRepository } from "../grant/reconcile.ts";
import { introspectionContext } from "../grant/introspect-from-records.ts";
import { refuseUsedRun } from "../grant/run-reservation.ts";

export interface RouteContext {
  deps: BreakglassDeps;
  verify: (token: string) => Promise<ActionsClaims>;
  /** The installation's view of a repository, or null when the app is not installed there. */
  portFor: (owner: string, repo: string) => Promise<GitHubPort | null>;
  lock: IssueLock;
  log: { info: (o: object, m?: string) => void; warn: (o: object, m?: string) => void };
  extra?: Array<(req: IncomingMessage, res: ServerResponse) => Promise<boolean>>;
  /** Told of every refusal (the exchange-refusals metric). */
  onRefusal?: (path: string, code: string) => void;
}

const REPO = /^([A-Za-z0-9-]{1,39})\/([A-Za-z0-9._-]{1,100})$/;

/** The app's own HTTP routes beside Probot's webhook route. Returns true when it answered. */
export function createRoutes(ctx: RouteContext) {
  return async function routes(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const path = (req.url ?? "/").split("?")[0];
    // One id per request in every log line and in the answer, so a refusal the Action prints can be
    // found in the app's logs. A caller's id is kept only if it looks like one (no log injection).
    const given = req.headers["x-request-id"];
    const reqId = typeof given === "string" && /^[A-Za-z0-9._:-]{8,64}$/.test(given) ? given : randomUUID();
    res.setHeader("x-request-id", reqId);
    const log = {
      info: (o: object, m?: string) => ctx.log.info({ req_id: reqId, ...o }, m),
      warn: (o: object, m?: string) => ctx.log.warn({ req_id: reqId, ...o }, m),
    };
    try {
      if (req.method === "GET" && path === APP_ROUTES.health) {
        sendJson(res, 200, { ok: true });
        return true;
      }
      if (req.method === "GET" && path === APP_ROUTES.jwks) {
        res.setHeader("cache-control", "public, max-age=300");
        sendJson(res, 200, ctx.deps.jwks);
        return true;
      }
      if (req.method === "POST" && path === APP_ROUTES.introspect && ctx.deps.introspect) {
        const body = await readJson(req);
        const result = await ctx.deps.introspect(
          typeof body.token === "string" ? body.token : "",
          introspectionContext(body) ?? undefined,
        );
        sendJson(res, 200, result.active ? result : { active: false });
        return true;
      }
      if (
        req.method === "POST" &&
        (path === APP_ROUTES.exchange || path === APP_ROUTES.release || path === APP_ROUTES.sweep)
      ) {
        const body = await readJson(req);
        const token = typeof body.token === "string" ? body.token : "";
        const claims = await ctx.verify(token);
        const repository = typeof body.repository === "string" ? body.repository : claims.repository;
        const match = REPO.exec(repository);
        if (!match) throw new HttpError(400, "bad_repository", "`repository` must be owner/name.");
        const port = await ctx.portFor(match[1]!, match[2]!);
        if (!port)
          throw new HttpError(404, "not_installed", `The Breakglass app is not installed on ${repository}.`);
        if (path === APP_ROUTES.sweep) {
          await checkWorkflowIdentity(port, claims, {
            workflow: ctx.deps.sweepWorkflow,
            events: SCHEDULED_EVENTS,
          });
          const report = await reconcileRepository(ctx.deps, port);
          log.info({ repository, report }, "sweep");
          sendJson(res, 200, report);
          return true;
        }
        const issue = Number(body.issue);
        if (!Number.isSafeInteger(issue) || issue <= 0)
          throw new HttpError(400, "bad_issue", "`issue` must be a positive issue number.");
        const key = `${repository}#${issue}`;
        if (path === APP_ROUTES.release) {
          const outcome = await ctx.lock(key, () => releaseGrant(ctx.deps, port, claims, issue));
          sendJson(res, 200, { outcome } satisfies ReleaseResult);
          return true;
        }
        await refuseUsedRun(port, claims);
        const result = await ctx.lock(key, () => exchangeToken(ctx.deps, port, claims, token, issue));
        log.info({ repository, issue, grant: result.grant_id, credential: result.credential_id }, "granted");
        sendJson(res, 200, result);
        return true;
      }
      for (const handler of ctx.extra ?? []) if (await handler(req, res)) return true;
      return false;
    } catch (error) {
      const code =
        error instanceof OidcRefusal || error instanceof ExchangeRefusal || error instanceof HttpError
          ? error.code
          : null;
      if (code !== null && path) ctx.onRefusal?.(path, code);
      if (error instanceof OidcRefusal) return refuse(res, log, 401, error.code, error.message);
      if (error instanceof ExchangeRefusal) return refuse(res, log, error.status, error.code, error.message);
      if (error instanceof HttpError) return refuse(res, log, error.status, error.code, error.message);
      // Nothing was decided: the Action retries a 503 (bounded back-off) and nothing was minted or recorded.
      if (error instanceof LedgerUnavailable)
        return refuse(res, log, 503, "ledger_unavailable", error.message);
      throw error;
    }
  };
}

function refuse(
  res: ServerResponse,
  log: Pick<RouteContext["log"], "warn">,
  status: number,
  code: string,
  message: string,
): true {
  log.warn({ status, code }, message);
  sendJson(res, status, { error: code, message } satisfies RefusalBody);
  return true;
}
