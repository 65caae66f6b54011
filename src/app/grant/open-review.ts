import { escapeInline, mention } from "../../core/markdown.ts";
import { renderTimeline } from "../../core/render-timeline.ts";

import { reviewItems, reviewItemText, selfReviewers } from "../../core/review-items.ts";
import { renderUsage } from "../../core/render-usage.ts";
import { summariseUses } from "../../core/usage.ts";
import { AUDIT_LABEL, DRILL_LABEL, type RequestSession } from "../infra/request-session.ts";

/**
 * Opens the post-event review issue for an ended grant, from the policy's audit_checklist, assigned to
 * the approvers and with the timeline and the grant's audit-chain excerpt. A break-glass
 * self-approval always gets the mandatory second-person review item. Returns the issue and its items,
 * which the caller records: the records, not the editable body, say what must be done.
 */
export async function openReview(session: RequestSession): Promise<{ number: number; items: string[] }> {
  const { state } = session;
  // One review for the whole request: a request naming several resources has every part's checklist,
  // approvers and activity in it.
  const views = session.parts();
  const policies = views.map((v) => v.policy()).filter((p) => p !== null);
  const checklist = policies.length ? [...new Set(policies.flatMap((p) => p.audit_checklist))] : undefined;
  const items = reviewItems(checklist, state.break_glass !== null);
  const selves = selfReviewers(state).map(mention).join(" or ");
  const approvers = views
    .flatMap((v) => v.state.approvals)
    .filter((a) => a.via !== "auto" && a.actor !== state.requester)
    .map((a) => a.actor);
  const owners = (
    await Promise.all(policies.map(async (p) => [...(await session.approvers(p)).keys()]))
  ).flat();
  const assignees = [...new Set([...approvers, ...owners])].slice(0, 10);
  const requests = views.map((v) => v.state.request).filter((r) => r !== null);
  const r = state.request;
  const what = requests.length
    ? requests.map((q) => `\`${escapeInline(q.role, 40)}\` on \`${escapeInline(q.resource, 60)}\``).join(", ")
    : "request";
  const body = [
    `Post-event review of #${session.number}: ${what} for ${state.requester ? mention(state.requester) : "—"}.`,
    "",
    ...(r?.retroactive
      ? [
          `**Retroactive record**: access taken outside Breakglass (GitHub or the app was down) from ${r.retroactive.started_at} to ${r.retroactive.ended_at}; Breakglass issued no credentials, so review what was done from the provider's own logs.`,
          "",
        ]
      : []),
    `Check every item, or have a person with write access other than ${selves || "the requester"} comment \`/waive <reason>\` before closing: closing with unchecked items is refused. The app records who ticks each item${state.break_glass ? `; the second-person item counts only when ticked by someone other than ${selves}` : ""}.`,
    "",
    ...items.map((i) => `- [ ] ${reviewItemText(i)}`),
    "",
    "### Activity during the grant",
    "",
    ...(views.length === 1
      ? [await activity(session)]
      : await Promise.all(
          views.map(async (v) => `#### \`${escapeInline(v.part ?? "", 60)}\`\n\n${await activity(v)}`),
        )),
    "",
    "### Timeline",
    "",
    renderTimeline(session.events),
    "",
    "<details><summary>Audit-chain excerpt (signed JWS, verify with <code>breakglass audit verify</code>)</summary>",
    "",
    "```",
    ...session.chain.map((e) => `${e.entry.seq} ${e.entry.id} ${e.jws.slice(0, 40)}…`),
    "```",
    "",
    "</details>",
  ].join("\n");
  const created = await session.port.createIssue({
    title: `[breakglass audit] Review #${session.number}${r ? ` ${r.resource} ${r.role}` : requests.length > 1 ? ` ${requests.length} resources` : ""}`,
    body,
    labels: [AUDIT_LABEL, ...(requests.some((q) => q.drill) ? [DRILL_LABEL] : [])],
    assignees,
  });
  return { number: created.number, items };
}

/** What was done with the credential, next to the checklist, so "the actions were within the justification" can be checked. */
async function activity(session: RequestSession): Promise<string> {
  const grant = session.state.grant;
  if (!grant) return "_No credential was granted._";
  const seal = [...session.events].reverse().find((e) => e.type === "revoked")?.usage;
  session.forgetUses();
  const uses = await session.uses();
  return renderUsage({
    summary: summariseUses(uses),
    provider: grant.provider,
    credentialId: grant.credential_id,
    grantedAt: grant.granted_at,
    endedAt: grant.ended?.at ?? null,
    source: seal?.source ?? `the ${grant.provider} provider`,
    notes: seal?.notes ?? [
      "No use was collected at revocation (the grant was revoked before uses were recorded).",
    ],
    fullListAt: `the ledger ${session.port.ledger.location}, branch uses/…/${session.number}${seal ? `, sha256 ${seal.digest.slice(0, 16)}…` : ""}`,
  });
}
