/**
 * The emulator's GitHub App user authorization (web application flow), as strict as GitHub's
 * documentation says: client_id, redirect_uri exactly a registered callback URL, `state` passed back,
 * the code single use (a reuse also revokes the token it gave), bound to its redirect_uri, 10 minutes'
 * life; token-endpoint errors are 200 responses with `error`; GET /user answers for the user token.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { FakeClock } from "../../../src/sandbox/clock.ts";
import { CODE_TTL_MS, SESSION_COOKIE } from "../../../src/sandbox/github/oauth-web-flow.ts";
import { startTestEmulator, type TestEmulator } from "./helpers.ts";

const CALLBACK = "http://127.0.0.1:9/breakglass/auth/callback";
let t: TestEmulator;
let clientId = "";
let clientSecret = "";
const clock = new FakeClock(Date.parse("2026-11-24T09:00:00Z"));

before(async () => {
  t = await startTestEmulator({ credentialClock: clock });
  t.emulator.setOAuthCallbackUrls([CALLBACK]);
  ({ clientId, clientSecret } = t.emulator.oauthClient);
});
after(() => t.emulator.close());

async function authorize(params: Record<string, string>, login: string | null = "dave") {
  const url = new URL(`${t.emulator.url}/login/oauth/authorize`);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const res = await fetch(url, {
    redirect: "manual",
    headers: login ? { cookie: `${SESSION_COOKIE}=${t.emulator.webSessionFor(login)}` } : {},
  });
  return { status: res.status, location: res.headers.get("location"), text: await res.text() };
}
async function exchange(params: Record<string, string>) {
  const res = await fetch(`${t.emulator.url}/login/oauth/access_token`, {
    method: "POST",
    headers: { accept: "application/json", "content-type": "application/json" },
    body: JSON.stringify(params),
  });
  return { status: res.status, json: (await res.json()) as Record<string, string> };
}
const codeFrom = (location: string | null) => new URL(location!).searchParams.get("code")!;

describe("GitHub App user authorization (web application flow) in the emulator", () => {
  it("redirects a signed-in person to the registered callback with a code and the state; the code gives a ghu_ token for that person", async () => {
    const a = await authorize({ client_id: clientId, redirect_uri: CALLBACK, state: "s-123" });
    assert.equal(a.status, 302);
    assert.equal(new URL(a.location!).origin + new URL(a.location!).pathname, CALLBACK);
    assert.equal(new URL(a.location!).searchParams.get("state"), "s-123");
    const token = await exchange({
      client_id: clientId,
      client_secret: clientSecret,
      code: codeFrom(a.location),
      redirect_uri: CALLBACK,
    });
    assert.equal(token.status, 200);
    assert.match(token.json.access_token!, /^ghu_/);
    assert.equal(token.json.token_type, "bearer");
    const me = await t.api("GET", "/user", token.json.access_token);
    assert.equal(me.status, 200);
    assert.equal((me.json as { login: string }).login, "dave");
  });

  it("never redirects to an unregistered redirect_uri, and refuses an unknown client_id", async () => {
    const evil = await authorize({
      client_id: clientId,
      redirect_uri: "https://evil.example/steal",
      state: "x",
    });
    assert.equal(evil.status, 400);
    assert.equal(evil.location, null);
    const prefix = await authorize({ client_id: clientId, redirect_uri: `${CALLBACK}/../../x` });
    assert.equal(prefix.status, 400, "only an exact match");
    const unknown = await authorize({ client_id: "Iv23nope", redirect_uri: CALLBACK });
    assert.equal(unknown.status, 404);
  });

  it("asks a browser that is not signed in to GitHub to sign in, issuing no code", async () => {
    const a = await authorize({ client_id: clientId, redirect_uri: CALLBACK }, null);
    assert.equal(a.status, 401);
    assert.equal(a.location, null);
  });

  it("a code works once; using it again fails and revokes the token it gave", async () => {
    const code = codeFrom((await authorize({ client_id: clientId, redirect_uri: CALLBACK })).location);
    const first = await exchange({
      client_id: clientId,
      client_secret: clientSecret,
      code,
      redirect_uri: CALLBACK,
    });
    assert.match(first.json.access_token!, /^ghu_/);
    const again = await exchange({
      client_id: clientId,
      client_secret: clientSecret,
      code,
      redirect_uri: CALLBACK,
    });
    assert.equal(again.status, 200, "GitHub answers token errors with 200");
    assert.equal(again.json.error, "bad_verification_code");
    assert.equal(
      (await t.api("GET", "/user", first.json.access_token)).status,
      401,
      "the token from a replayed code is revoked",
    );
  });

  it("refuses a wrong client secret, a different redirect_uri at the exchange, and an expired code", async () => {
    const code = codeFrom((await authorize({ client_id: clientId, redirect_uri: CALLBACK })).location);
    assert.equal(
      (await exchange({ client_id: clientId, client_secret: "wrong", code, redirect_uri: CALLBACK })).json
        .error,
      "incorrect_client_credentials",
    );
    assert.equal(
      (
        await exchange({
          client_id: clientId,
          client_secret: clientSecret,
          code,
          redirect_uri: "http://127.0.0.1:9/other",
        })
      ).json.error,
      "redirect_uri_mismatch",
    );
    assert.equal(
      (await exchange({ client_id: clientId, client_secret: clientSecret, code })).json.error,
      "redirect_uri_mismatch",
      "named at authorize, so required at the exchange",
    );
    const late = codeFrom((await authorize({ client_id: clientId, redirect_uri: CALLBACK })).location);
    clock.advance(CODE_TTL_MS + 1);
    assert.equal(
      (
        await exchange({
          client_id: clientId,
          client_secret: clientSecret,
          code: late,
          redirect_uri: CALLBACK,
        })
      ).json.error,
      "bad_verification_code",
    );
  });

  it("GET /user is for a person's token: an installation token gets 403", async () => {
    assert.equal((await t.api("GET", "/user", t.emulator.installationToken())).status, 403);
    assert.equal((await t.api("GET", "/user")).status, 401);
  });
});
