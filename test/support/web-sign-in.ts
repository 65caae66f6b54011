import assert from "node:assert/strict";
import { SESSION_COOKIE } from "../../src/app/http/dashboard/github-sign-in.ts";
import { SESSION_COOKIE as GITHUB_SESSION } from "../../src/sandbox/github/oauth-web-flow.ts";
import type { Sandbox } from "../../src/sandbox/start-sandbox.ts";

/** The app's session cookie (`name=value`) for `login`, through the emulator's Sign in with GitHub (redirects by hand). */
export async function sessionOf(sb: Sandbox, login: string): Promise<string> {
  let url = `${sb.app.url}/breakglass/login`;
  let appCookie = "";
  for (let hop = 0; hop < 10; hop++) {
    const onGitHub = url.startsWith(sb.emulator.url);
    const res = await fetch(url, {
      redirect: "manual",
      headers: onGitHub
        ? { cookie: `${GITHUB_SESSION}=${sb.emulator.webSessionFor(login)}` }
        : appCookie
          ? { cookie: appCookie }
          : {},
    });
    if (!onGitHub)
      for (const line of res.headers.getSetCookie()) {
        const pair = line.split(";")[0]!;
        const name = pair.split("=")[0]!;
        appCookie = [...appCookie.split("; ").filter((c) => c && !c.startsWith(`${name}=`)), pair].join("; ");
      }
    const location = res.headers.get("location");
    if (!location || res.status < 300 || res.status >= 400) break;
    url = new URL(location, url).toString();
  }
  const session = appCookie.split("; ").find((c) => c.startsWith(`${SESSION_COOKIE}=`));
  assert.ok(session, `signed in as ${login}`);
  return session;
}
