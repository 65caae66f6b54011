import { openSealedWithAny } from "../../providers/sealed-box.ts";
import type { CredentialProvider, CredentialRef } from "../../providers/provider.ts";
import type { RequestSession } from "../infra/request-session.ts";

/**
 * The live grant's provider and what it needs to act on the credential (revoke, verify, extend),
 * with the revocation handle unsealed. The grant's record names the provider and the role's settings
 * as they were when it was minted, so a policy or role renamed or deleted since changes nothing; only
 * grants recorded before the settings were would need the policy. Throws when the provider is not
 * configured: then nothing can act on the credential and the caller must report that, not pretend.
 */
export function credentialOf(session: RequestSession): { provider: CredentialProvider; ref: CredentialRef } {
  const { state, deps } = session;
  const grant = state.grant;
  if (!grant || !state.request) throw new Error("there is no grant");
  const role = session.policy()?.roles[state.request.role];
  const settings = grant.settings ?? role?.settings;
  const provider = deps.providers[grant.provider as keyof typeof deps.providers];
  if (!settings)
    throw new Error(
      `no settings for the ${grant.provider} credential: the policy or role was removed, and the grant predates recorded settings`,
    );
  if (!provider) throw new Error(`the ${grant.provider} provider is not configured on this Breakglass app`);
  return {
    provider,
    ref: {
      grantId: grant.grant_id,
      credentialId: grant.credential_id,
      resource: state.request.resource,
      role: state.request.role,
      settings,
      ...(grant.sealed_handle
        ? {
            revocationHandle: openSealedWithAny(grant.sealed_handle, [
              deps.sealKey,
              ...(deps.retiredSealKeys ?? []),
            ]).plaintext,
          }
        : {}),
    },
  };
}
