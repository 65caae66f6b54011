import { createPrivateKey } from "node:crypto";
import { getPrivateKey } from "@probot/get-private-key";
import { attestationRootsLoader } from "./attestation-roots.ts";
import { DEFAULT_PASSKEY_ACTIVATION_WAIT_SECONDS } from "../../core/passkey-activation.ts";
import { parseDuration } from "../../core/duration.ts";
import { ConfigError } from "./config-error.ts";
import { localDevelopmentFromEnv } from "./local-development.ts";
import { ProbotOctokit } from "probot";
import { systemProviders } from "./providers-setup.ts";
import { httpNotifier } from "./notifier.ts";
import { notificationFailureLog } from "./notification-failures.ts";
import type { ServerConfig } from "../server.ts";
import { retiredPublicJwksFromPem, signingKeysFromPem } from "./signing-keys.ts";
import { createSigner } from "../../core/audit-chain.ts";

export const GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com";

/** Reads a required variable, or says exactly what to set. */
function need(env: Record<string, string | undefined>, name: string, hint: string): string {
  const value = env[name];
  if (!value) throw new ConfigError(name, `Missing ${name}: ${hint}`);
  return value;
}

/** A GitHub App id or installation id: a positive integer. */
function positiveInteger(name: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n <= 0)
    throw new ConfigError(
      name,
      `${name} must be a number (a GitHub App's or installation's id), not "${value.slice(0, 40)}".`,
    );
  return n;
}

/** A seal key: 32 bytes, base64. The message never repeats the key. */
function sealKeyFrom(name: string, value: string, position?: number): Buffer {
  const key = Buffer.from(value.trim(), "base64");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value.trim()) || key.length !== 32) {
    throw new ConfigError(
      name,
      `${name}${position ? ` (key ${position})` : ""} must be 32 bytes, base64-encoded (\`openssl rand -base64 32\`)${position ? "; separate several keys with commas or spaces" : ""}.`,
    );
  }
  return key;
}

/** A PEM private key Node can load; the message never repeats the key. */
function privateKeyPem(name: string, pem: string): string {
  try {
    createPrivateKey(pem);
  } catch (error) {
    throw new ConfigError(
      name,
      `${name} is not a PEM private key (${(error as Error).message}): paste the .pem GitHub gave you, newlines as is or as \\n.`,
    );
  }
  return pem;
}

/**
 * Server configuration from the environment, like every Probot app (APP_ID, PRIVATE_KEY or
 * PRIVATE_KEY_PATH, WEBHOOK_SECRET, GHE_HOST) plus Breakglass's own BREAKGLASS_* variables.
 * See README "Deploy".
 */
export async function serverConfigFromEnv(env: Record<string, string | undefined>): Promise<ServerConfig> {
  const appId = positiveInteger(
    "APP_ID",
    need(env, "APP_ID", "set it to your GitHub App's ID (App settings → About)."),
  );
  let privateKey: string | null;
  try {
    privateKey = getPrivateKey({ env: env as NodeJS.ProcessEnv });
  } catch (error) {
    throw new ConfigError(
      env.PRIVATE_KEY_PATH ? "PRIVATE_KEY_PATH" : "PRIVATE_KEY",
      `the GitHub App's private key could not be read: ${(error as Error).message}`,
    );
  }
  if (!privateKey)
    throw new ConfigError(
      "PRIVATE_KEY",
      "Missing PRIVATE_KEY or PRIVATE_KEY_PATH: the GitHub App's private key (.pem).",
    );
  privateKeyPem(env.PRIVATE_KEY_PATH && !env.PRIVATE_KEY ? "PRIVATE_KEY_PATH" : "PRIVATE_KEY", privateKey);
  const webhookSecret = need(env, "WEBHOOK_SECRET", "set it to the webhook secret of your GitHub App.");
  const signingPem = need(
    env,
    "BREAKGLASS_SIGNING_KEY",
    "a PKCS#8 P-256 private key (PEM) that signs audit records and JWT grants.",
  );
  const retiredSigning = await retiredPublicJwksFromPem(env.BREAKGLASS_RETIRED_SIGNING_KEYS ?? "").catch(
    (error: Error) => {
      throw new ConfigError("BREAKGLASS_RETIRED_SIGNING_KEYS", error.message);
    },
  );
  const keys = await signingKeysFromPem(signingPem, retiredSigning).catch((error: Error) => {
    throw new ConfigError("BREAKGLASS_SIGNING_KEY", error.message);
  });
  const sealKey = sealKeyFrom(
    "BREAKGLASS_SEAL_KEY",
    need(
      env,
      "BREAKGLASS_SEAL_KEY",
      "32 random bytes, base64 (`openssl rand -base64 32`): seals revocation handles.",
    ),
  );
  const retiredSealKeys = (env.BREAKGLASS_RETIRED_SEAL_KEYS ?? "")
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((value, i) => sealKeyFrom("BREAKGLASS_RETIRED_SEAL_KEYS", value, i + 1))
    .filter((key) => !key.equals(sealKey));
  const publicUrl = need(
    env,
    "BREAKGLASS_PUBLIC_URL",
    "the URL where this app is reachable, e.g. https://breakglass.example.com.",
  );
  const slug = need(
    env,
    "BREAKGLASS_APP_SLUG",
    "your GitHub App's slug (the name in its URL), e.g. breakglass.",
  );
  const development = localDevelopmentFromEnv(env);
  const baseUrl = env.GHE_HOST ? `${env.GHE_PROTOCOL ?? "https"}://${env.GHE_HOST}/api/v3` : undefined;
  const now = () => Date.now();
  const notificationFailures = notificationFailureLog();
  // The GitHub-token provider should be a separate GitHub App (BREAKGLASS_GITHUB_APP_ID/_PRIVATE_KEY):
  // a token of this app would act as its bot and could edit the app's own record comments.
  if (env.BREAKGLASS_GITHUB_INSTALLATION_ID)
    positiveInteger("BREAKGLASS_GITHUB_INSTALLATION_ID", env.BREAKGLASS_GITHUB_INSTALLATION_ID);
  if (env.BREAKGLASS_GITHUB_APP_ID) {
    positiveInteger("BREAKGLASS_GITHUB_APP_ID", env.BREAKGLASS_GITHUB_APP_ID);
    // A separate app's id with this app's key would fail at the first grant, not at start.
    if (!env.BREAKGLASS_GITHUB_PRIVATE_KEY)
      throw new ConfigError(
        "BREAKGLASS_GITHUB_PRIVATE_KEY",
        "Missing BREAKGLASS_GITHUB_PRIVATE_KEY: BREAKGLASS_GITHUB_APP_ID names a separate GitHub App; give its private key (.pem).",
      );
  }
  if (env.BREAKGLASS_GITHUB_PRIVATE_KEY)
    privateKeyPem("BREAKGLASS_GITHUB_PRIVATE_KEY", env.BREAKGLASS_GITHUB_PRIVATE_KEY.replace(/\\n/g, "\n"));
  const appOctokit = env.BREAKGLASS_GITHUB_INSTALLATION_ID
    ? new ProbotOctokit({
        auth: {
          appId: Number(env.BREAKGLASS_GITHUB_APP_ID ?? appId),
          privateKey: (env.BREAKGLASS_GITHUB_PRIVATE_KEY ?? privateKey).replace(/\\n/g, "\n"),
        },
        ...(baseUrl ? { baseUrl } : {}),
      })
    : undefined;
  const { providers, introspect } = await systemProviders({
    env,
    keys,
    publicUrl,
    appId,
    privateKey,
    ...(baseUrl ? { baseUrl } : {}),
    now,
    ...(appOctokit ? { appOctokit } : {}),
  });
  return {
    appId,
    privateKey,
    webhookSecret,
    ...(baseUrl ? { baseUrl } : {}),
    host: env.HOST ?? "0.0.0.0",
    ...(development.webhookProxyUrl ? { webhookProxyUrl: development.webhookProxyUrl } : {}),
    port: Number(env.PORT ?? 3000),
    logLevel: (env.LOG_LEVEL as ServerConfig["logLevel"]) ?? "info",
    // GitHub asks apps to space writes; only a GitHub without secondary limits (an emulator, some
    // Enterprise Server set-ups) may turn the spacing off.
    throttle:
      env.BREAKGLASS_THROTTLE === "rate-limits-only"
        ? "rate-limits-only"
        : env.BREAKGLASS_THROTTLE === "off"
          ? false
          : true,
    dashboard: dashboardFromEnv(env, publicUrl),
    // Passkey pages come with Sign in with GitHub; the relying party is the app's public host.
    ...(env.GITHUB_CLIENT_ID
      ? {
          webauthn: {
            rpName: "Breakglass",
            rpID: new URL(publicUrl).hostname,
            origin: new URL(publicUrl).origin,
            activationWaitSeconds: passkeyActivationWait(env.BREAKGLASS_PASSKEY_ACTIVATION_WAIT),
            attestationRoots: attestationRootsLoader({
              roots: env.BREAKGLASS_ATTESTATION_ROOTS?.trim() || undefined,
              mds: env.BREAKGLASS_ATTESTATION_MDS?.trim() || undefined,
            }),
          },
        }
      : {}),
    deps: {
      identity: { appId, login: `${slug}[bot]` },
      signer: createSigner(keys.privateKey, keys.kid),
      jwks: keys.jwks,
      sealKey,
      ...(retiredSealKeys.length ? { retiredSealKeys } : {}),
      now,
      publicUrl,
      oidc: {
        issuer: env.BREAKGLASS_OIDC_ISSUER ?? GITHUB_ACTIONS_ISSUER,
        audience: env.BREAKGLASS_OIDC_AUDIENCE ?? "breakglass",
        clockToleranceSeconds: 30,
      },
      grantWorkflow: env.BREAKGLASS_GRANT_WORKFLOW ?? "breakglass-grant.yml",
      sweepWorkflow: env.BREAKGLASS_SWEEP_WORKFLOW ?? "breakglass-sweep.yml",
      drillWorkflow: env.BREAKGLASS_DRILL_WORKFLOW ?? "breakglass-drill.yml",
      providers,
      introspect,
      notifier: httpNotifier({ env, onFailure: (failure) => notificationFailures.add(failure) }),
      notificationFailures,
      retryBaseMs: 30_000,
      ...(env.BREAKGLASS_LEDGER_REPO ? { ledgerRepo: env.BREAKGLASS_LEDGER_REPO } : {}),
    },
  };
}

/**
 * The dashboard's protection: Sign in with GitHub when the app's OAuth client (GITHUB_CLIENT_ID,
 * GITHUB_CLIENT_SECRET, shown on the GitHub App's settings page) and BREAKGLASS_SESSION_KEY (32+
 * random bytes, base64) are set; else behind a proxy with BREAKGLASS_DASHBOARD_PROXY_SECRET; else off.
 */
function dashboardFromEnv(
  env: Record<string, string | undefined>,
  publicUrl: string,
): ServerConfig["dashboard"] {
  if (env.GITHUB_CLIENT_ID && env.GITHUB_CLIENT_SECRET) {
    const sessionKey = Buffer.from(env.BREAKGLASS_SESSION_KEY ?? "", "base64");
    if (sessionKey.length < 32)
      throw new ConfigError(
        "BREAKGLASS_SESSION_KEY",
        "BREAKGLASS_SESSION_KEY must be at least 32 random bytes in base64 (e.g. `openssl rand -base64 32`) to sign dashboard sessions when GITHUB_CLIENT_ID is set.",
      );
    const web = env.GHE_HOST ? `${env.GHE_PROTOCOL ?? "https"}://${env.GHE_HOST}` : "https://github.com";
    const api = env.GHE_HOST ? `${web}/api/v3` : "https://api.github.com";
    return {
      mode: "github",
      signIn: {
        clientId: env.GITHUB_CLIENT_ID,
        clientSecret: env.GITHUB_CLIENT_SECRET,
        webUrl: web,
        apiUrl: api,
        publicUrl,
        sessionKey,
      },
    };
  }
  return env.BREAKGLASS_DASHBOARD_PROXY_SECRET
    ? { mode: "proxy", secret: env.BREAKGLASS_DASHBOARD_PROXY_SECRET }
    : { mode: "off" };
}

/** `BREAKGLASS_PASSKEY_ACTIVATION_WAIT` (a duration such as `24h` or `3d`): how long a new passkey waits unless confirmed by SSH signature. */
function passkeyActivationWait(value: string | undefined): number {
  if (value === undefined || value.trim() === "") return DEFAULT_PASSKEY_ACTIVATION_WAIT_SECONDS;
  const parsed = parseDuration(value.trim());
  if (!parsed.ok || parsed.value < 3600)
    throw new ConfigError(
      "BREAKGLASS_PASSKEY_ACTIVATION_WAIT",
      `BREAKGLASS_PASSKEY_ACTIVATION_WAIT must be a duration of at least 1h, such as 24h or 3d (got "${value}"): long enough for the person and the notify targets to see an announcement of a passkey nobody expected and remove it.`,
    );
  return parsed.value;
}
