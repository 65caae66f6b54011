import type { CredentialProvider } from "../../src/providers/provider.ts";

/**
 * A provider that extends its credentials in place (as postgres does), so an `/extend` can be approved
 * without a database: every extension it was asked for lands in `extensions`.
 */
export function extendableProvider(): {
  provider: CredentialProvider;
  extensions: Array<{ id: string; expiresAt: number }>;
} {
  const extensions: Array<{ id: string; expiresAt: number }> = [];
  const provider: CredentialProvider = {
    name: "postgres",
    async mint(request) {
      return {
        credentialId: `ext_${request.issue}`,
        expiresAt: request.expiresAt,
        secrets: { EXTENDABLE_SECRET: `s-${request.issue}` },
        outputs: {},
      };
    },
    async revoke() {},
    async verifyRevoked() {
      return { revoked: true, evidence: "gone" };
    },
    async extend(ref, expiresAt) {
      extensions.push({ id: ref.credentialId, expiresAt });
      return expiresAt;
    },
  };
  return { provider, extensions };
}
