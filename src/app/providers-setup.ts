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
 * the PostgreSQL, AWS and GitHub-token providers are not part of this build yet.
 */
export async function systemProviders(p: ProviderEnv): Promise<{ providers: Partial<Record<ProviderName, CredentialProvider>>; introspect: (token: string) => Promise<{ active: boolean; reason?: string }> }> {
  const revocations = memoryRevocationStore(p.now);
  const providers: Partial<Record<ProviderName, CredentialProvider>> = {
    jwt: createJwtProvider({ issuer: p.publicUrl, signingKey: p.keys.privateKey, kid: p.keys.kid, revocations, now: p.now }),
  };
  const check = (token: string) => introspect(token, { jwks: p.keys.jwks, issuer: p.publicUrl, revocations, now: p.now() });
  for (const name of ["BREAKGLASS_POSTGRES", "BREAKGLASS_AWS", "BREAKGLASS_GITHUB_INSTALLATION_ID"]) {
    if (p.env[name]) throw new Error(`${name} is set, but this build of Breakglass has only the built-in jwt provider (the postgres, aws and github providers are not finished).`);
  }
  return { providers, introspect: check };
}
