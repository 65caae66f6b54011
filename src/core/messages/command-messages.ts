/**
 * What the app says on a request issue in answer to a command comment (`/approve`, `/deny`, `/cancel`,
 * `/extend`, `/break-glass`, `/status`, `/help`). Pure text: every name, reason and message a person
 * wrote goes through the Markdown escapes (no mention, link, HTML or marker survives), so the
 * handlers pass plain values and these functions are tested as text (test/core/messages).
 */
import { formatDuration } from "../duration.ts";
import { escapeInline, mention, quoteBlock } from "../markdown.ts";
import type { StepUpProof } from "../step-up.ts";

/** The answer to a command the rules refused: who, the reason code, what to do. */
export const commandRefused = (who: string, refusal: { code: string; message: string }): string =>
  `👎 ${mention(who)} — refused (\`${refusal.code}\`): ${escapeInline(refusal.message, 600)}`;

/**
 * A command on a request naming several resources that applied to some of them, and was refused on
 * others the commenter may decide, for a reason they can fix (a step-up that does not cover them).
 */
export const partsNotApplied = (
  who: string,
  refused: ReadonlyArray<{ part: string; code: string; message: string }>,
): string =>
  `⚠️ ${mention(who)} — applied, but not to ${refused.map((r) => `\`${escapeInline(r.part, 80)}\``).join(", ")}:\n\n${refused.map((r) => `- \`${escapeInline(r.part, 80)}\` (\`${r.code}\`): ${escapeInline(r.message, 400)}`).join("\n")}`;

/** The line before the command list when a comment's command is not one of ours. */
export const unknownCommandIntro = (command: string): string =>
  `🤔 \`${escapeInline(command, 40)}\` is not a Breakglass command.\n\n`;

/** `/status`: the status comment is the answer, this points to it. */
export const statusPointer = (who: string, status: string): string =>
  `ℹ️ ${mention(who)}: the request is **${status.replace("_", " ")}**; the status comment above is up to date.`;

/** How an approval names the step-up proof that came with it ("" without one). */
function provenWith(proof: StepUpProof | null): string {
  if (!proof) return "";
  if (proof.method === "webauthn") return ` with a ${proof.hardware ? "security key" : "passkey"}`;
  return ` with an SSH signature (${proof.key_type.startsWith("sk-") ? "hardware security key" : "signing key"} \`${proof.key_fingerprint}\`)`;
}

/** One approval of the request, counted: `n of required`, bound to the request hash it saw. */
export function approvalRecorded(input: {
  who: string;
  /** The team through which the approver is eligible, if that is how. */
  team?: string;
  proof: StepUpProof | null;
  hash: string;
  count: number;
  required: number;
  note?: string;
}): string {
  const via = input.team ? ` (via ${escapeInline(input.team, 60)})` : "";
  const who = mention(input.who);
  const head =
    input.proof?.method === "webauthn"
      ? `✅ ${who}${via} approved${provenWith(input.proof)}: request`
      : `✅ ${who}${via}${provenWith(input.proof)} approved request`;
  return `${head} \`${input.hash.slice(0, 16)}\` — ${input.count} of ${input.required}.${input.note ? `\n\n${quoteBlock(input.note, 500)}` : ""}`;
}

/** `part`: the resource of a request naming several whose grant the extension is for. */
const ofPart = (part: string | null | undefined): string => (part ? ` of \`${part}\`` : "");

export const extensionApproved = (who: string, proof: StepUpProof | null, part?: string | null): string =>
  `✅ ${mention(who)}${provenWith(proof)} approved the extension${ofPart(part)}.`;

export const denied = (who: string, reason: string): string =>
  `⛔ ${mention(who)} denied the request.\n\n${quoteBlock(reason, 1000)}`;

export const cancelled = (who: string): string => `🚫 ${mention(who)} cancelled the request.`;

/** `/break-glass`: self-approval, with the repeated-use warning when this person did it before. */
export function brokeGlass(who: string, reason: string, priorUses: number): string {
  const repeated =
    priorUses > 0
      ? `\n\n⚠️ **Repeated use**: ${mention(who)} broke the glass ${priorUses} other time${priorUses === 1 ? "" : "s"} in the last 30 days. This is flagged in the audit record and to every notify target.`
      : "";
  return `🚨 ${mention(who)} **broke the glass**: self-approved without a second person. A post-event review by someone else is mandatory.${repeated}\n\n${quoteBlock(reason, 1000)}`;
}

/** The notify targets' one-line summary of a break-glass (plain text, bounded). */
export const brokeGlassSummary = (who: string, reason: string, priorUses: number): string =>
  `${who} self-approved (break-glass)${priorUses > 0 ? ` — REPEATED USE: ${priorUses} earlier in 30 days` : ""}: ${reason.slice(0, 200)}`;

export const extensionAsked = (
  who: string,
  seconds: number,
  needsApproval: boolean,
  reason: string,
  part?: string | null,
): string =>
  `⏱️ ${mention(who)} asks to extend the grant${ofPart(part)} by ${formatDuration(seconds)}.${needsApproval ? ` ${part ? `An owner of \`${part}\`` : "An approver"} must \`/approve\` the extension; the running grant is not disturbed meanwhile.` : ""}\n\n${quoteBlock(reason, 1000)}`;

export const extended = (expiresAt: string, seconds: number, part?: string | null): string =>
  `⏱️ The grant${ofPart(part)} now expires at ${expiresAt} (${formatDuration(seconds)} more).`;
