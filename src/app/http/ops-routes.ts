import type { IncomingMessage, ServerResponse } from "node:http";
import type { BreakglassDeps } from "../infra/deps.ts";
import { operatorRefusal, type DashboardAuth } from "./dashboard/dashboard-route.ts";
import { sendJson } from "./http-json.ts";
import type { AppMetrics } from "../infra/metrics.ts";

export const OPS_ROUTES = { metrics: "/metrics", ready: "/readyz" } as const;

export interface Readiness {
  /** Resolves when GitHub answers the app's own JWT (the key is good, the API reachable); rejects with why not. */
  github: () => Promise<void>;
  /** How long a good answer from GitHub is reused: probes come every few seconds, GitHub's limits count. */
  cacheMs?: number;
  now: () => number;
}

/**
 * /metrics: Prometheus text, served only as the dashboard is (off → 404, loopback → this machine, proxy
 * → through the authenticating proxy), since grant counts and refusal codes describe live access.
 * /readyz: ready to serve (signing keys loaded, GitHub reachable with the app's key) — 503 until then, so
 * a load balancer sends no traffic to a replica that would fail every call. /healthz (http-routes) only
 * says the process answers.
 */
export function opsRoutes(
  deps: BreakglassDeps,
  auth: DashboardAuth,
  metrics: AppMetrics,
  readiness: Readiness,
) {
  let githubOkUntil = 0;
  return async function ops(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET") return false;
    if (path === OPS_ROUTES.metrics) {
      if (auth.mode === "off") return false;
      const refusal = operatorRefusal(req, auth, "the metrics");
      if (refusal) {
        res.writeHead(refusal.status, { "content-type": "text/plain" }).end(refusal.text);
        return true;
      }
      const text = await metrics.registry.metrics();
      res
        .writeHead(200, { "content-type": metrics.registry.contentType, "cache-control": "no-store" })
        .end(text);
      return true;
    }
    if (path === OPS_ROUTES.ready) {
      const checks: Record<string, string> = {};
      checks.signing_keys = deps.jwks.keys.length > 0 ? "ok" : "no public keys loaded";
      if (readiness.now() < githubOkUntil) checks.github = "ok";
      else {
        try {
          await readiness.github();
          githubOkUntil = readiness.now() + (readiness.cacheMs ?? 30_000);
          checks.github = "ok";
        } catch (error) {
          checks.github = `unreachable: ${(error as Error).message.slice(0, 200)}`;
        }
      }
      const ready = Object.values(checks).every((c) => c === "ok");
      if (ready) sendJson(res, 200, { ok: true, checks });
      else sendJson(res, 503, { error: "not_ready", message: "Not ready: see checks.", checks });
      return true;
    }
    return false;
  };
}
