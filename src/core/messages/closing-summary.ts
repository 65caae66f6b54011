import { formatDuration } from "../duration.ts";
import type { RequestState } from "../lifecycle.ts";
import { escapeInline, mention, quoteBlock } from "../markdown.ts";
import type { TimedEvent } from "../lifecycle-events.ts";
import { grantFigures, renderTimeline } from "../render-timeline.ts";

/** The auditor-readable closing comment: who, what, when, why, how long, what was checked. */
export function renderClosingSummary(input: {
  state: RequestState;
  events: readonly TimedEvent[];
  /** Signed entries on the request before the closing one. */
  entries: number;
}): string {
  const { state, events } = input;
  const r = state.request;
  const f = grantFigures(state, events);
  const lines = [
    "## 🔒 Break-glass access ended",
    "",
    `- **Who**: ${state.requester ? mention(state.requester) : "—"}`,
    r
      ? `- **What**: \`${escapeInline(r.role, 40)}\` on \`${escapeInline(r.resource, 60)}\` (severity ${r.severity}${r.drill ? ", drill" : ""})`
      : "",
    `- **Approved by**: ${state.approvals.map((a) => (a.via === "auto" ? `auto rule \`${escapeInline(a.detail ?? "", 40)}\`` : `${mention(a.actor)}${a.via === "break_glass" ? " (break-glass)" : ""}`)).join(", ") || "—"}`,
    state.grant
      ? `- **Credential**: ${escapeInline(state.grant.provider, 20)} \`${escapeInline(state.grant.credential_id, 80)}\`, revoked and verified (${escapeInline(state.grant.ended?.evidence ?? "", 200)})`
      : "",
    f.duration_used_seconds !== null
      ? `- **How long**: used ${formatDuration(f.duration_used_seconds)} of ${formatDuration(f.requested_seconds ?? 0)} requested${state.extensions.length ? `, extended ${state.extensions.length} time(s)` : ""}`
      : "",
    f.time_to_grant_seconds !== null ? `- **Time to grant**: ${formatDuration(f.time_to_grant_seconds)}` : "",
    state.review_issue ? `- **Post-event review**: #${state.review_issue}` : "",
    `- **Audit chain**: ${input.entries + 1} signed entries on this issue`,
    "",
    r ? `**Why**\n\n${quoteBlock(r.justification, 1500)}\n` : "",
    "<details><summary>Timeline</summary>",
    "",
    renderTimeline(events),
    "",
    "</details>",
  ];
  return lines
    .filter((l) => l !== "")
    .join("\n")
    .replace("</details>", "\n</details>");
}
