import { formatDuration } from "./duration.ts";
import type { Status, RequestState } from "./lifecycle.ts";
import { escapeInline, mention, quoteBlock, table } from "./markdown.ts";
import type { Policy } from "./types.ts";
import { describeUseCount, type UseSummary } from "./usage.ts";

export const STATUS_MARKER = "<!-- breakglass:status -->";

const BADGE: Record<Status, string> = {
  new: "🆕 new",
  invalid: "✏️ needs changes",
  requested: "⏳ waiting for approval",
  approved: "✅ approved — granting",
  active: "🔓 active",
  revoke_failed: "🚨 REVOCATION FAILED",
  expired: "⌛ expired",
  revoked: "🔒 revoked",
  denied: "⛔ denied",
  cancelled: "🚫 cancelled",
  timed_out: "⌛ timed out",
  recorded: "📝 recorded after the fact (retroactive, nothing granted)",
};

export interface StatusView {
  state: RequestState;
  policy: Policy | null;
  approvers: string[];
  now: number;
  issueUrl?: string;
  /** What the credential was used for so far (from the ledger); shown once there is a grant. */
  usage?: UseSummary;
  /** A request naming several resources: each part's policy, approvers and uses, by resource. */
  parts?: Record<string, { policy: Policy | null; approvers: string[]; usage?: UseSummary }>;
}

const time = (iso: string | null | undefined): string => (iso ? `${iso.replace(/\.\d{3}Z$/, "Z")}` : "—");

/**
 * The one status comment per request, rewritten in place. Everything user-written is escaped; logins
 * are mentioned only where the app resolved them itself.
 */
export function renderStatus(view: StatusView): string {
  const { state } = view;
  if (state.parts !== null) return renderSeveral(view, state.parts);
  const r = state.request;
  const rows: string[][] = [["State", `**${BADGE[state.status]}**`], ...partRows(view, state, view.policy)];
  if (state.review_issue) rows.push(["Post-event review", `#${state.review_issue}`]);
  const lines = [STATUS_MARKER, "### Break-glass request", "", table(["", ""], rows), ""];
  if (r) lines.push("**Justification**", "", quoteBlock(r.justification), "");
  lines.push(nextStep(state));
  return lines.join("\n");
}

/**
 * A request naming several resources: what they share (severity, justification, incident), then one
 * table per resource with its own state, approvals and grant, since each is decided on its own.
 */
function renderSeveral(view: StatusView, parts: Record<string, RequestState>): string {
  const { state } = view;
  const first = Object.values(parts).find((p) => p.request)?.request ?? null;
  const rows: string[][] = [["State", `**${BADGE[state.status]}**`]];
  rows.push(["Resources", String(Object.keys(parts).length)]);
  if (first)
    rows.push(
      ["Severity", first.severity],
      ["Incident", first.incident ? escapeInline(first.incident, 200) : "—"],
      ["Drill", first.drill ? "yes" : "no"],
    );
  if (state.requester) rows.push(["Requester", mention(state.requester)]);
  if (state.review_issue) rows.push(["Post-event review", `#${state.review_issue}`]);
  const lines = [STATUS_MARKER, "### Break-glass request (several resources)", "", table(["", ""], rows), ""];
  for (const [resource, part] of Object.entries(parts)) {
    const of = view.parts?.[resource];
    const partView: StatusView = {
      ...view,
      policy: of?.policy ?? null,
      approvers: of?.approvers ?? [],
      ...(of?.usage ? { usage: of.usage } : {}),
    };
    lines.push(
      `#### \`${escapeInline(resource, 80)}\` — ${BADGE[part.status]}`,
      "",
      table(["", ""], partRows(partView, part, partView.policy)),
      "",
      `_${nextStep(part, resource).replace(/^_|_$/g, "")}_`,
      "",
    );
  }
  if (first) lines.push("**Justification**", "", quoteBlock(first.justification), "");
  lines.push(
    "_Each resource is approved by the owners of its own policy: `/approve` approves every resource you may approve, and `/deny <reason>` denies those. The requester can `/cancel` all of them._",
  );
  return lines.join("\n");
}

/** The rows of one request (or one part of a request naming several): what, who approves, the grant. */
function partRows(view: StatusView, state: RequestState, policy: Policy | null): string[][] {
  const r = state.request;
  const rows: string[][] = [];
  if (r) {
    rows.push(
      [
        "Resource",
        `\`${escapeInline(r.resource, 80)}\`${policy ? ` — ${escapeInline(policy.description, 120)}` : ""}`,
      ],
      ["Role", `\`${escapeInline(r.role, 60)}\``],
      ["Duration", formatDuration(r.duration_seconds)],
    );
    if (view.state.parts === null)
      rows.push(
        ["Severity", r.severity],
        ["Incident", r.incident ? escapeInline(r.incident, 200) : "—"],
        ["Drill", r.drill ? "yes" : "no"],
      );
    if (r.retroactive)
      rows.push([
        "Retroactive",
        `**yes** — access taken outside Breakglass from ${time(r.retroactive.started_at)} to ${time(r.retroactive.ended_at)}; no credentials are issued`,
      ]);
  }
  if (state.requester && view.state.parts === null) rows.push(["Requester", mention(state.requester)]);
  if (state.status === "requested" || state.status === "approved") {
    rows.push([
      "Approvals",
      `${state.approvals.length} of ${state.required_approvals}${state.approvals.length ? `: ${state.approvals.map((a) => mention(a.actor)).join(", ")}` : ""}`,
    ]);
    rows.push([
      "Who may approve",
      view.approvers.length
        ? view.approvers.map((a) => `\`${escapeInline(a, 60)}\``).join(", ")
        : "nobody: fix CODEOWNERS",
    ]);
  } else if (state.approvals.length) {
    rows.push(["Approved by", state.approvals.map(describeApproval).join(", ")]);
  }
  if (state.grant) {
    rows.push(["Granted", time(state.grant.granted_at)], ["Expires", time(state.grant.expires_at)]);
    if (!state.grant.ended && state.status === "active") {
      const left = Math.max(0, Date.parse(state.grant.expires_at) - view.now) / 1000;
      rows.push(["Time left", `about ${formatDuration(left)}`]);
    }
    rows.push([
      "Credential",
      `${escapeInline(state.grant.provider, 20)} \`${escapeInline(state.grant.credential_id, 80)}\``,
    ]);
    if (view.usage)
      rows.push([
        "Uses",
        `${describeUseCount(view.usage)}${view.usage.last ? `, last ${time(view.usage.last)}` : ""}`,
      ]);
    if (state.grant.ended)
      rows.push(["Ended", `${time(state.grant.ended.at)} (${state.grant.ended.reason.replace("_", " ")})`]);
    if (state.grant.last_revocation_error && state.status === "revoke_failed") {
      rows.push(["Revocation error", escapeInline(state.grant.last_revocation_error, 300)]);
    }
  }
  if (state.status === "approved" && !state.grant) {
    rows.push([
      "Grant run",
      state.runs.length
        ? state.runs.map((id) => `run ${escapeInline(id, 20)}`).join(", ")
        : "not started yet",
    ]);
  }
  if (state.refused_exchanges)
    rows.push(["Refused exchanges", `${state.refused_exchanges} (see the 🛑 comments)`]);
  if (state.extension)
    rows.push(["Extension asked", `${formatDuration(state.extension.seconds)} — waiting for approval`]);
  return rows;
}

function describeApproval(a: RequestState["approvals"][number]): string {
  switch (a.via) {
    case "auto":
      return `auto-approved by rule \`${escapeInline(a.detail ?? "", 60)}\``;
    case "break_glass":
      return `${mention(a.actor)} (break-glass self-approval)`;
    case "team":
      return `${mention(a.actor)} (via ${escapeInline(a.detail ?? "team", 60)})`;
    default:
      return mention(a.actor);
  }
}

/** `resource`: the part of a request naming several resources this line is for. */
function nextStep(state: RequestState, resource?: string): string {
  switch (state.status) {
    case "invalid":
      return "_Edit the issue body to fix the problems listed below; the request is checked again on every edit._";
    case "requested":
      return state.request?.retroactive
        ? "_A retroactive record: **no credentials are issued for it**. An approver confirms after the fact with `/approve` (or `/deny <reason>`); either way it closes and its post-event review opens._"
        : "_An approver comments `/approve` (or `/deny <reason>`). The requester can `/cancel`._";
    case "recorded":
      return "_Recorded after the fact and approved: nothing was granted by Breakglass. The post-event review reviews what was done._";
    case "approved":
      return "_Approved. The grant workflow is running; credentials are delivered only to the run listed above (the default branch's workflow, started by Breakglass), never to a comment. If it never starts, an approver other than the requester can run the grant workflow by hand on the default branch with this issue's number: that run is accepted because an approver started it._";
    case "active":
      return resource
        ? `_\`/revoke\` ends the grants now; \`/extend <duration> ${escapeInline(resource, 80)} <reason>\` asks for more time on this one (its owners approve it)._`
        : "_`/revoke` ends the grant now; `/extend <duration> <reason>` asks for more time._";
    case "revoke_failed":
      return "**Revocation failed and is being retried. The credential may still work: act now.**";
    default:
      return "_This request is over. Nothing more can be granted from it._";
  }
}
