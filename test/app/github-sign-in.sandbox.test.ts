/**
 * Sign in with GitHub for the dashboard, through the real app and the emulator's strict web flow:
 * the browser is played by fetch with a cookie jar (redirects followed by hand, so every hop is
 * checked). The signed-in person sees the repositories they can read; the app keeps no user token.
 * Attack IDs S13-S16 (docs/attack-catalogue.md).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SESSION_COOKIE as GITHUB_SESSION } from "../../src/sandbox/github/oauth-web-flow.ts";
import { SESSION_COOKIE } from "../../src/app/http/dashboard/github-sign-in.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import { sandboxHelpers } from "../support/sandbox-helpers.ts";

let sb: Sandbox;
const { openRequest } = sandboxHelpers(() => sb);

before(async () => {
  sb = await startSandbox({
    runWorkflows: false,
    dashboard: "github",
    permissions: { olivia: "none" },
    users: [
      { login: "dave" },
      { login: "grace" },
      { login: "olivia" },
      { login: "github-actions[bot]", type: "Bot" },
    ],
  });
});
after(() => sb.close());

/** A browser: cookies per origin, redirects followed one at a time. */
function browser(githubLogin: string | null) {
  const jar = new Map<string, Map<string, string>>();
  if (githubLogin)
    jar.set(
      new URL(sb.emulator.url).host,
      new Map([[GITHUB_SESSION, sb.emulator.webSessionFor(githubLogin)]]),
    );
  const hops: string[] = [];
  async function get(
    url: string,
    follow = 10,
  ): Promise<{ status: number; url: string; text: string; headers: Headers }> {
    const host = new URL(url).host;
    const cookies = [...(jar.get(host) ?? new Map()).entries()].map(([k, v]) => `${k}=${v}`).join("; ");
    const res = await fetch(url, { redirect: "manual", headers: cookies ? { cookie: cookies } : {} });
    hops.push(`${res.status} ${url}`);
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const [k, ...v] = pair!.split("=");
      const store = jar.get(host) ?? new Map<string, string>();
      store.set(k!.trim(), v.join("="));
      jar.set(host, store);
    }
    const location = res.headers.get("location");
    if (location && res.status >= 300 && res.status < 400 && follow > 0)
      return get(new URL(location, url).toString(), follow - 1);
    return { status: res.status, url, text: await res.text(), headers: res.headers };
  }
  return { get, jar, hops, appCookie: (name: string) => jar.get(new URL(sb.app.url).host)?.get(name) };
}

describe("Sign in with GitHub (the GitHub App's user web flow)", () => {
  it("the dashboard sends a stranger to GitHub and back; the signed-in person sees the repository they can read", async () => {
    const n = await openRequest("dave", {
      resource: "model-rollback",
      role: "rollback",
      duration: "30m",
      severity: "high",
    });
    const b = browser("grace");
    const page = await b.get(`${sb.app.url}/breakglass`);
    assert.equal(page.status, 200, b.hops.join("\n"));
    assert.ok(
      b.hops.some((h) => h.includes("/login/oauth/authorize")),
      "went through GitHub's authorize page",
    );
    assert.ok(
      b.hops.some((h) => h.includes("/breakglass/auth/callback?code=")),
      "came back with a code",
    );
    assert.match(page.text, new RegExp(`#${n}\\b`));
    const session = b.appCookie(SESSION_COOKIE);
    assert.ok(session, "a session cookie");
    assert.ok(!session.includes("ghu_"), "the session holds no user token");
    const setCookie = (await fetch(`${sb.app.url}/breakglass/login`, { redirect: "manual" })).headers
      .getSetCookie()
      .join("\n");
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Lax/);
  });

  it("S13 a callback whose state was not started in this browser (login CSRF: an attacker's code) is refused (state_mismatch)", async () => {
    const attacker = browser("olivia");
    await attacker.get(`${sb.app.url}/breakglass/login`, 0);
    const authorize = await fetch(
      new URL(
        (await fetch(`${sb.app.url}/breakglass/login`, { redirect: "manual" })).headers.get("location")!,
      ),
      { redirect: "manual", headers: { cookie: `${GITHUB_SESSION}=${sb.emulator.webSessionFor("olivia")}` } },
    );
    const callback = authorize.headers.get("location")!;
    assert.match(callback, /code=/);
    const victim = browser(null);
    const res = await victim.get(callback, 0);
    assert.equal(res.status, 400);
    assert.match(res.text, /state_mismatch/);
    assert.equal(victim.appCookie(SESSION_COOKIE), undefined, "no session");
  });

  it("S14 a forged or altered session cookie is not a session: back to sign-in", async () => {
    const b = browser("grace");
    await b.get(`${sb.app.url}/breakglass`);
    const real = b.appCookie(SESSION_COOKIE)!;
    const [payload, mac] = real.split(".");
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString());
    const forged = `${Buffer.from(JSON.stringify({ ...claims, login: "sam" })).toString("base64url")}.${mac}`;
    for (const cookie of [forged, `${payload}.x${mac!.slice(1)}`, "sam"]) {
      const res = await fetch(`${sb.app.url}/breakglass`, {
        redirect: "manual",
        headers: { cookie: `${SESSION_COOKIE}=${cookie}` },
      });
      assert.equal(res.status, 302);
      assert.equal(res.headers.get("location"), "/breakglass/login");
    }
  });

  it("S15 a session expires: after 8 hours the same cookie is sent to sign in again", async () => {
    const b = browser("grace");
    await b.get(`${sb.app.url}/breakglass`);
    const cookie = b.appCookie(SESSION_COOKIE)!;
    sb.clock.advance(8 * 3600_000 + 1000);
    const res = await fetch(`${sb.app.url}/breakglass`, {
      redirect: "manual",
      headers: { cookie: `${SESSION_COOKIE}=${cookie}` },
    });
    assert.equal(res.status, 302);
  });

  it("S16 a signed-in person without read access to the repository sees none of its requests", async () => {
    const n = await openRequest("dave", {
      resource: "model-rollback",
      role: "rollback",
      duration: "30m",
      severity: "high",
      justification: "secret-incident-text",
    });
    const b = browser("olivia");
    const page = await b.get(`${sb.app.url}/breakglass`);
    assert.equal(page.status, 200, b.hops.join("\n"));
    assert.doesNotMatch(page.text, new RegExp(`#${n}\\b`));
    assert.doesNotMatch(page.text, /acme\/ops/);
  });
});
