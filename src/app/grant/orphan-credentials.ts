import { createHash } from "node:crypto";
import { openSealed } from "../../providers/sealed-box.ts";
import type { CredentialProvider, CredentialRef } from "../../providers/provider.ts";
import type { BreakglassDeps } from "../infra/deps.ts";
import type { GitHubPort } from "../../github/github-port.ts";
import type { OrphanCredential } from "../../github/ledger.ts";
import { orphanRevoked } from "../../core/messages/grant-messages.ts";

/**
 * A credential minted for a request but not in its chain (the grant lost a race to another replica, or
 * its record could not be written) must still be revoked. `revokeUnrecorded` tries at once; when the
 * provider refuses, the credential is kept in the ledger as owed (never handed out: its secret never
 * left the app) and the sweep retries until the provider confirms (`revokeOwedCredentials`). So every
 * credential ever minted is revoked, not only the one the request's state names.
 */
export async function revokeUnrecorded(
  deps: Pick<BreakglassDeps, "now">,
  port: Pick<GitHubPort, "ledger">,
  provider: CredentialProvider,
  ref: CredentialRef,
  mint: { issue: number; provider: string; sealed_handle?: string; expires_at: string },
): Promise<{ revoked: true } | { revoked: false; error: string; kept: boolean }> {
  try {
    await provider.revoke(ref);
    return { revoked: true };
  } catch (error) {
    const message = (error as Error).message.slice(0, 300);
    const orphan: OrphanCredential = {
      key: createHash("sha256").update(ref.grantId).digest("hex").slice(0, 32),
      issue: mint.issue,
      grant_id: ref.grantId,
      provider: mint.provider,
      credential_id: ref.credentialId,
      resource: ref.resource,
      role: ref.role,
      settings: ref.settings as Record<string, unknown>,
      ...(mint.sealed_handle ? { sealed_handle: mint.sealed_handle } : {}),
      minted_at: new Date(deps.now()).toISOString(),
      expires_at: mint.expires_at,
      error: message,
    };
    const kept = await port.ledger.keepOrphan(orphan).then(
      () => true,
      () => false,
    );
    return { revoked: false, error: message, kept };
  }
}

/** The sweep's part: every owed credential of the repository revoked, and dropped from the ledger once the provider confirms. */
export async function revokeOwedCredentials(
  deps: BreakglassDeps,
  port: GitHubPort,
): Promise<{ revoked: string[]; failed: string[] }> {
  const result = { revoked: [] as string[], failed: [] as string[] };
  for (const orphan of await port.ledger.orphans()) {
    const provider = deps.providers[orphan.provider as keyof typeof deps.providers];
    try {
      if (!provider)
        throw new Error(`the ${orphan.provider} provider is not configured on this Breakglass app`);
      await provider.revoke({
        grantId: orphan.grant_id,
        credentialId: orphan.credential_id,
        resource: orphan.resource,
        role: orphan.role,
        settings: orphan.settings as CredentialRef["settings"],
        ...(orphan.sealed_handle ? { revocationHandle: openSealed(orphan.sealed_handle, deps.sealKey) } : {}),
      });
      await port.ledger.dropOrphan(orphan.key);
      result.revoked.push(orphan.credential_id);
      await port
        .createComment(orphan.issue, orphanRevoked(orphan.credential_id, orphan.provider))
        .catch(() => undefined); // the issue may be gone or full; the ledger no longer owes it
    } catch {
      result.failed.push(orphan.credential_id);
    }
  }
  return result;
}
