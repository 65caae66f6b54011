import { escapeInline, table } from "./markdown.ts";
import { describeUseCount, type UseSummary } from "./usage.ts";

const time = (iso: string | null): string => (iso ? iso.replace(/\.\d{3}Z$/, "Z") : "—");

/**
 * The bounded activity section of the review issue: counts, first and last use, the most frequent
 * actions, and what the provider could (or could not) see. The full list stays in the ledger and the
 * audit export; nothing here is longer than MAX_ACTION_CHARS a line.
 */
export function renderUsage(view: {
  summary: UseSummary;
  provider: string;
  credentialId: string;
  grantedAt: string;
  endedAt: string | null;
  source: string;
  notes: readonly string[];
  fullListAt: string;
}): string {
  const { summary } = view;
  const lines = [
    `Credential ${escapeInline(view.provider, 20)} \`${escapeInline(view.credentialId, 80)}\`, granted ${time(view.grantedAt)}, ended ${time(view.endedAt)}.`,
    "",
    `**${describeUseCount(summary)}**${summary.count ? `, first ${time(summary.first)}, last ${time(summary.last)}` : ""}. Source: ${escapeInline(view.source, 300)}`,
  ];
  if (summary.top.length) {
    lines.push(
      "",
      table(
        ["Times", "What was done"],
        summary.top.map((t) => [String(t.count), `\`${escapeInline(t.action, 200)}\``]),
      ),
    );
  }
  for (const note of view.notes) lines.push("", `> ${escapeInline(note, 600)}`);
  lines.push(
    "",
    `_Full list: ${escapeInline(view.fullListAt, 200)} (and \`breakglass audit\` exports). Statement values and secrets are never copied._`,
  );
  return lines.join("\n");
}
