import { openSealed } from "../providers/sealed-box.ts";
import type { CredentialProvider, CredentialRef } from "../providers/provider.ts";
import type { RequestSession } from "./request-session.ts";

/**
 * The live grant's provider and what it needs to act on the credential (revoke, verify, extend),
 * with the revocation handle unsealed. Throws when the policy or role was removed since the grant,
 * or the provider is no longer configured: then nothing can act on the credential and the caller
 * must report that, not pretend.
 */
export function credentialOf(session: RequestSession): { provider: CredentialProvider; ref: CredentialRef } {
  const { state, deps } = session;
  const grant = state.grant;
  if (!grant || !state.request) throw new Error("there is no grant");
  const role = session.policy()?.roles[state.request.role];
  const provider = role ? deps.providers[role.provider] : undefined;
  if (!provider || !role) throw new Error(`no provider for ${grant.provider}: the policy or role was removed`);
  return {
    provider,
    ref: {
      grantId: grant.grant_id,
      credentialId: grant.credential_id,
      resource: state.request.resource,
      role: state.request.role,
      settings: role.settings,
      ...(grant.sealed_handle ? { revocationHandle: openSealed(grant.sealed_handle, deps.sealKey) } : {}),
    },
  };
}
