/**
 * What the app records about passkeys: a registration (and when it starts to count), an activation
 * by SSH signature, a refused approval on the approval page. Pure text, tested in test/core/messages.
 * `login` is the signed-in GitHub login (from GitHub's OAuth answer), named without escaping like any
 * login the app resolved itself; credential ids (base64url) and key fingerprints are the app's own
 * readings of what it verified, shown as they are; the refusal message is escaped.
 */
import { escapeInline, mention } from "../markdown.ts";

export const passkeyRegistered = (input: {
  login: string;
  attested: boolean;
  aaguid: string;
  credentialId: string;
  activeFrom: string;
}): string =>
  `🔑 ${mention(input.login)} registered a passkey (${input.attested ? "device-bound, attested" : "synced or unattested"}, model ${escapeInline(input.aaguid, 40)}, \`${input.credentialId.slice(0, 16)}\`); it counts for approvals from ${input.activeFrom} unless removed, or once confirmed by an SSH signature.`;

export const passkeyConfirmed = (login: string, credentialId: string, keyFingerprint: string): string =>
  `✅ ${mention(login)} confirmed the passkey \`${credentialId.slice(0, 16)}\` with the SSH signing key ${keyFingerprint}: it counts for approvals from now.`;

/** A passkey approval refused on the page, recorded on the issue; `lastRecorded` when further ones stay on the page. */
export const pageApprovalRefused = (
  login: string,
  refusal: { code: string; message: string },
  lastRecorded: number | null,
  /** Whether the person could approve this request; others' refusals are bounded apart. */
  approver = true,
  /** The resource of a request naming several that the approval was for. */
  part: string | null = null,
): string =>
  `👎 ${mention(login)} — refused (\`${refusal.code}\`): ${escapeInline(refusal.message, 500)} _(an approval${part ? ` of \`${part}\`` : ""} with a passkey on the app's approval page)_${lastRecorded !== null ? `\n\nThis is the ${lastRecorded}th refusal of a passkey approval ${approver ? "by an approver" : "by someone who cannot approve this request"} recorded here; further ones ${approver ? "by approvers" : "by such readers"} are only shown on the page.` : ""}`;
