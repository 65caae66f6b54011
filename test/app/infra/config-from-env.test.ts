import { test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { serverConfigFromEnv } from "../../../src/app/infra/config-from-env.ts";
import { generateSigningKeyPem } from "../../../src/app/infra/signing-keys.ts";

const appKey = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  privateKeyEncoding: { type: "pkcs8", format: "pem" },
  publicKeyEncoding: { type: "spki", format: "pem" },
}).privateKey;
const base = async () => ({
  APP_ID: "12",
  PRIVATE_KEY: appKey,
  WEBHOOK_SECRET: "s",
  BREAKGLASS_SIGNING_KEY: await generateSigningKeyPem(),
  BREAKGLASS_SEAL_KEY: randomBytes(32).toString("base64"),
  BREAKGLASS_PUBLIC_URL: "https://breakglass.example.com",
  BREAKGLASS_APP_SLUG: "breakglass",
});

test("a complete environment gives a server config with the jwt provider, GitHub's issuer and the dashboard off", async () => {
  const config = await serverConfigFromEnv(await base());
  assert.equal(config.appId, 12);
  assert.equal(config.deps.identity.login, "breakglass[bot]");
  assert.equal(config.deps.oidc.issuer, "https://token.actions.githubusercontent.com");
  assert.deepEqual(Object.keys(config.deps.providers), ["jwt"]);
  assert.deepEqual(config.dashboard, { mode: "off" });
  assert.equal(config.deps.jwks.keys.length, 1);
});

test("the optional providers switch on from their settings", async () => {
  const config = await serverConfigFromEnv({
    ...(await base()),
    BREAKGLASS_POSTGRES: "on",
    BREAKGLASS_AWS: "on",
    AWS_REGION: "eu-west-1",
    BREAKGLASS_GITHUB_INSTALLATION_ID: "7",
    GHE_HOST: "ghe.example.com",
  });
  assert.deepEqual(Object.keys(config.deps.providers).sort(), ["aws", "github", "jwt", "postgres"]);
  assert.equal(config.baseUrl, "https://ghe.example.com/api/v3");
});

test("each missing or malformed setting is named with what to set", async () => {
  const env = await base();
  for (const name of [
    "APP_ID",
    "WEBHOOK_SECRET",
    "BREAKGLASS_SIGNING_KEY",
    "BREAKGLASS_SEAL_KEY",
    "BREAKGLASS_PUBLIC_URL",
    "BREAKGLASS_APP_SLUG",
  ] as const) {
    const partial: Record<string, string | undefined> = { ...env, [name]: undefined };
    await assert.rejects(serverConfigFromEnv(partial), new RegExp(`Missing ${name}`));
  }
  await assert.rejects(serverConfigFromEnv({ ...env, BREAKGLASS_SEAL_KEY: "c2hvcnQ=" }), /32 bytes/);
  await assert.rejects(serverConfigFromEnv({ ...env, BREAKGLASS_SIGNING_KEY: "nope" }), /PKCS#8 P-256/);
});

test("a setting the app cannot start with is a ConfigError naming its variable", async () => {
  const { ConfigError } = await import("../../../src/app/infra/config-error.ts");
  const env = await base();
  const cases: Array<[Record<string, string | undefined>, string, RegExp]> = [
    [{ APP_ID: "twelve" }, "APP_ID", /APP_ID must be a number/],
    [
      { PRIVATE_KEY: "-----BEGIN RSA PRIVATE KEY-----\nnope\n-----END RSA PRIVATE KEY-----" },
      "PRIVATE_KEY",
      /PRIVATE_KEY is not a PEM private key/,
    ],
    [{ BREAKGLASS_SIGNING_KEY: "nope" }, "BREAKGLASS_SIGNING_KEY", /PKCS#8 P-256/],
    [{ BREAKGLASS_SEAL_KEY: "c2hvcnQ=" }, "BREAKGLASS_SEAL_KEY", /32 bytes/],
    [{ BREAKGLASS_GITHUB_INSTALLATION_ID: "seven" }, "BREAKGLASS_GITHUB_INSTALLATION_ID", /must be a number/],
    [
      { BREAKGLASS_GITHUB_INSTALLATION_ID: "7", BREAKGLASS_GITHUB_APP_ID: "99" },
      "BREAKGLASS_GITHUB_PRIVATE_KEY",
      /Missing BREAKGLASS_GITHUB_PRIVATE_KEY/,
    ],
    [
      {
        BREAKGLASS_GITHUB_INSTALLATION_ID: "7",
        BREAKGLASS_GITHUB_APP_ID: "99",
        BREAKGLASS_GITHUB_PRIVATE_KEY: "garbage",
      },
      "BREAKGLASS_GITHUB_PRIVATE_KEY",
      /not a PEM private key/,
    ],
    [{ WEBHOOK_SECRET: undefined }, "WEBHOOK_SECRET", /Missing WEBHOOK_SECRET/],
    [
      { GITHUB_CLIENT_ID: "Iv23abc", GITHUB_CLIENT_SECRET: "s3cret", BREAKGLASS_SESSION_KEY: "c2hvcnQ=" },
      "BREAKGLASS_SESSION_KEY",
      /at least 32 random bytes/,
    ],
  ];
  for (const [change, variable, message] of cases) {
    await assert.rejects(
      serverConfigFromEnv({ ...env, ...change }),
      (e: unknown) => e instanceof ConfigError && e.variable === variable && message.test(e.message),
      variable,
    );
  }
});

test("npm start with a bad setting refuses to start: one JSON log line naming the variable, exit 1", async () => {
  const { spawnSync } = await import("node:child_process");
  const env = {
    ...(await base()),
    BREAKGLASS_SEAL_KEY: undefined,
    PATH: process.env.PATH,
    HOME: process.env.HOME,
  };
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/app/main.ts"], {
    env: env as NodeJS.ProcessEnv,
    encoding: "utf8",
    timeout: 60_000,
    cwd: process.cwd(),
  });
  assert.equal(r.status, 1, r.stderr);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  const line = JSON.parse(lines[0]!) as { level: number; variable: string; code: string; msg: string };
  assert.equal(line.level, 60);
  assert.equal(line.variable, "BREAKGLASS_SEAL_KEY");
  assert.equal(line.code, "config_error");
  assert.match(line.msg, /^Breakglass did not start: Missing BREAKGLASS_SEAL_KEY: 32 random bytes/);
  assert.ok(!r.stderr.includes("BEGIN"), "no key in the log");
});

test("the dashboard signs people in with GitHub when the app's OAuth client and a session key are set; proxy mode stays", async () => {
  const env = await base();
  const key = Buffer.alloc(32, 7).toString("base64");
  const github = await serverConfigFromEnv({
    ...env,
    GITHUB_CLIENT_ID: "Iv23abc",
    GITHUB_CLIENT_SECRET: "s3cret",
    BREAKGLASS_SESSION_KEY: key,
  });
  assert.equal(github.dashboard?.mode, "github");
  assert.ok(
    github.dashboard?.mode === "github" &&
      github.dashboard.signIn.webUrl === "https://github.com" &&
      github.dashboard.signIn.apiUrl === "https://api.github.com",
  );
  const proxy = await serverConfigFromEnv({ ...env, BREAKGLASS_DASHBOARD_PROXY_SECRET: "p" });
  assert.deepEqual(proxy.dashboard, { mode: "proxy", secret: "p" });
});

test("a new passkey waits 24 hours by default before it counts; BREAKGLASS_PASSKEY_ACTIVATION_WAIT sets it, at least 1h", async () => {
  const { ConfigError } = await import("../../../src/app/infra/config-error.ts");
  const env = {
    ...(await base()),
    GITHUB_CLIENT_ID: "Iv23abc",
    GITHUB_CLIENT_SECRET: "s3cret",
    BREAKGLASS_SESSION_KEY: Buffer.alloc(32, 7).toString("base64"),
  };
  assert.equal((await serverConfigFromEnv(env)).webauthn?.activationWaitSeconds, 24 * 3600);
  assert.equal(
    (await serverConfigFromEnv({ ...env, BREAKGLASS_PASSKEY_ACTIVATION_WAIT: "3d" })).webauthn
      ?.activationWaitSeconds,
    3 * 86400,
  );
  for (const bad of ["10m", "soon"])
    await assert.rejects(
      serverConfigFromEnv({ ...env, BREAKGLASS_PASSKEY_ACTIVATION_WAIT: bad }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.variable === "BREAKGLASS_PASSKEY_ACTIVATION_WAIT" &&
        /at least 1h/.test(e.message),
      bad,
    );
});

test("A230 BREAKGLASS_ATTESTATION_ROOTS names the attestation roots file, read when needed; unset, no passkey is hardware", async () => {
  const env = {
    ...(await base()),
    GITHUB_CLIENT_ID: "Iv23abc",
    GITHUB_CLIENT_SECRET: "s3cret",
    BREAKGLASS_SESSION_KEY: Buffer.alloc(32, 7).toString("base64"),
  };
  assert.equal(await (await serverConfigFromEnv(env)).webauthn?.attestationRoots?.(), null);
  const roots = await (
    await serverConfigFromEnv({ ...env, BREAKGLASS_ATTESTATION_ROOTS: "/nonexistent/roots.pem" })
  ).webauthn?.attestationRoots?.();
  assert.match(roots?.source ?? "", /BREAKGLASS_ATTESTATION_ROOTS \/nonexistent\/roots\.pem cannot be read/);
  assert.equal(roots?.any.length, 0);
});
