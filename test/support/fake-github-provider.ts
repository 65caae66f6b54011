import type { CredentialProvider } from "../../src/providers/provider.ts";

/**
 * github-admin's provider, standing in for GitHub's installation tokens (the real one is tested in
 * test/providers): what it minted and revoked, for suites about something else.
 */
export function fakeGitHubProvider(): CredentialProvider & { minted: string[]; revoked: string[] } {
  const minted: string[] = [];
  const revoked: string[] = [];
  return {
    name: "github",
    minted,
    revoked,
    async mint(request) {
      const id = `ghs_fake_${request.issue}_${minted.length}`;
      minted.push(id);
      return {
        credentialId: id,
        expiresAt: request.expiresAt,
        secrets: { GITHUB_ADMIN_TOKEN: `${id}-secret` },
        outputs: {},
      };
    },
    async revoke(ref) {
      revoked.push(ref.credentialId);
    },
    async verifyRevoked(ref) {
      return { revoked: revoked.includes(ref.credentialId), evidence: "token deleted" };
    },
  };
}
