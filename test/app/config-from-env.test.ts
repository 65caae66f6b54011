import { test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { serverConfigFromEnv } from "../../src/app/config-from-env.ts";
import { generateSigningKeyPem } from "../../src/app/signing-keys.ts";

const appKey = generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs8", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } }).privateKey;
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
  const config = await serverConfigFromEnv({ ...(await base()), BREAKGLASS_POSTGRES: "on", BREAKGLASS_AWS: "on", AWS_REGION: "eu-west-1", BREAKGLASS_GITHUB_INSTALLATION_ID: "7", GHE_HOST: "ghe.example.com" });
  assert.deepEqual(Object.keys(config.deps.providers).sort(), ["aws", "github", "jwt", "postgres"]);
  assert.equal(config.baseUrl, "https://ghe.example.com/api/v3");
});

test("each missing or malformed setting is named with what to set", async () => {
  const env = await base();
  for (const name of ["APP_ID", "WEBHOOK_SECRET", "BREAKGLASS_SIGNING_KEY", "BREAKGLASS_SEAL_KEY", "BREAKGLASS_PUBLIC_URL", "BREAKGLASS_APP_SLUG"] as const) {
    const partial: Record<string, string | undefined> = { ...env, [name]: undefined };
    await assert.rejects(serverConfigFromEnv(partial), new RegExp(`Missing ${name}`));
  }
  await assert.rejects(serverConfigFromEnv({ ...env, BREAKGLASS_SEAL_KEY: "c2hvcnQ=" }), /32 bytes/);
  await assert.rejects(serverConfigFromEnv({ ...env, BREAKGLASS_SIGNING_KEY: "nope" }), /PKCS#8 P-256/);
});
