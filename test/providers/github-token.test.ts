import { test, after } from "node:test";
import assert from "node:assert/strict";
import { Octokit } from "@octokit/rest";
import {
  createGitHubTokenProvider,
  githubTokenDepsFromOctokit,
  tokenFingerprint,
  type AppOctokitLike,
  type GitHubTokenDeps,
} from "../../src/providers/github-token.ts";
import type { CredentialRef, MintRequest } from "../../src/providers/provider.ts";
import { startTestEmulator } from "../sandbox/github/helpers.ts";

const NOW = Date.parse("2026-11-24T09:00:00Z");
const TOKEN = "ghs_16C7e42F292c6912E7710c838347Ae178B4a";

const request = (over: Partial<MintRequest> = {}): MintRequest => ({
  grantId: "acme/ops#5/g1",
  repository: "acme/ops",
  issue: 5,
  requester: "dave",
  resource: "ops-repo",
  role: "writer",
  settings: { repositories: ["ops"], permissions: { contents: "write", issues: "read" } },
  expiresAt: NOW + 20 * 60_000,
  oidcToken: "unused",
  runId: "77",
  now: NOW,
  ...over,
});

/** A GitHub that remembers issued tokens; revoked ones answer 401 like github.com. */
function fakeGitHub(tokenLife = 3600_000) {
  const live = new Set<string>();
  const created: Array<{ repositories: string[]; permissions: Record<string, string> }> = [];
  const deps: GitHubTokenDeps = {
    async createInstallationToken(input) {
      created.push(input);
      live.add(TOKEN);
      return { token: TOKEN, expiresAt: NOW + tokenLife };
    },
    async revokeInstallationToken(token) {
      live.delete(token);
    },
    async probe(token) {
      return live.has(token) ? 200 : 401;
    },
  };
  return { deps, created, live };
}

const refOf = (credentialId: string, revocationHandle?: string): CredentialRef => ({
  grantId: "acme/ops#5/g1",
  credentialId,
  resource: "ops-repo",
  role: "writer",
  settings: {},
  ...(revocationHandle !== undefined ? { revocationHandle } : {}),
});

test("mint narrows the token to the policy's repositories and permissions and ends it with the grant", async () => {
  const github = fakeGitHub();
  const provider = createGitHubTokenProvider(github.deps);
  const minted = await provider.mint(request());
  assert.deepEqual(github.created, [
    { repositories: ["ops"], permissions: { contents: "write", issues: "read" } },
  ]);
  assert.deepEqual(minted.secrets, { BREAKGLASS_GITHUB_TOKEN: TOKEN });
  assert.equal(minted.revocationHandle, TOKEN);
  assert.match(minted.credentialId, /^ghs-fp-[0-9a-f]{12}$/);
  assert.equal(minted.credentialId, tokenFingerprint(TOKEN));
  assert.equal(
    minted.expiresAt,
    NOW + 20 * 60_000,
    "the grant ends before GitHub's hour: the app revokes at grant end",
  );
  assert.deepEqual(minted.outputs, {
    token_id: minted.credentialId,
    expires_at: "2026-11-24T09:20:00.000Z",
    github_token_expires_at: "2026-11-24T10:00:00.000Z",
    repositories: "ops",
    permissions: "contents:write,issues:read",
  });
  assert.ok(!JSON.stringify(minted.outputs).includes(TOKEN));
  assert.ok(
    !minted.credentialId.includes(TOKEN.slice(4, 16)),
    "the fingerprint reveals nothing of the token",
  );
});

test("when the token expires before the grant, the credential ends with the token", async () => {
  const provider = createGitHubTokenProvider(fakeGitHub().deps);
  const minted = await provider.mint(request({ expiresAt: NOW + 3 * 3600_000 }));
  assert.equal(minted.expiresAt, NOW + 3600_000);
});

test("revoke deletes the token with the token itself, and only then does verifyRevoked see 401", async () => {
  const github = fakeGitHub();
  const provider = createGitHubTokenProvider(github.deps);
  const minted = await provider.mint(request());
  const ref = refOf(minted.credentialId, minted.revocationHandle);
  const before = await provider.verifyRevoked(ref);
  assert.equal(before.revoked, false);
  assert.match(before.evidence, /answered 200, not 401/);
  await provider.revoke(ref);
  assert.equal(github.live.has(TOKEN), false);
  const after = await provider.verifyRevoked(ref);
  assert.deepEqual(after, {
    revoked: true,
    evidence: `GET /installation/repositories with ${minted.credentialId} answered 401 Bad credentials`,
  });
});

test("revoke without the kept token, or with a token of another credential, refuses and says why", async () => {
  const github = fakeGitHub();
  const provider = createGitHubTokenProvider(github.deps);
  const minted = await provider.mint(request());
  await assert.rejects(
    provider.revoke(refOf(minted.credentialId)),
    /only its holder can revoke it.*expires by itself/,
  );
  await assert.rejects(
    provider.revoke(refOf(minted.credentialId, "ghs_someoneelse")),
    /belongs to another credential/,
  );
  assert.equal(github.live.has(TOKEN), true, "nothing was revoked");
  assert.equal((await provider.verifyRevoked(refOf(minted.credentialId))).revoked, false);
  assert.equal((await provider.verifyRevoked(refOf(minted.credentialId, "ghs_someoneelse"))).revoked, false);
});

test("a probe that fails or answers anything but 401 is no proof of revocation", async () => {
  for (const outcome of [403, 404, 500, 502, new Error("ECONNRESET")]) {
    const provider = createGitHubTokenProvider({
      ...fakeGitHub().deps,
      probe: async () => {
        if (outcome instanceof Error) throw outcome;
        return outcome;
      },
    });
    const check = await provider.verifyRevoked(refOf(tokenFingerprint(TOKEN), TOKEN));
    assert.equal(check.revoked, false, String(outcome));
  }
});

test("no error or evidence carries the token", async () => {
  const leaky: GitHubTokenDeps = {
    createInstallationToken: async () => ({ token: TOKEN, expiresAt: NOW + 3600_000 }),
    revokeInstallationToken: async (token) => {
      throw new Error(`request failed with Authorization: Bearer ${token}`);
    },
    probe: async (token) => {
      throw new Error(`timeout calling with ${token}`);
    },
  };
  const provider = createGitHubTokenProvider(leaky);
  const minted = await provider.mint(request());
  const ref = refOf(minted.credentialId, minted.revocationHandle);
  await assert.rejects(provider.revoke(ref), (error: Error) => {
    assert.match(error.message, /Could not revoke GitHub installation token ghs-fp-/);
    assert.ok(!error.message.includes(TOKEN));
    return true;
  });
  const check = await provider.verifyRevoked(ref);
  assert.equal(check.revoked, false);
  assert.ok(!check.evidence.includes(TOKEN));
  assert.match(check.evidence, /\[redacted\]/);
});

test("bad settings and ended grants are refused before GitHub is called", async () => {
  const github = fakeGitHub();
  const provider = createGitHubTokenProvider(github.deps);
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ permissions: { contents: "read" } }, /settings\.repositories/],
    [{ repositories: [], permissions: { contents: "read" } }, /settings\.repositories/],
    [{ repositories: ["acme/ops"], permissions: { contents: "read" } }, /without the owner/],
    [{ repositories: ["../x?y"], permissions: { contents: "read" } }, /settings\.repositories/],
    [{ repositories: ["ops"] }, /settings\.permissions/],
    [{ repositories: ["ops"], permissions: {} }, /settings\.permissions/],
    [{ repositories: ["ops"], permissions: { contents: "owner" } }, /read, write or admin/],
    [{ repositories: ["ops"], permissions: { "Contents!": "read" } }, /permission name/],
  ];
  for (const [settings, message] of bad)
    await assert.rejects(provider.mint(request({ settings })), message, JSON.stringify(settings));
  await assert.rejects(provider.mint(request({ expiresAt: NOW })), /already ended/);
  assert.equal(github.created.length, 0);
});

test("a refusal from GitHub is rethrown with what the installation must allow", async () => {
  const provider = createGitHubTokenProvider({
    ...fakeGitHub().deps,
    createInstallationToken: async () => {
      throw new Error("The permissions requested are not granted to this installation.");
    },
  });
  await assert.rejects(
    provider.mint(request()),
    /Could not create a GitHub installation token for ops with contents: write, issues: read: The permissions requested are not granted.*installation must cover/,
  );
});

test("githubTokenDepsFromOctokit: the HTTP calls and how their answers are read", async () => {
  const requests: Array<{ route: string; parameters?: Record<string, unknown> }> = [];
  const octokit: AppOctokitLike = {
    async request(route, parameters) {
      requests.push({ route, ...(parameters ? { parameters } : {}) });
      return { data: { token: TOKEN, expires_at: "2026-11-24T10:00:00Z" } };
    },
  };
  const calls: Array<{ url: string; method: string; authorization: string | null }> = [];
  const statuses = [204, 401, 500, 200];
  const fakeFetch = (async (url: string, init: RequestInit) => {
    calls.push({
      url,
      method: init.method ?? "GET",
      authorization: new Headers(init.headers).get("authorization"),
    });
    return new Response(null, { status: statuses.shift()! });
  }) as unknown as typeof fetch;
  const deps = githubTokenDepsFromOctokit(octokit, 31, "https://ghe.example.com/api/v3/", fakeFetch);
  assert.deepEqual(
    await deps.createInstallationToken({ repositories: ["ops"], permissions: { contents: "read" } }),
    { token: TOKEN, expiresAt: Date.parse("2026-11-24T10:00:00Z") },
  );
  assert.deepEqual(requests, [
    {
      route: "POST /app/installations/{installation_id}/access_tokens",
      parameters: { installation_id: 31, repositories: ["ops"], permissions: { contents: "read" } },
    },
  ]);
  await deps.revokeInstallationToken(TOKEN);
  await deps.revokeInstallationToken(TOKEN); // 401: already gone, fine
  await assert.rejects(
    deps.revokeInstallationToken(TOKEN),
    (error: Error) => error.message === "DELETE /installation/token answered 500",
  );
  assert.equal(await deps.probe(TOKEN), 200);
  assert.deepEqual(calls[0], {
    url: "https://ghe.example.com/api/v3/installation/token",
    method: "DELETE",
    authorization: `Bearer ${TOKEN}`,
  });
  assert.deepEqual(calls[3], {
    url: "https://ghe.example.com/api/v3/installation/repositories?per_page=1",
    method: "GET",
    authorization: `Bearer ${TOKEN}`,
  });
  const broken = githubTokenDepsFromOctokit(
    { request: async () => ({ data: { token: "" } }) },
    31,
    "https://x",
    fakeFetch,
  );
  await assert.rejects(
    broken.createInstallationToken({ repositories: ["ops"], permissions: { contents: "read" } }),
    /without a token/,
  );
});

// ---------------------------------------------------------------------------------------------------
// Against the sandbox's GitHub emulator, over real HTTP.

const sandbox = await startTestEmulator({ extraRepos: ["infra"] });
after(() => sandbox.emulator.close());

async function emulatorProvider() {
  const appOctokit = new Octokit({ baseUrl: sandbox.emulator.apiUrl, auth: await sandbox.appJwt() });
  const deps = githubTokenDepsFromOctokit(
    appOctokit,
    sandbox.emulator.state.installation.id,
    sandbox.emulator.apiUrl,
  );
  return createGitHubTokenProvider(deps);
}

test("emulator: the minted token reaches only its repositories with only its permissions, until revoked", async () => {
  const provider = await emulatorProvider();
  const now = Date.now();
  const minted = await provider.mint(
    request({
      settings: { repositories: ["ops"], permissions: { issues: "write" } },
      now,
      expiresAt: now + 10 * 60_000,
    }),
  );
  const token = minted.secrets.BREAKGLASS_GITHUB_TOKEN!;
  assert.match(token, /^ghs_/);
  assert.equal(
    token.split(".").length,
    3,
    "GitHub's stateless format (ghs_APPID_JWT): revoke-then-401 must hold for it too",
  );
  assert.equal(minted.expiresAt, now + 10 * 60_000);
  assert.equal((await sandbox.api("GET", "/repos/acme/ops", token)).status, 200);
  assert.equal(
    (await sandbox.api("GET", "/repos/acme/infra", token)).status,
    404,
    "outside its repositories",
  );
  assert.equal(
    (await sandbox.api("POST", "/repos/acme/ops/issues", token, { title: "from the break-glass token" }))
      .status,
    201,
  );
  assert.equal(
    (await sandbox.api("GET", "/repos/acme/ops/contents/policies/model.yml", token)).status,
    403,
    "beyond its permissions (no contents)",
  );

  const ref = refOf(minted.credentialId, minted.revocationHandle);
  assert.equal((await provider.verifyRevoked(ref)).revoked, false);
  await provider.revoke(ref);
  assert.equal(
    (await sandbox.api("GET", "/repos/acme/ops", token)).status,
    401,
    "the revoked token is refused",
  );
  const check = await provider.verifyRevoked(ref);
  assert.equal(check.revoked, true, check.evidence);
  await provider.revoke(ref); // revoking twice is harmless
  const deletes = sandbox.emulator.apiRequests.filter(
    (r) => r.method === "DELETE" && r.route === "/installation/token",
  );
  assert.deepEqual(
    deletes.map((r) => [r.status, r.tokenKind]),
    [
      [204, "installation"],
      [401, "installation"],
    ],
  );
});

test("emulator: permissions the installation lacks are refused with GitHub's reason", async () => {
  const provider = await emulatorProvider();
  const now = Date.now();
  await assert.rejects(
    provider.mint(
      request({
        settings: { repositories: ["ops"], permissions: { administration: "write" } },
        now,
        expiresAt: now + 600_000,
      }),
    ),
    /Could not create a GitHub installation token for ops with administration: write: The permissions requested are not granted to this installation/,
  );
  await assert.rejects(
    provider.mint(
      request({
        settings: { repositories: ["elsewhere"], permissions: { issues: "read" } },
        now,
        expiresAt: now + 600_000,
      }),
    ),
    /not accessible to the parent installation/,
  );
});
