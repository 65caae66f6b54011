/**
 * The passkey pages cannot drain the installation's rate limit (A234): their access check (the
 * installed repositories, a permission look-up per repository, under the installation's token) is
 * cached per login for a minute, and each login and client address gets a bounded number of requests
 * a minute, answered 429 with Retry-After past it. Real app over HTTP, the emulator's web sign-in.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import { sessionOf as webSession } from "../support/web-sign-in.ts";

let sb: Sandbox;
before(async () => {
  sb = await startSandbox({
    runWorkflows: false,
    dashboard: "github",
    passkeyRequestLimits: { perLogin: 5, perAddress: 8 },
  });
});
after(() => sb.close());

const sessionOf = (login: string) => webSession(sb, login);

const options = (cookie: string) =>
  fetch(`${sb.app.url}/breakglass/passkeys/options`, {
    method: "POST",
    headers: {
      cookie,
      origin: sb.app.url.replace("127.0.0.1", "localhost"),
      "content-type": "application/json",
    },
    body: JSON.stringify({ owner: sb.repository.split("/")[0] }),
  });

describe("passkey page limits", () => {
  it("A234 the access check is asked of GitHub once a minute per login, not once per request", async () => {
    const grace = await sessionOf("grace");
    sb.emulator.resetApiRequestLog();
    for (let i = 0; i < 4; i++) assert.equal((await options(grace)).status, 200);
    const asked = (template: string) => sb.emulator.apiRequests.filter((r) => r.route === template).length;
    assert.equal(
      asked("/repos/{owner}/{repo}/collaborators/{username}/permission"),
      1,
      "one permission look-up",
    );
    assert.ok(asked("/installation/repositories") <= 1, "the installed repositories listed once");
    await sb.advance(61_000);
  });

  it("A234 past its requests a minute, a login is answered 429 with Retry-After; so is an address, across logins", async () => {
    const grace = await sessionOf("grace");
    for (let i = 0; i < 5; i++) assert.equal((await options(grace)).status, 200, `request ${i + 1}`);
    const refused = await options(grace);
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get("retry-after")) > 0);
    assert.equal(((await refused.json()) as { error: string }).error, "too_many_requests");
    // Same address (127.0.0.1), another login: 8 a minute from one address in all.
    const heidi = await sessionOf("heidi");
    // grace's six (the refused one counts for the address too), then heidi's 7th and 8th.
    assert.equal((await options(heidi)).status, 200);
    assert.equal((await options(heidi)).status, 200);
    assert.equal((await options(heidi)).status, 429, "the address's 8 are used up");
    await sb.advance(61_000);
    assert.equal((await options(grace)).status, 200, "a minute later, admitted again");
  });
});
