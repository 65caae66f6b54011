/**
 * What the app says when a request issue is opened or edited: the request as recorded (or as a
 * retroactive record), what to fix in an invalid one, an edit by someone else refused, an intake
 * refusal, broken policies. Pure text, tested in test/core/messages.
 */
import { formatDuration } from "../duration.ts";
import { formatIssueRef, type IncidentIssueRef } from "../incident-issue.ts";
import { escapeInline, mention, quoteBlock } from "../markdown.ts";
import type { FieldError } from "../result.ts";
import type { AccessRequest } from "../types.ts";

/** What the app found of the GitHub issue a request names as its incident. */
export interface IncidentSeen {
  ref: IncidentIssueRef;
  state: "open" | "closed" | "unreadable" | "pull_request";
}

function incidentLine(incident: IncidentSeen): string {
  const name = formatIssueRef(incident.ref);
  return {
    open: `Incident ${name} is open.`,
    closed: `⚠️ Incident ${name} is closed.`,
    pull_request: `⚠️ ${name} is a pull request, not an issue.`,
    unreadable: `⚠️ Breakglass cannot read ${name} (it does not exist, or the app is not installed there): recorded as given.`,
  }[incident.state];
}

/** The `requested` record's comment: who asks for what (or records what, after the fact), why, and the hash approvals bind to. */
export function requestRecorded(input: {
  requester: string;
  request: AccessRequest;
  hash: string;
  /** Set when an edit changed the content and voided this many approvals. */
  voidedBy?: { editor: string; approvals: number };
  incident: IncidentSeen | null;
}): string {
  const { request, requester } = input;
  const what = `\`${escapeInline(request.role, 60)}\` on \`${escapeInline(request.resource, 80)}\``;
  const head = input.voidedBy
    ? `✏️ The request was edited by ${mention(input.voidedBy.editor)}; **${input.voidedBy.approvals} earlier approval(s) no longer count** and must be given again for the new content.`
    : request.retroactive
      ? `📝 ${mention(requester)} records **retroactively** access taken outside Breakglass: ${what} from ${request.retroactive.started_at} to ${request.retroactive.ended_at} (severity ${request.severity}). **No credentials are issued for a retroactive record**; it needs the policy's approvals after the fact, then its post-event review opens.`
      : `📝 ${mention(requester)} requests ${what} for ${formatDuration(request.duration_seconds)} (severity ${request.severity}${request.drill ? ", drill" : ""}).`;
  return [
    head,
    "",
    quoteBlock(request.justification, 1000),
    "",
    `Request hash \`${input.hash.slice(0, 16)}\`: approvals bind to exactly this content.`,
    ...(input.incident
      ? ["", incidentLine(input.incident)]
      : request.incident
        ? ["", "Incident link recorded as given (it names no GitHub issue)."]
        : []),
  ].join("\n");
}

/** A refusal at intake (limits, requester, incident, a lost race): its code and what it means. */
export const intakeRefused = (code: string, message: string, maxLength = 400): string =>
  `👎 **Refused (\`${code}\`)**: ${escapeInline(message, maxLength)}`;

/** Someone other than the requester edited the request: the recorded request stands. */
export const editNotByRequester = (input: {
  editor: string;
  requester: string;
  recordedHash: string | null;
}) =>
  [
    `👎 **Refused (\`edit_not_by_requester\`)**: ${mention(input.editor)} edited this request, but only ${mention(input.requester)}, who opened it, can change it.`,
    "",
    input.recordedHash
      ? `The request stays as recorded (hash \`${input.recordedHash.slice(0, 16)}\`, shown in the status comment); approvals count for that, not for the edited text.`
      : "Nothing was recorded from the edited text.",
    `${mention(input.requester)}: if the request should change, edit the issue yourself. ${mention(input.editor)}: to ask for other access, open your own request.`,
  ].join("\n");

/** The body does not make a valid request: each field and what to fix. */
export const invalidRequest = (requester: string, errors: readonly FieldError[]): string =>
  [
    `✏️ ${mention(requester)}, this request cannot be considered yet. Edit the issue body to fix:`,
    "",
    ...errors.map((e) => `- **${escapeInline(e.field, 40)}**: ${escapeInline(e.message, 500)}`),
    "",
    "_Nothing is lost: the request is checked again each time you edit it._",
  ].join("\n");

/** The repository's policies do not load: what the policy owners must fix. */
export const policiesBroken = (lines: readonly string[]): string =>
  [
    "🚨 The repository's Breakglass policies are invalid, so no request can be decided. Policy owners must fix:",
    "",
    ...lines.map((l) => `- ${escapeInline(l, 300)}`),
  ].join("\n");

/** A request naming several resources: the requester's edit dropped one of them, which is withdrawn. */
export const partRemovedByEdit = (resource: string): string =>
  `✏️ \`${escapeInline(resource, 80)}\` is no longer in the request (an edit by the requester removed it): withdrawn.`;

/** A resource of a request naming several whose policy file is gone from the default branch: nothing can grant it. */
export const partPolicyRemoved = (resource: string): string =>
  `🗑️ \`${escapeInline(resource, 80)}\` has no policy on the default branch any more (its file was removed), so nothing can be granted for it: withdrawn. The other resources of the request go on; open a new request if it is still needed.`;

/** An edit of a request naming several resources after one of them was decided: nothing changes. */
export const severalResourcesFrozen = (
  decided: ReadonlyArray<{ resource: string; status: string }>,
): string =>
  [
    `👎 **Refused (\`not_editable\`)**: this edit changes nothing, because ${decided
      .map((d) => `\`${escapeInline(d.resource, 80)}\` is ${escapeInline(d.status, 20)}`)
      .join(", ")}.`,
    "",
    "A request naming several resources can be edited only while every one of them is still being decided. Open a new request for anything else.",
  ].join("\n");

/** A request recorded for one resource cannot become one for several (its records name no parts). */
export const oneResourceRequest = (resource: string): string =>
  `👎 **Refused (\`not_several\`)**: this request was recorded for \`${escapeInline(resource, 80)}\` alone, so More resources cannot be added to it. Empty More resources here, and open a new request for the other resources.`;
