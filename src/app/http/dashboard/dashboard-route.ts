import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { BreakglassDeps } from "../../infra/deps.ts";
import type { GitHubPort } from "../../../github/github-port.ts";
import { collectDashboard } from "./collect-dashboard.ts";
import { renderDashboard } from "./render-dashboard.ts";
import { LOGIN_PATH, sessionLogin, signInRoutes, type GitHubSignIn } from "./github-sign-in.ts";

export const DASHBOARD_PATH = "/breakglass";

/**
 * How the dashboard is protected. Never public by default:
 * - `off` (default): the route answers 404.
 * - `proxy`: behind an authenticating reverse proxy (e.g. oauth2-proxy with the GitHub provider,
 *   restricted to the organisation) that sets `X-Forwarded-User` and a shared secret header, so a
 *   request that bypasses the proxy is refused.
 * - `loopback`: no login, but only for connections from 127.0.0.1/::1 (the sandbox and local use).
 * - `github`: Sign in with GitHub (the app's own user web flow, github-sign-in.ts); a signed-in person
 *   sees only the repositories they can read.
 */
export type DashboardAuth =
  | { mode: "off" }
  | { mode: "loopback" }
  | { mode: "proxy"; secret: string }
  | { mode: "github"; signIn: GitHubSignIn };

const equal = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * Whether a request may see operator pages (the dashboard, /metrics) under `auth`; null when it may.
 * `off` is the caller's to handle (the route does not exist).
 */
export function operatorRefusal(
  req: IncomingMessage,
  auth: Exclude<DashboardAuth, { mode: "off" }>,
  what: string,
): { status: 401 | 403; text: string } | null {
  if (auth.mode === "loopback") {
    const remote = req.socket.remoteAddress ?? "";
    return ["127.0.0.1", "::1", "::ffff:127.0.0.1"].includes(remote)
      ? null
      : { status: 403, text: `${what[0]!.toUpperCase()}${what.slice(1)} is only served to this machine.` };
  }
  if (auth.mode === "github") {
    return sessionLogin(auth.signIn, req)
      ? null
      : { status: 401, text: `Sign in with GitHub at ${LOGIN_PATH} to see ${what}.` };
  }
  const user = req.headers["x-forwarded-user"];
  const secret = req.headers["x-breakglass-proxy-secret"];
  if (typeof user !== "string" || !user || typeof secret !== "string" || !equal(secret, auth.secret))
    return { status: 401, text: `Sign in through the Breakglass proxy to see ${what}.` };
  return null;
}

export function dashboardRoute(
  deps: BreakglassDeps,
  auth: DashboardAuth,
  repositories: () => Promise<GitHubPort[]>,
) {
  const signIn = auth.mode === "github" ? signInRoutes(auth.signIn) : null;
  return async function dashboard(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (signIn && (await signIn(req, res))) return true;
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" || (path !== DASHBOARD_PATH && path !== `${DASHBOARD_PATH}/`)) return false;
    if (auth.mode === "off") return false;
    const login = auth.mode === "github" ? sessionLogin(auth.signIn, req) : null;
    if (auth.mode === "github" && !login) {
      res.writeHead(302, { location: LOGIN_PATH, "cache-control": "no-store" }).end();
      return true;
    }
    const refusal = operatorRefusal(req, auth, "the dashboard");
    if (refusal) {
      res.writeHead(refusal.status, { "content-type": "text/plain" }).end(refusal.text);
      return true;
    }
    const all = await repositories();
    // A signed-in person sees the repositories they can read, as GitHub answers for them now.
    const ports = login
      ? (
          await Promise.all(
            all.map(async (port) =>
              (await port.permission(login).catch(() => "none")) === "none" ? null : port,
            ),
          )
        ).filter((p): p is GitHubPort => p !== null)
      : all;
    const data = await collectDashboard(deps, ports);
    res.writeHead(200, {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'",
      "x-frame-options": "DENY",
    });
    res.end(renderDashboard(data));
    return true;
  };
}
