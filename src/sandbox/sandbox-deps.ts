/**
 * The app's dependencies as the sandbox wires them, shared by `startSandbox()` (the app over HTTP) and
 * test/support/handler-kit.ts (handlers called in-process): one place for the sandbox's identity,
 * workflows, JWT provider and installation permissions, so the two cannot drift apart.
 */
import { createSigner } from "../core/audit-chain.ts";
import type { BreakglassDeps } from "../app/infra/deps.ts";
import type { Notifier } from "../app/infra/notifier.ts";
import type { SigningKeys } from "../app/infra/signing-keys.ts";
import type { CredentialProvider } from "../providers/provider.ts";
import type { ProviderName } from "../core/types.ts";
import { createJwtProvider, introspect, memoryRevocationStore } from "../providers/jwt.ts";

export const SANDBOX_APP_ID = 4242;
export const SANDBOX_APP_SLUG = "breakglass";
export const SANDBOX_AUDIENCE = "breakglass";
/** The sandbox app's public URL, as its JWT grants name it (`iss`). */
export const SANDBOX_JWT_ISSUER = "http://breakglass.sandbox";

/** What the Breakglass app asks for when installed (docs/deployment.md lists the same, with why). */
export const SANDBOX_INSTALLATION_PERMISSIONS = {
  actions: "write",
  checks: "write",
  contents: "write",
  deployments: "write",
  issues: "write",
  members: "read",
  metadata: "read",
  pull_requests: "read",
} as const;

/** The app's deps for one process: a fresh JWT revocation list each time (a restart loses it). */
export function sandboxDeps(input: {
  keys: SigningKeys;
  now: () => number;
  sealKey: Buffer;
  retiredSealKeys?: Buffer[];
  oidcIssuer: string;
  notifier: Notifier;
  providers?: Partial<Record<ProviderName, CredentialProvider>>;
  ledgerRepo?: string;
}): BreakglassDeps {
  const { keys, now } = input;
  const revocations = memoryRevocationStore(now);
  const jwtProvider = createJwtProvider({
    issuer: SANDBOX_JWT_ISSUER,
    signingKey: keys.privateKey,
    kid: keys.kid,
    verificationJwks: keys.jwks,
    revocations,
    now,
  });
  return {
    identity: { appId: SANDBOX_APP_ID, login: `${SANDBOX_APP_SLUG}[bot]` },
    signer: createSigner(keys.privateKey, keys.kid),
    jwks: keys.jwks,
    sealKey: input.sealKey,
    ...(input.retiredSealKeys?.length ? { retiredSealKeys: input.retiredSealKeys } : {}),
    now,
    publicUrl: SANDBOX_JWT_ISSUER,
    oidc: { issuer: input.oidcIssuer, audience: SANDBOX_AUDIENCE, clockToleranceSeconds: 30 },
    grantWorkflow: "breakglass-grant.yml",
    sweepWorkflow: "breakglass-sweep.yml",
    drillWorkflow: "breakglass-drill.yml",
    providers: { jwt: jwtProvider, ...(input.providers ?? {}) },
    introspect: (token) =>
      introspect(token, { jwks: keys.jwks, issuer: SANDBOX_JWT_ISSUER, revocations, now: now() }),
    notifier: input.notifier,
    retryBaseMs: 60_000,
    ...(input.ledgerRepo ? { ledgerRepo: input.ledgerRepo } : {}),
  };
}
