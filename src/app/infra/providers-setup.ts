import type { ProviderName } from "../../core/types.ts";
import type { CredentialProvider } from "../../providers/provider.ts";
import { createJwtProvider, introspect, memoryRevocationStore } from "../../providers/jwt.ts";
import type { AppOctokitLike } from "../../providers/github-token.ts";
import type { SigningKeys } from "./signing-keys.ts";

export interface ProviderEnv {
  env: Record<string, string | undefined>;
  keys: SigningKeys;
  publicUrl: string;
  appId: number;
  privateKey: string;
  baseUrl?: string;
  now: () => number;
  /** An app-authenticated Octokit of the (separate) GitHub App that mints installation tokens. */
  appOctokit?: AppOctokitLike;
}

/**
 * The providers a deployed app offers, from its environment. The built-in JWT provider is always on;
 * the others are switched on by their settings (README "Install for real") and loaded only when
 * used, so a deployment without AWS does not load the AWS SDK.
 */
export async function systemProviders(p: ProviderEnv): Promise<{
  providers: Partial<Record<ProviderName, CredentialProvider>>;
  introspect: (token: string) => Promise<{ active: boolean; reason?: string }>;
}> {
  const revocations = memoryRevocationStore(p.now);
  const providers: Partial<Record<ProviderName, CredentialProvider>> = {
    jwt: createJwtProvider({
      issuer: p.publicUrl,
      signingKey: p.keys.privateKey,
      kid: p.keys.kid,
      verificationJwks: p.keys.jwks,
      revocations,
      now: p.now,
    }),
  };
  const check = (token: string) =>
    introspect(token, { jwks: p.keys.jwks, issuer: p.publicUrl, revocations, now: p.now() });
  if (p.env.BREAKGLASS_POSTGRES === "on") {
    const { adminConnectionFromEnv, createPostgresProvider } = await import("../../providers/postgres.ts");
    providers.postgres = createPostgresProvider({ adminConnectionString: adminConnectionFromEnv(p.env) });
  }
  if (p.env.BREAKGLASS_AWS === "on") {
    const [{ STSClient }, { IAMClient }, { CloudTrailClient }, { createAwsStsProvider }] = await Promise.all([
      import("@aws-sdk/client-sts"),
      import("@aws-sdk/client-iam"),
      import("@aws-sdk/client-cloudtrail"),
      import("../../providers/aws-sts.ts"),
    ]);
    const region = p.env.AWS_REGION ?? "us-east-1";
    providers.aws = createAwsStsProvider({
      sts: new STSClient({ region }),
      iam: new IAMClient({ region }),
      cloudtrail: new CloudTrailClient({ region }),
      region,
      now: p.now,
    });
  }
  if (p.env.BREAKGLASS_GITHUB_INSTALLATION_ID) {
    if (!p.appOctokit)
      throw new Error(
        "BREAKGLASS_GITHUB_INSTALLATION_ID is set but no GitHub App client was given to the provider setup.",
      );
    const { createGitHubTokenProvider, githubTokenDepsFromOctokit } =
      await import("../../providers/github-token.ts");
    providers.github = createGitHubTokenProvider(
      githubTokenDepsFromOctokit(
        p.appOctokit,
        Number(p.env.BREAKGLASS_GITHUB_INSTALLATION_ID),
        p.baseUrl ?? "https://api.github.com",
      ),
    );
  }
  return { providers, introspect: check };
}
