import type { ProviderName } from "../core/types.ts";
import type { CredentialProvider } from "../providers/provider.ts";
import { createJwtProvider, introspect, memoryRevocationStore } from "../providers/jwt.ts";
import type { SigningKeys } from "./signing-keys.ts";

export interface ProviderEnv {
  env: Record<string, string | undefined>;
  keys: SigningKeys;
  publicUrl: string;
  appId: number;
  privateKey: string;
  baseUrl?: string;
  now: () => number;
}

/**
 * The providers a deployed app offers, from its environment. The built-in JWT provider is always on;
 * the others are switched on by their settings (see README "Providers") and loaded only when used,
 * so a deployment without AWS does not load the AWS SDK.
 */
export async function systemProviders(p: ProviderEnv): Promise<{ providers: Partial<Record<ProviderName, CredentialProvider>>; introspect: (token: string) => Promise<{ active: boolean; reason?: string }> }> {
  const revocations = memoryRevocationStore(p.now);
  const providers: Partial<Record<ProviderName, CredentialProvider>> = {
    jwt: createJwtProvider({ issuer: p.publicUrl, signingKey: p.keys.privateKey, kid: p.keys.kid, revocations, now: p.now }),
  };
  const check = (token: string) => introspect(token, { jwks: p.keys.jwks, issuer: p.publicUrl, revocations, now: p.now() });
  if (p.env.BREAKGLASS_POSTGRES === "on") {
    const { createPostgresProvider } = await import("../providers/postgres.ts");
    providers.postgres = createPostgresProvider({
      adminConnectionString: (settings: Record<string, unknown>) => {
        const name = typeof settings.connection_env === "string" ? settings.connection_env : "BREAKGLASS_PG_ADMIN_URL";
        const url = p.env[name];
        if (!url) throw new Error(`${name} is not set on the Breakglass app: it must hold the PostgreSQL admin connection string.`);
        return url;
      },
    });
  }
  if (p.env.BREAKGLASS_AWS === "on") {
    const [{ STSClient }, { IAMClient }, { createAwsStsProvider }] = await Promise.all([
      import("@aws-sdk/client-sts"),
      import("@aws-sdk/client-iam"),
      import("../providers/aws-sts.ts"),
    ]);
    const region = p.env.AWS_REGION ?? "us-east-1";
    providers.aws = createAwsStsProvider({ sts: new STSClient({ region }), iam: new IAMClient({ region }), region });
  }
  if (p.env.BREAKGLASS_GITHUB_INSTALLATION_ID) {
    const [{ createGitHubTokenProvider, githubTokenDepsFromApp }] = await Promise.all([import("../providers/github-token.ts")]);
    providers.github = createGitHubTokenProvider(
      githubTokenDepsFromApp({ appId: p.appId, privateKey: p.privateKey, installationId: Number(p.env.BREAKGLASS_GITHUB_INSTALLATION_ID), baseUrl: p.baseUrl ?? "https://api.github.com" }),
    );
  }
  return { providers, introspect: check };
}
