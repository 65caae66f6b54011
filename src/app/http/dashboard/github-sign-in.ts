import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * Sign in with GitHub: the GitHub App's user web flow (GitHub docs, "Generating a user access token
 * for a GitHub App"). /breakglass/login sends the browser to GitHub's authorize page with a random
 * `state` also kept in a short-lived signed cookie; /breakglass/auth/callback checks that `state`
 * (no login CSRF), exchanges the single-use code for a user token, reads GET /user for the login and
 * then drops the token: the app keeps no user token at all. The session is only the login, in a
 * signed (HMAC-SHA256), HttpOnly, SameSite=Lax cookie that expires after SESSION_SECONDS.
 */
export interface GitHubSignIn {
  clientId: string;
  clientSecret: string;
  /** github.com (or the sandbox emulator's origin): /login/oauth/authorize and /login/oauth/access_token live there. */
  webUrl: string;
  /** The REST API base, for GET /user. */
  apiUrl: string;
  /** This app's public URL; the callback is `${publicUrl}/breakglass/auth/callback` (register it on the GitHub App). */
  publicUrl: string;
  /** Key for the session and state cookies' HMAC (32 random bytes). */
  sessionKey: Buffer;
  now?: () => number;
}

export const LOGIN_PATH = "/breakglass/login";
export const CALLBACK_PATH = "/breakglass/auth/callback";
export const SESSION_COOKIE = "breakglass_session";
const STATE_COOKIE = "breakglass_oauth_state";
export const SESSION_SECONDS = 8 * 3600;
const STATE_SECONDS = 600;

export const callbackUrl = (cfg: GitHubSignIn) => `${cfg.publicUrl.replace(/\/+$/, "")}${CALLBACK_PATH}`;

function mac(key: Buffer, text: string): string {
  return createHmac("sha256", key).update(text).digest("base64url");
}

/** `<payload>.<mac>` with the payload base64url JSON; null when the MAC or the expiry fails. */
export function sealed(key: Buffer, purpose: string, value: Record<string, unknown>): string {
  const payload = Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${payload}.${mac(key, `${purpose}.${payload}`)}`;
}
export function unseal(
  key: Buffer,
  purpose: string,
  text: string | undefined,
  now: number,
): Record<string, unknown> | null {
  if (!text) return null;
  const [payload, tag, extra] = text.split(".");
  if (!payload || !tag || extra !== undefined) return null;
  const want = Buffer.from(mac(key, `${purpose}.${payload}`));
  const got = Buffer.from(tag);
  if (want.length !== got.length || !timingSafeEqual(want, got)) return null;
  try {
    const value = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
    return typeof value.exp === "number" && value.exp * 1000 > now ? value : null;
  } catch {
    return null;
  }
}

export function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return undefined;
}

export function setCookie(cfg: GitHubSignIn, name: string, value: string, maxAge: number): string {
  const secure = cfg.publicUrl.startsWith("https:") ? "; Secure" : "";
  return `${name}=${value}; Path=/breakglass; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure}`;
}

/** The signed-in login of a request, or null. */
export function sessionLogin(cfg: GitHubSignIn, req: IncomingMessage): string | null {
  const value = unseal(cfg.sessionKey, "session", cookieOf(req, SESSION_COOKIE), (cfg.now ?? Date.now)());
  return typeof value?.login === "string" ? value.login : null;
}

const text = (res: ServerResponse, status: number, body: string) =>
  void res
    .writeHead(status, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" })
    .end(body);

/** Handles /breakglass/login and /breakglass/auth/callback; false for any other request. */
export function signInRoutes(cfg: GitHubSignIn) {
  const now = () => (cfg.now ?? Date.now)();
  return async function signIn(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? "/", "http://app");
    if (req.method !== "GET" || (url.pathname !== LOGIN_PATH && url.pathname !== CALLBACK_PATH)) return false;
    if (url.pathname === LOGIN_PATH) {
      const state = randomBytes(16).toString("base64url");
      const authorize = new URL("/login/oauth/authorize", cfg.webUrl);
      authorize.searchParams.set("client_id", cfg.clientId);
      authorize.searchParams.set("redirect_uri", callbackUrl(cfg));
      authorize.searchParams.set("state", state);
      authorize.searchParams.set("allow_signup", "false");
      res
        .writeHead(302, {
          location: authorize.toString(),
          "set-cookie": setCookie(
            cfg,
            STATE_COOKIE,
            sealed(cfg.sessionKey, "state", { state, exp: Math.floor(now() / 1000) + STATE_SECONDS }),
            STATE_SECONDS,
          ),
          "cache-control": "no-store",
        })
        .end();
      return true;
    }
    const expected = unseal(cfg.sessionKey, "state", cookieOf(req, STATE_COOKIE), now());
    const state = url.searchParams.get("state");
    const code = url.searchParams.get("code");
    if (!expected || typeof expected.state !== "string" || state !== expected.state) {
      text(
        res,
        400,
        `Sign-in refused (state_mismatch): this sign-in was not started from this browser, or took longer than ${STATE_SECONDS / 60} minutes. Start again at ${LOGIN_PATH}.`,
      );
      return true;
    }
    if (!code) {
      text(
        res,
        400,
        `Sign-in refused (${url.searchParams.get("error") ?? "no_code"}): GitHub did not authorize the sign-in. Start again at ${LOGIN_PATH}.`,
      );
      return true;
    }
    const exchanged = await fetch(new URL("/login/oauth/access_token", cfg.webUrl), {
      method: "POST",
      headers: { accept: "application/json", "content-type": "application/json" },
      body: JSON.stringify({
        client_id: cfg.clientId,
        client_secret: cfg.clientSecret,
        code,
        redirect_uri: callbackUrl(cfg),
      }),
    });
    const token = (await exchanged.json().catch(() => ({}))) as { access_token?: string; error?: string };
    if (!exchanged.ok || !token.access_token) {
      text(
        res,
        400,
        `Sign-in refused (${token.error ?? `token_exchange_${exchanged.status}`}): GitHub did not accept the sign-in code. Start again at ${LOGIN_PATH}.`,
      );
      return true;
    }
    const me = await fetch(`${cfg.apiUrl.replace(/\/+$/, "")}/user`, {
      headers: { authorization: `Bearer ${token.access_token}`, accept: "application/vnd.github+json" },
    });
    const user = (await me.json().catch(() => ({}))) as { login?: string; type?: string };
    // The token is not kept: it goes out of scope here. The session holds only the login.
    if (!me.ok || typeof user.login !== "string" || user.type === "Bot") {
      text(res, 502, "Sign-in failed: GitHub did not say who you are. Try again later.");
      return true;
    }
    res
      .writeHead(302, {
        location: "/breakglass",
        "set-cookie": [
          setCookie(
            cfg,
            SESSION_COOKIE,
            sealed(cfg.sessionKey, "session", {
              login: user.login,
              // One id per sign-in, so two sessions of one login (say, a stolen one) are told apart.
              sid: randomBytes(9).toString("base64url"),
              exp: Math.floor(now() / 1000) + SESSION_SECONDS,
            }),
            SESSION_SECONDS,
          ),
          setCookie(cfg, STATE_COOKIE, "", 0),
        ],
        "cache-control": "no-store",
      })
      .end();
    return true;
  };
}
