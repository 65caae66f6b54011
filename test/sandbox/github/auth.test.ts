import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { base64url } from "jose";
import { FakeClock } from "../../../src/sandbox/clock.ts";
import { startTestEmulator, type TestEmulator } from "./helpers.ts";

const message = (json: unknown) => (json as { message: string }).message;

describe("emulator authentication", () => {
  let t: TestEmulator;
  let credentialClock: FakeClock;
  before(async () => {
    credentialClock = new FakeClock(Date.now());
    t = await startTestEmulator({ credentialClock, extraRepos: ["infra"] });
  });
  after(() => t.emulator.close());

  const newToken = async (body: unknown = {}) => {
    const res = await t.api(
      "POST",
      `/app/installations/${t.emulator.state.installation.id}/access_tokens`,
      await t.appJwt({}, undefined, credentialClock.now()),
      body,
    );
    return res;
  };

  describe("app JWT", () => {
    it("authenticates the app on /app endpoints only", async () => {
      const jwt = await t.appJwt({}, undefined, credentialClock.now());
      assert.equal((await t.api("GET", "/app", jwt)).status, 200);
      const onRepo = await t.api("GET", "/repos/acme/ops", jwt);
      assert.equal(onRepo.status, 401);
      assert.equal(message(onRepo.json), "Bad credentials");
      const installationToken = t.emulator.installationToken();
      const asToken = await t.api("GET", "/app", installationToken);
      assert.equal(asToken.status, 401);
      assert.equal(message(asToken.json), "A JSON web token could not be decoded");
      assert.equal((await t.api("GET", "/app", t.emulator.userToken("dave"))).status, 401);
    });

    it("refuses JWTs GitHub refuses, with GitHub's messages", async () => {
      const now = Math.floor(credentialClock.now() / 1000);
      const other = generateKeyPairSync("rsa", {
        modulusLength: 2048,
        privateKeyEncoding: { type: "pkcs8", format: "pem" },
        publicKeyEncoding: { type: "spki", format: "pem" },
      });
      const cases: Array<[string, Promise<string>, RegExp]> = [
        [
          "signed by another key",
          t.appJwt({}, other.privateKey, credentialClock.now()),
          /could not be decoded/,
        ],
        [
          "expired",
          t.appJwt({ iat: now - 700, exp: now - 100 }),
          /'Expiration time' claim \('exp'\) must be a numeric value representing the future time/,
        ],
        [
          "living longer than 10 minutes",
          t.appJwt({ iat: now - 30, exp: now + 3600 }),
          /is too far in the future/,
        ],
        ["issued in the future", t.appJwt({ iat: now + 600, exp: now + 900 }), /'Issued at' claim/],
        ["for another app", t.appJwt({ iss: 999 }, undefined, credentialClock.now()), /'Issuer' claim/],
        [
          "unsigned (alg none)",
          Promise.resolve(
            `${base64url.encode(JSON.stringify({ alg: "none" }))}.${base64url.encode(JSON.stringify({ iss: 4242, iat: now, exp: now + 60 }))}.`,
          ),
          /could not be decoded/,
        ],
        ["garbage with two dots", Promise.resolve("a.b.c"), /could not be decoded/],
      ];
      for (const [name, jwt, expected] of cases) {
        const res = await t.api("GET", "/app", await jwt);
        assert.equal(res.status, 401, name);
        assert.match(message(res.json), expected, name);
      }
    });
  });

  describe("installation tokens", () => {
    it("a stateless token (two dots) is an installation token, never taken for an app JWT; the classic format stays available", async () => {
      const token = t.emulator.installationToken();
      assert.equal(token.split(".").length, 3, "it looks like a JWT");
      assert.equal(
        (await t.api("GET", "/repos/acme/ops", token)).status,
        200,
        "a JWT would be refused here with Bad credentials",
      );
      assert.equal(
        message((await t.api("GET", "/app", token)).json),
        "A JSON web token could not be decoded",
      );
      assert.equal((await t.api("DELETE", "/installation/token", token)).status, 204);
      assert.equal((await t.api("GET", "/repos/acme/ops", token)).status, 401, "revoked, then refused");
      const classic = await startTestEmulator({ installationTokenFormat: "classic" });
      try {
        assert.match(classic.emulator.installationToken(), /^ghs_[A-Za-z0-9]{36}$/);
      } finally {
        await classic.emulator.close();
      }
    });

    it("are ghs_ tokens living one hour by the credential clock, then Bad credentials", async () => {
      const res = await newToken();
      assert.equal(res.status, 201);
      const { token, expires_at } = res.json as { token: string; expires_at: string };
      // GitHub's stateless format (rolling out since 2026-04-27): ghs_APPID_JWT, about 520 characters, two dots.
      assert.match(token, /^ghs_4242_[\w-]+\.[\w-]+\.[\w-]+$/);
      assert.ok(token.length > 400 && token.length < 700, `${token.length} characters`);
      assert.equal(Date.parse(expires_at), Math.floor(credentialClock.now() / 1000) * 1000 + 3_600_000);
      assert.equal((await t.api("GET", "/repos/acme/ops", token)).status, 200);
      credentialClock.advance(59 * 60 * 1000);
      assert.equal((await t.api("GET", "/repos/acme/ops", token)).status, 200);
      credentialClock.advance(60 * 1000);
      const expired = await t.api("GET", "/repos/acme/ops", token);
      assert.equal(expired.status, 401);
      assert.deepEqual(expired.json, {
        message: "Bad credentials",
        documentation_url: "https://docs.github.com/rest",
        status: "401",
      });
    });

    it("stop working once revoked with DELETE /installation/token", async () => {
      const { token } = (await newToken()).json as { token: string };
      const other = t.emulator.installationToken();
      assert.equal((await t.api("DELETE", "/installation/token", token)).status, 204);
      assert.equal((await t.api("GET", "/repos/acme/ops/issues", token)).status, 401);
      assert.equal((await t.api("DELETE", "/installation/token", token)).status, 401);
      assert.equal(
        (await t.api("GET", "/repos/acme/ops/issues", other)).status,
        200,
        "only the calling token is revoked",
      );
      assert.equal((await t.api("DELETE", "/installation/token", t.emulator.userToken("dave"))).status, 403);
    });

    it("reach only the repositories they were scoped to (404 elsewhere)", async () => {
      const all = (await newToken()).json as { token: string };
      assert.equal((await t.api("GET", "/repos/acme/infra", all.token)).status, 200);
      const scoped = await newToken({ repositories: ["ops"] });
      const { token, repositories } = scoped.json as {
        token: string;
        repositories: Array<{ full_name: string }>;
      };
      assert.deepEqual(
        repositories.map((r) => r.full_name),
        ["acme/ops"],
      );
      assert.equal((await t.api("GET", "/repos/acme/ops", token)).status, 200);
      assert.equal((await t.api("GET", "/repos/acme/infra", token)).status, 404);
      assert.equal((await t.api("POST", "/repos/acme/infra/issues", token, { title: "x" })).status, 404);
      const listed = await t.api("GET", "/installation/repositories", token);
      assert.deepEqual(
        (listed.json as { repositories: Array<{ name: string }> }).repositories.map((r) => r.name),
        ["ops"],
      );
      const byId = await newToken({ repository_ids: [t.emulator.state.repository.id] });
      assert.equal(
        (await t.api("GET", "/repos/acme/infra", (byId.json as { token: string }).token)).status,
        404,
      );
    });

    it("carry only their permissions (403 Resource not accessible by integration)", async () => {
      const { token, permissions } = (await newToken({ permissions: { issues: "read" } })).json as {
        token: string;
        permissions: Record<string, string>;
      };
      assert.deepEqual(permissions, { issues: "read" });
      assert.equal((await t.api("GET", "/repos/acme/ops/issues", token)).status, 200);
      const write = await t.api("POST", "/repos/acme/ops/issues", token, { title: "nope" });
      assert.equal(write.status, 403);
      assert.equal(message(write.json), "Resource not accessible by integration");
      assert.equal(write.headers.get("x-accepted-github-permissions"), "issues=write");
      assert.equal((await t.api("GET", "/repos/acme/ops/contents/.github/CODEOWNERS", token)).status, 403);
      assert.equal((await t.api("GET", "/orgs/acme/teams/dba/members", token)).status, 403);
      assert.equal((await t.api("GET", "/repos/acme/ops", token)).status, 200, "metadata is always readable");
    });

    it("cannot be widened beyond the installation", async () => {
      const wider = await newToken({ permissions: { contents: "write" } });
      assert.equal(wider.status, 422);
      assert.match(message(wider.json), /not granted to this installation/);
      const unknown = await newToken({ repositories: ["not-installed"] });
      assert.equal(unknown.status, 422);
      assert.match(message(unknown.json), /not accessible to the parent installation/);
      assert.equal(
        (
          await t.api(
            "POST",
            "/app/installations/1/access_tokens",
            await t.appJwt({}, undefined, credentialClock.now()),
            {},
          )
        ).status,
        404,
      );
    });
  });

  describe("user tokens and missing credentials", () => {
    it("401 without or with unknown credentials", async () => {
      const none = await t.api("GET", "/repos/acme/ops");
      assert.equal(none.status, 401);
      assert.equal(message(none.json), "Requires authentication");
      for (const bad of ["ghp_doesnotexist", "ghs_" + "a".repeat(36), "not a token"]) {
        const res = await t.api("GET", "/repos/acme/ops", bad);
        assert.equal(res.status, 401, bad);
        assert.equal(message(res.json), "Bad credentials");
      }
      const wrongScheme = await fetch(`${t.emulator.apiUrl}/repos/acme/ops`, {
        headers: { authorization: `Basic ${t.emulator.userToken("dave")}` },
      });
      assert.equal(wrongScheme.status, 401);
    });

    it("act as the person, within their repository role", async () => {
      const daveToken = t.emulator.userToken("dave");
      assert.match(daveToken, /^ghp_/);
      assert.equal(t.emulator.userToken("dave"), daveToken, "stable per person");
      const issue = await t.api("POST", "/repos/acme/ops/issues", daveToken, {
        title: "mine",
        labels: ["breakglass"],
      });
      assert.equal(issue.status, 201);
      const n = (issue.json as { number: number }).number;
      assert.equal((issue.json as { user: { login: string } }).user.login, "dave");
      assert.equal((issue.json as { author_association: string }).author_association, "MEMBER");
      // Read access: may open issues and comment; labels are silently dropped; others' issues are off limits.
      const mallory = t.emulator.userToken("mallory");
      const theirs = await t.api("POST", "/repos/acme/ops/issues", mallory, {
        title: "by mallory",
        labels: ["breakglass"],
      });
      assert.equal(theirs.status, 201);
      assert.deepEqual((theirs.json as { labels: unknown[] }).labels, []);
      assert.equal(
        (theirs.json as { author_association: string }).author_association,
        "COLLABORATOR",
        "read-only people default to outside collaborators",
      );
      assert.equal(
        (await t.api("POST", `/repos/acme/ops/issues/${n}/comments`, mallory, { body: "+1" })).status,
        201,
      );
      assert.equal(
        (await t.api("PATCH", `/repos/acme/ops/issues/${n}`, mallory, { body: "hijacked" })).status,
        403,
      );
      assert.equal(
        (await t.api("PATCH", `/repos/acme/ops/issues/${n}`, mallory, { state: "closed" })).status,
        403,
      );
      assert.equal(
        (await t.api("POST", `/repos/acme/ops/issues/${n}/labels`, mallory, { labels: ["approved"] })).status,
        403,
      );
      assert.equal(
        (
          await t.api("POST", "/repos/acme/ops/actions/workflows/breakglass-grant.yml/dispatches", mallory, {
            ref: "main",
            inputs: { issue: "1" },
          })
        ).status,
        403,
      );
      // No access: the private repository does not exist for them.
      assert.equal((await t.api("GET", "/repos/acme/ops", t.emulator.userToken("olivia"))).status, 404);
      assert.equal(
        (await t.api("GET", `/repos/acme/ops/issues/${n}`, t.emulator.userToken("olivia"))).status,
        404,
      );
      assert.throws(() => t.emulator.userToken("nobody"), /unknown user "nobody"/);
    });

    it("follow role changes made through the control helpers", async () => {
      const token = t.emulator.userToken("carol");
      assert.equal((await t.api("GET", "/repos/acme/ops", token)).status, 200);
      t.emulator.setPermission("carol", "none");
      assert.equal((await t.api("GET", "/repos/acme/ops", token)).status, 404);
      t.emulator.setPermission("carol", "write");
      const perm = await t.api("GET", "/repos/acme/ops/collaborators/carol/permission", token);
      assert.equal((perm.json as { permission: string }).permission, "write");
      t.emulator.setPermission("carol", "triage");
      const triage = await t.api("GET", "/repos/acme/ops/collaborators/carol/permission", token);
      assert.deepEqual(
        [
          (triage.json as { permission: string }).permission,
          (triage.json as { role_name: string }).role_name,
        ],
        ["read", "triage"],
      );
      t.emulator.setPermission("carol", "write");
    });
  });

  it("logs every request with its route template, status and token kind", async () => {
    t.emulator.resetApiRequestLog();
    await t.api("GET", "/repos/acme/ops/issues/1", t.emulator.userToken("dave"));
    await t.api("GET", "/repos/acme/ops");
    await t.api("GET", "/app", await t.appJwt({}, undefined, credentialClock.now()));
    await t.api("GET", "/repos/acme/ops/issues/1", t.emulator.installationToken());
    assert.deepEqual(
      t.emulator.apiRequests.map((r) => [r.method, r.route, r.status, r.tokenKind, r.actor]),
      [
        ["GET", "/repos/{owner}/{repo}/issues/{issue_number}", 200, "user", "dave"],
        ["GET", "/repos/{owner}/{repo}", 401, "none", null],
        ["GET", "/app", 200, "app", "breakglass[bot]"],
        ["GET", "/repos/{owner}/{repo}/issues/{issue_number}", 200, "installation", "breakglass[bot]"],
      ],
    );
  });
});
