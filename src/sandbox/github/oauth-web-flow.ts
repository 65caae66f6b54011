import { randomBytes, timingSafeEqual } from "node:crypto";
import type { Clock } from "../clock.ts";
import type { TokenRecord } from "./auth.ts";
import type { UserRecord } from "./state.ts";

/**
 * The GitHub App's user authorization ("web application flow", GitHub docs: "Generating a user access
 * token for a GitHub App"), on the emulator's web origin:
 *   GET  /login/oauth/authorize?client_id&redirect_uri&state   → 302 to the callback with ?code&state
 *   POST /login/oauth/access_token {client_id, client_secret, code, redirect_uri} → the user token
 * As strict as GitHub or stricter: the client_id must be the app's; redirect_uri must exactly match a
 * registered callback URL (never a redirect to anything else); the code lives 10 minutes, is bound to
 * the client and the redirect_uri it was issued for, and works once (a reused code also revokes the
 * token it gave, RFC 6749 §4.1.2). Errors of the token endpoint are 200 responses with `error`, as
 * GitHub answers ("Troubleshooting OAuth app access token request errors").
 * A person is "signed in to GitHub" in a browser by the `emulator_session` cookie (webSessionFor).
 */
export const CODE_TTL_MS = 10 * 60_000;
export const SESSION_COOKIE = "emulator_session";

interface IssuedCode {
  user: UserRecord;
  redirectUri: string;
  /** Whether the authorize request named redirect_uri (then the exchange must name the same). */
  named: boolean;
  expires: number;
  used: boolean;
  token?: string;
}

export interface OAuthWebFlowDeps {
  clock: Clock;
  clientId: string;
  clientSecret: string;
  /** The app's registered callback URLs (GitHub allows up to 10). */
  callbackUrls: () => readonly string[];
  userOf(session: string): UserRecord | undefined;
  issueToken(user: UserRecord): TokenRecord;
  revokeToken(token: string): void;
}

export interface WebResult {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

const html = (status: number, title: string, text: string): WebResult => ({
  status,
  headers: { "content-type": "text/html; charset=utf-8" },
  body: `<!doctype html><title>${title}</title><h1>${title}</h1><p>${text.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`)}</p>`,
});

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return undefined;
}

const same = (a: string, b: string) =>
  a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export function oauthWebFlow(deps: OAuthWebFlowDeps) {
  const codes = new Map<string, IssuedCode>();

  function authorize(query: URLSearchParams, cookieHeader: string | undefined): WebResult {
    if (query.get("client_id") !== deps.clientId)
      return html(404, "Not Found", "No application has this client_id.");
    const registered = deps.callbackUrls();
    const given = query.get("redirect_uri");
    const redirectUri = given ?? registered[0];
    // GitHub Apps: the redirect_uri must be one of the callback URLs. Stricter than redirecting an
    // error to it: an unregistered URI is never redirected to at all.
    if (!redirectUri || !registered.includes(redirectUri)) {
      return html(
        400,
        "Redirect URI mismatch",
        "The redirect_uri MUST match the registered callback URL for this application.",
      );
    }
    const user = deps.userOf(cookie(cookieHeader, SESSION_COOKIE) ?? "");
    if (!user) return html(401, "Sign in to GitHub", "Sign in to GitHub to continue to the application.");
    const code = randomBytes(10).toString("hex");
    codes.set(code, {
      user,
      redirectUri,
      named: given !== null,
      expires: deps.clock.now() + CODE_TTL_MS,
      used: false,
    });
    const target = new URL(redirectUri);
    target.searchParams.set("code", code);
    const state = query.get("state");
    if (state !== null) target.searchParams.set("state", state);
    return { status: 302, headers: { location: target.toString() }, body: "" };
  }

  function accessToken(params: Record<string, string | undefined>, accept: string | undefined): WebResult {
    const answer = (body: Record<string, string | number>): WebResult =>
      /application\/json/.test(accept ?? "")
        ? {
            status: 200,
            headers: { "content-type": "application/json; charset=utf-8" },
            body: JSON.stringify(body),
          }
        : {
            status: 200,
            headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
            body: new URLSearchParams(
              Object.entries(body).map(([k, v]) => [k, String(v)] as [string, string]),
            ).toString(),
          };
    if (params.client_id !== deps.clientId || !same(params.client_secret ?? "", deps.clientSecret)) {
      return answer({
        error: "incorrect_client_credentials",
        error_description: "The client_id and/or client_secret passed are incorrect.",
      });
    }
    const issued = codes.get(params.code ?? "");
    if (!issued || issued.expires <= deps.clock.now())
      return answer({
        error: "bad_verification_code",
        error_description: "The code passed is incorrect or expired.",
      });
    if (issued.used) {
      if (issued.token) deps.revokeToken(issued.token);
      return answer({
        error: "bad_verification_code",
        error_description: "The code passed is incorrect or expired.",
      });
    }
    if ((issued.named || params.redirect_uri !== undefined) && params.redirect_uri !== issued.redirectUri) {
      return answer({
        error: "redirect_uri_mismatch",
        error_description: "The redirect_uri MUST match the registered callback URL for this application.",
      });
    }
    issued.used = true;
    const token = deps.issueToken(issued.user);
    issued.token = token.token;
    return answer({
      access_token: token.token,
      expires_in: 28_800,
      refresh_token: `ghr_${randomBytes(30).toString("base64url")}`,
      refresh_token_expires_in: 15_897_600,
      scope: "",
      token_type: "bearer",
    });
  }

  return { authorize, accessToken };
}
