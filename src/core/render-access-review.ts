import {
  ACCESS_REVIEW_TITLE,
  overdueResources,
  unconfirmed,
  type AccessReviewPerson,
  type AccessReviewState,
} from "./access-review.ts";
import { escapeInline, mention, table } from "./markdown.ts";

const day = (iso: string | null) => (iso ? iso.slice(0, 10) : "never");

/** The review's title: a prefix the app recognises and the period. */
export const accessReviewTitle = (period: string): string => `${ACCESS_REVIEW_TITLE} ${period}`;

/**
 * The review issue's body, from its records alone: the app writes it when the review opens, after each
 * confirmation, and again whenever someone else edits it (ticking a box confirms nothing).
 */
export function renderAccessReview(state: AccessReviewState, repository: string, nowMs: number): string {
  const links = state.links ?? {
    repository_url: `https://github.com/${repository}`,
    default_branch: "main",
    codeowners_path: null,
  };
  const editUrl = (path: string) => `${links.repository_url}/edit/${links.default_branch}/${path}`;
  const open = unconfirmed(state);
  const overdue = new Set(overdueResources(state, nowMs).map((r) => r.resource));
  const lines = [
    `Access review **${escapeInline(state.period, 20)}** of **${escapeInline(repository, 140)}**, from the app's signed records.`,
    "",
    "For each resource below, one of its owners (the people who may approve its requests) checks who may request and approve it and comments `/confirm <resource>`, or `/confirm all` for every resource they own. **Ticking a box or editing this text confirms nothing**: only a `/confirm` comment from an owner is recorded, and the app puts this text back from its records.",
    "",
    `To remove someone's access, open a pull request that changes the resource's policy (its \`requesters\`, \`approvals.from\`) or [\`${links.codeowners_path ?? ".github/CODEOWNERS"}\`](${editUrl(links.codeowners_path ?? ".github/CODEOWNERS")}); each resource links its policy file.`,
    "",
    state.completed_at
      ? `✅ Every resource was confirmed; the review closed on ${day(state.completed_at)}.`
      : `**${open.length} of ${state.resources.length}** still to confirm${overdue.size ? `, **${overdue.size} overdue**` : ""}.`,
    "",
  ];
  for (const r of state.resources) {
    const confirmation = state.confirmations.get(r.resource);
    const status = confirmation
      ? `✅ confirmed by ${mention(confirmation.actor)} on ${day(confirmation.at)}`
      : overdue.has(r.resource)
        ? `🚨 overdue (was due ${day(r.due_at)})`
        : `⏳ to confirm by ${day(r.due_at)}`;
    lines.push(`### \`${escapeInline(r.resource, 63)}\` — ${status}`, "");
    lines.push(
      `Who may request: ${escapeInline(r.requesters, 600)}. Approvals required: ${r.approvals_required}. Policy: [\`${escapeInline(r.policy_path, 200)}\`](${editUrl(r.policy_path)}) ([open a PR to remove access](${editUrl(r.policy_path)})).`,
      "",
    );
    lines.push(
      r.people.length
        ? table(
            [
              "Person",
              "May request",
              "May approve",
              "Last request",
              "Last approval",
              `Unused ${r.unused_after_days} days`,
            ],
            r.people.map((p: AccessReviewPerson) => [
              escapeInline(p.login, 40),
              p.may_request ? "yes" : "—",
              p.may_approve ? escapeInline(p.may_approve, 120) : "—",
              day(p.last_requested),
              day(p.last_approved),
              p.unused ? "⚠️ unused: remove?" : "",
            ]),
          )
        : "_Nobody may approve this resource: its policy has no owner._",
      "",
    );
    lines.push(
      `- [${confirmation ? "x" : " "}] Confirmed${confirmation ? ` by ${mention(confirmation.actor)}` : ` (comment \`/confirm ${r.resource}\`)`}`,
      "",
    );
  }
  return lines.join("\n");
}
