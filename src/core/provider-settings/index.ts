/**
 * The providers and their settings, in one place: the policy schema (policy-schema.ts), the policy
 * loader (policy.ts) and the providers (src/providers) all read them from here.
 */
import { AWS_SETTINGS } from "./aws.ts";
import { GITHUB_SETTINGS } from "./github.ts";
import { JWT_SETTINGS } from "./jwt.ts";
import { POSTGRES_SETTINGS } from "./postgres.ts";
import type { ProviderSettingsSpec } from "./spec.ts";

export const PROVIDERS = ["jwt", "github", "aws", "postgres"] as const;
export type ProviderName = (typeof PROVIDERS)[number];
export type { ProviderSettingsSpec };

export const PROVIDER_SPECS: Record<ProviderName, ProviderSettingsSpec> = {
  jwt: JWT_SETTINGS,
  github: GITHUB_SETTINGS,
  aws: AWS_SETTINGS,
  postgres: POSTGRES_SETTINGS,
};

/** A role's settings with the provider's defaults filled in (a copy; the policy's own values win). */
export function withProviderDefaults(
  provider: ProviderName,
  settings: Record<string, unknown>,
): Record<string, unknown> {
  return { ...structuredClone(PROVIDER_SPECS[provider].defaults), ...structuredClone(settings) };
}
