import { getPrivateKey } from "@probot/get-private-key";
import { ProbotOctokit } from "probot";
import { systemProviders } from "./providers-setup.ts";
import { httpNotifier } from "./notifier.ts";
import type { ServerConfig } from "./server.ts";
import { signingKeysFromPem } from "./signing-keys.ts";
import { createSigner } from "../core/audit-chain.ts";

export const GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com";

/** Reads a required variable, or says exactly what to set. */
function need(env: Record<string, string | undefined>, name: string, hint: string): string {
  const value = env[name];
  if (!value) throw new Error(`Missing ${name}: ${hint}`);
  return value;
}

/**
 * Server configuration from the environment, like every Probot app (APP_ID, PRIVATE_KEY or
 * PRIVATE_KEY_PATH, WEBHOOK_SECRET, GHE_HOST) plus Breakglass's own BREAKGLASS_* variables.
 * See README "Deploy".
 */
export async function serverConfigFromEnv(env: Record<string, string | undefined>): Promise<ServerConfig> {
  const appId = Number(need(env, "APP_ID", "set it to your GitHub App's ID (App settings → About)."));
  const privateKey = getPrivateKey({ env: env as NodeJS.ProcessEnv });
  if (!privateKey) throw new Error("Missing PRIVATE_KEY or PRIVATE_KEY_PATH: the GitHub App's private key (.pem).");
  const webhookSecret = need(env, "WEBHOOK_SECRET", "set it to the webhook secret of your GitHub App.");
  const keys = await signingKeysFromPem(need(env, "BREAKGLASS_SIGNING_KEY", "a PKCS#8 P-256 private key (PEM) that signs audit records and JWT grants."));
  const sealKey = Buffer.from(need(env, "BREAKGLASS_SEAL_KEY", "32 random bytes, base64 (`openssl rand -base64 32`): seals revocation handles."), "base64");
  if (sealKey.length !== 32) throw new Error("BREAKGLASS_SEAL_KEY must be 32 bytes, base64-encoded.");
  const publicUrl = need(env, "BREAKGLASS_PUBLIC_URL", "the URL where this app is reachable, e.g. https://breakglass.example.com.");
  const slug = need(env, "BREAKGLASS_APP_SLUG", "your GitHub App's slug (the name in its URL), e.g. breakglass.");
  const baseUrl = env.GHE_HOST ? `${env.GHE_PROTOCOL ?? "https"}://${env.GHE_HOST}/api/v3` : undefined;
  const now = () => Date.now();
  // The GitHub-token provider should be a separate GitHub App (BREAKGLASS_GITHUB_APP_ID/_PRIVATE_KEY):
  // a token of this app would act as its bot and could edit the app's own record comments.
  const appOctokit = env.BREAKGLASS_GITHUB_INSTALLATION_ID
    ? new ProbotOctokit({
        auth: { appId: Number(env.BREAKGLASS_GITHUB_APP_ID ?? appId), privateKey: (env.BREAKGLASS_GITHUB_PRIVATE_KEY ?? privateKey).replace(/\\n/g, "\n") },
        ...(baseUrl ? { baseUrl } : {}),
      })
    : undefined;
  const { providers, introspect } = await systemProviders({ env, keys, publicUrl, appId, privateKey, ...(baseUrl ? { baseUrl } : {}), now, ...(appOctokit ? { appOctokit } : {}) });
  return {
    appId,
    privateKey,
    webhookSecret,
    ...(baseUrl ? { baseUrl } : {}),
    host: env.HOST ?? "0.0.0.0",
    port: Number(env.PORT ?? 3000),
    logLevel: (env.LOG_LEVEL as ServerConfig["logLevel"]) ?? "info",
    // GitHub asks apps to space writes; only a GitHub without secondary limits (an emulator, some
    // Enterprise Server set-ups) may turn the spacing off.
    throttle: env.BREAKGLASS_THROTTLE === "rate-limits-only" ? "rate-limits-only" : env.BREAKGLASS_THROTTLE === "off" ? false : true,
    dashboard: env.BREAKGLASS_DASHBOARD_PROXY_SECRET ? { mode: "proxy", secret: env.BREAKGLASS_DASHBOARD_PROXY_SECRET } : { mode: "off" },
    deps: {
      identity: { appId, login: `${slug}[bot]` },
      signer: createSigner(keys.privateKey, keys.kid),
      jwks: keys.jwks,
      sealKey,
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
      notifier: httpNotifier({ env }),
      retryBaseMs: 30_000,
    },
  };
}
