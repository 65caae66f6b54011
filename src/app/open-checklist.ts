import { escapeInline, mention } from "../core/markdown.ts";
import { renderTimeline } from "../core/render-timeline.ts";
import { renderUsage } from "../core/render-usage.ts";
import { summariseUses } from "../core/usage.ts";
import { AUDIT_LABEL, DRILL_LABEL, type RequestSession } from "./request-session.ts";

export const SECOND_PERSON_ITEM = "Second-person review: someone other than the requester confirms this break-glass use was justified";

/**
 * Opens the post-event review issue for an ended grant, from the policy's audit_checklist, assigned to
 * the approvers and with the timeline and the grant's audit-chain excerpt. A break-glass
 * self-approval always gets the mandatory second-person review item.
 */
export async function openChecklist(session: RequestSession): Promise<number> {
  const { state } = session;
  const policy = session.policy();
  const items = [...(policy?.audit_checklist ?? ["Review what was done with the access"])];
  if (state.break_glass) items.unshift(SECOND_PERSON_ITEM);
  const approvers = state.approvals.filter((a) => a.via !== "auto" && a.actor !== state.requester).map((a) => a.actor);
  const owners = policy ? [...(await session.approvers(policy)).keys()] : [];
  const assignees = [...new Set([...approvers, ...owners])].slice(0, 10);
  const r = state.request;
  const body = [
    `Post-event review of #${session.number}: ${r ? `\`${escapeInline(r.role, 40)}\` on \`${escapeInline(r.resource, 60)}\`` : "request"} for ${state.requester ? mention(state.requester) : "—"}.`,
    "",
    "Check every item, or have an owner comment `/waive <reason>` before closing: closing with unchecked items is refused.",
    "",
    ...items.map((i) => `- [ ] ${escapeInline(i, 300)}`),
    "",
    "### Activity during the grant",
    "",
    await activity(session),
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
    title: `[breakglass audit] Review #${session.number}${r ? ` ${r.resource} ${r.role}` : ""}`,
    body,
    labels: [AUDIT_LABEL, ...(r?.drill ? [DRILL_LABEL] : [])],
    assignees,
  });
  return created.number;
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
    notes: seal?.notes ?? ["No use was collected at revocation (the grant was revoked before uses were recorded)."],
    fullListAt: `the ledger ${session.port.ledger.location}, branch uses/…/${session.number}${seal ? `, sha256 ${seal.digest.slice(0, 16)}…` : ""}`,
  });
}
