import {
  decideApproval,
  decideBreakGlass,
  decideCancellation,
  decideDenial,
  decideExtensionApproval,
  decideExtensionRequest,
  decideRevocation,
} from "../../core/approval-rules.ts";
import { helpText, parseCommand, type ParsedCommand } from "../../core/commands.ts";
import { LIVE } from "../../core/lifecycle.ts";
import type { LifecycleEvent } from "../../core/lifecycle-events.ts";
import type { Refusal } from "../../core/refusal.ts";
import type { ProviderName, StepUp } from "../../core/types.ts";
import {
  checkStepUp,
  stepUpRequired,
  withoutSignature,
  type StepUpKind,
  type StepUpProof,
} from "../../core/step-up.ts";
import { createHash } from "node:crypto";
import type { BreakglassDeps } from "../infra/deps.ts";
import { dispatchGrant } from "../grant/dispatch-grant.ts";
import type { GitHubPort, IssueComment, IssueSummary } from "../../github/github-port.ts";
import { isRequestIssue } from "../infra/request-recognition.ts";
import { RequestSession } from "../infra/request-session.ts";
import { deferWrites } from "../infra/write-priority.ts";
import { revokeGrant } from "../grant/revoke-grant.ts";
import { priorBreakGlassUses } from "./break-glass-usage.ts";
import { approvalPostdatesRecord } from "../../core/approval-freshness.ts";
import { approvalPolicyDigest } from "../../core/policy-digest.ts";
import { finishRequest } from "../grant/finish-request.ts";
import { recheckApprovalsNow } from "../grant/recheck-approvals.ts";
import { notifyPolicy, recordApproval } from "./record-approval.ts";
import {
  brokeGlass,
  brokeGlassSummary,
  cancelled,
  commandRefused,
  denied,
  extensionAsked,
  partsNotApplied,
  statusPointer,
  unknownCommandIntro,
} from "../../core/messages/command-messages.ts";
import { approveExtension, extendCredential, recordExtension } from "./approve-extension.ts";
import { extendTarget } from "../../core/extend-part.ts";

/**
 * `issue_comment.created` on a request issue: the only way a command can take effect. A command
 * counts only at the start of a new comment by its real author; edited and deleted comments are
 * handled in handle-comment-change.ts and can only ever withdraw.
 */
export async function handleCommand(
  deps: BreakglassDeps,
  port: GitHubPort,
  issue: IssueSummary,
  comment: IssueComment,
): Promise<void> {
  if (comment.user.login === deps.identity.login) return; // our own comments
  // A step-up signature block below a command is proof, not part of its note or reason.
  const command = parseCommand(withoutSignature(comment.body));
  if (!command || !(await isRequestIssue(deps, port, issue))) return;
  // 👀 is shown as soon as the write lane has room, never ahead of a record or a dispatch.
  const seen = deferWrites(() => port.react(comment.id, "eyes")).catch(() => undefined);
  const session = await RequestSession.open(deps, port, issue.number, issue);
  const who = comment.user.login;
  const result = recordedInForce(session, comment.id)
    ? await finishRecorded(session, comment.id)
    : comment.app_id !== null && !viaAllowedApp(session, comment)
      ? viaAppRefusal(who, comment)
      : session.wholeState.parts !== null
        ? await runOnParts(session, command, comment)
        : await run(session, command, comment);
  await seen;
  // The app's own 🚀 or 👎 comes last: it is what the start-up catch-up reads as "answered", so a
  // crash before it (deferred mirror comments, status, labels not yet written) is finished there.
  if (result === "done") {
    await session.publish();
    await deferWrites(() => port.react(comment.id, "rocket"));
  } else if (result === "replied") {
    await deferWrites(() => port.react(comment.id, "rocket"));
  } else {
    await port.createComment(issue.number, commandRefused(who, result));
    await deferWrites(() => port.react(comment.id, "-1"));
  }
}

/**
 * Whether this comment's command is recorded and still in force. An approval that an edit of the
 * request voided since is not: a redelivery of it is decided again (and refused as older than the
 * content), never answered as if it counted.
 */
function recordedInForce(session: RequestSession, commentId: number): boolean {
  // A command on a request naming several resources is recorded once per part it applied to.
  const entries = session.chain.filter(
    (e) => e.entry.id === `comment:${commentId}` || e.entry.id.startsWith(`comment:${commentId}:`),
  );
  if (!entries.length) return false;
  return entries.some((entry) => {
    const event = entry.entry.event as LifecycleEvent & { part?: string };
    if (event.type !== "approved") return true;
    const state = event.part ? session.forPart(event.part).state : session.state;
    return state.approvals.some((a) => a.comment_id === commentId);
  });
}

/** The commands that act on each resource of a request naming several; the others act on the issue. */
const PART_COMMANDS: ReadonlySet<ParsedCommand["kind"]> = new Set([
  "approve",
  "deny",
  "cancel",
  "revoke",
  "break-glass",
]);

/**
 * A command on a request naming several resources applies to every resource it can: `/approve` and
 * `/deny` to those the commenter may decide (the owners of each policy decide its own part; a part
 * whose grant has an extension waiting takes the `/approve` as the extension's approval),
 * `/cancel` and `/revoke` to every part still open or live, `/extend` to the one live part it names. Each part's record carries its own id
 * (`comment:<id>:<resource>`), so a redelivery records nothing twice. Refused everywhere: the first
 * refusal that is about the commenter rather than a part already decided is what they are told.
 */
async function runOnParts(
  session: RequestSession,
  command: ParsedCommand,
  comment: IssueComment,
): Promise<"done" | "replied" | Refusal> {
  // `/extend` moves one grant: the resource it names, or the only one live (core/extend-part.ts).
  if (command.kind === "extend") {
    const target = extendTarget(session.wholeState.parts ?? {}, command.reason);
    if (!target.ok) return target.error;
    return run(session.forPart(target.value.part), { ...command, reason: target.value.reason }, comment);
  }
  if (!PART_COMMANDS.has(command.kind)) return run(session, command, comment);
  const refusals: Array<Refusal & { part: string }> = [];
  let applied = false;
  for (const view of session.parts()) {
    const result =
      comment.app_id !== null && !viaAllowedApp(view, comment)
        ? viaAppRefusal(comment.user.login, comment)
        : await run(view, command, comment);
    if (result === "done" || result === "replied") applied = true;
    else refusals.push({ ...result, part: view.part! });
  }
  if (applied) {
    // Applied to some resources: a step-up that did not cover the others the commenter may decide is
    // said, so nobody takes one 🚀 for every resource approved.
    const fixable = refusals.filter((r) => r.code.startsWith("step_up_"));
    if (fixable.length)
      await deferWrites(() =>
        session.port.createComment(session.number, partsNotApplied(comment.user.login, fixable)),
      );
    return "done";
  }
  const already = new Set(["invalid_transition", "not_pending", "not_active", "duplicate_approval"]);
  return (
    refusals.find((r) => !already.has(r.code)) ??
    refusals[0] ?? { code: "invalid_command", message: "Nothing to do." }
  );
}

/**
 * The command is in the ledger already: a handler recorded it and did not finish (a crash, or GitHub
 * refusing a later write), and the start-up catch-up handles it again. Nothing is decided twice; a
 * completing approval whose dispatch was lost is dispatched now, the rest (status, labels, 🚀) follows.
 */
async function finishRecorded(session: RequestSession, commentId: number): Promise<"done"> {
  // What the process that recorded it never posted (it died first) is posted now, without a tamper alarm.
  session.queueUnmirrored(`comment:${commentId}`);
  // Each part of a request naming several resources is dispatched on its own.
  for (const view of session.parts()) {
    const dispatched = view.events.some((e) => e.type === "dispatched");
    if (view.state.status === "approved" && !dispatched && !view.state.request?.drill)
      await dispatchGrant(view, { deferMirror: true });
  }
  return "done";
}

async function run(
  session: RequestSession,
  command: ParsedCommand,
  comment: IssueComment,
): Promise<"done" | "replied" | Refusal> {
  const { port, deps } = session;
  const id = session.part === null ? `comment:${comment.id}` : `comment:${comment.id}:${session.part}`;
  const who = comment.user.login;
  const policy = session.policy();
  switch (command.kind) {
    case "help":
    case "unknown": {
      const intro = command.kind === "unknown" ? unknownCommandIntro(command.command) : "";
      await port.createComment(session.number, `${intro}${helpText()}`);
      return command.kind === "unknown"
        ? { code: "unknown_command", message: "See the list of commands above." }
        : "replied";
    }
    case "invalid":
      return { code: "invalid_command", message: command.message };
    case "status":
      await session.publish();
      await port.createComment(session.number, statusPointer(who, session.state.status));
      return "replied";
    case "approve": {
      if (policy && !session.state.extension) {
        // Approvals that no longer hold (owner removed, permission lost, policy changed) go first,
        // so this one is counted against what is true now.
        const rechecked = await recheckApprovalsNow(session, policy, "approval");
        if (!rechecked.ok) return { code: rechecked.code, message: rechecked.message };
      }
      const actor = await session.actor(comment.user);
      if (session.state.extension) {
        const decided = decideExtensionApproval(session.state, actor);
        if (!decided.ok) return decided.error;
        // A late-delivered /approve written for the request itself must not approve an extension asked for afterwards.
        const seenExtension = approvalPostdatesRecord(
          comment,
          session.recordStamp("extension_requested"),
          session.state.extension.hash,
        );
        if (!seenExtension.ok) return seenExtension.error;
        // An extension is more access, so it takes the same step-up as the approval of the grant,
        // over the extension itself: a stolen session must not stretch a live grant.
        const proof = await stepUpProof(
          session,
          "extend",
          policy?.approvals.step_up,
          comment,
          session.state.extension.hash,
        );
        if (proof && "code" in proof) return proof;
        return approveExtension(session, { id, who, decided: decided.value, proof, commentId: comment.id });
      }
      const decided = decideApproval(session.state, actor, command.note || undefined);
      if (!decided.ok) return decided.error;
      // Bound to what the approver could have seen: written after the current content was recorded.
      const seen = approvalPostdatesRecord(
        comment,
        session.recordStamp("requested"),
        session.state.hash ?? "",
      );
      if (!seen.ok) return seen.error;
      const proof = await stepUpProof(session, "approve", policy?.approvals.step_up, comment);
      if (proof && "code" in proof) return proof;
      return recordApproval(session, {
        id,
        actor,
        decided: decided.value,
        proof,
        note: command.note || undefined,
        commentId: comment.id,
      });
    }
    case "deny": {
      const decided = decideDenial(session.state, await session.actor(comment.user), command.reason);
      if (!decided.ok) return decided.error;
      const recorded = await session.record(id, decided.value, denied(who, command.reason));
      if (!recorded.ok) return recorded.refusal;
      await finishRequest(session);
      return "done";
    }
    case "cancel": {
      if (LIVE.has(session.state.status)) {
        if (who.toLowerCase() !== session.state.requester?.toLowerCase())
          return { code: "not_requester", message: "Only the requester can cancel; approvers use /revoke." };
        await revokeGrant(session, "cancelled", who);
        return "done";
      }
      const decided = decideCancellation(
        session.state,
        await session.actor(comment.user),
        command.reason || undefined,
      );
      if (!decided.ok) return decided.error;
      const recorded = await session.record(id, decided.value, cancelled(who));
      if (!recorded.ok) return recorded.refusal;
      await finishRequest(session);
      return "done";
    }
    case "revoke": {
      const decided = decideRevocation(session.state, await session.actor(comment.user));
      if (!decided.ok) return decided.error;
      await revokeGrant(session, "revoked", who, command.reason || undefined);
      return "done";
    }
    case "break-glass": {
      if (!policy) return { code: "invalid_request", message: "The request is not valid yet." };
      const actor = await session.actor(comment.user);
      // Counted only when the request may break the glass at all, so a refusal costs no extra reads.
      const allowed = decideBreakGlass(session.state, policy, actor, command.reason);
      if (!allowed.ok) return allowed.error;
      const prior = await priorBreakGlassUses(deps, session, who);
      const bg = decideBreakGlass(session.state, policy, actor, command.reason, prior);
      if (!bg.ok) return bg.error;
      const proof = await stepUpProof(session, "break-glass", policy.break_glass.step_up, comment);
      if (proof && "code" in proof) return proof;
      const decided = {
        ...bg,
        value: {
          ...bg.value,
          policy_digest: approvalPolicyDigest(policy, session.state.request!.role),
          ...(proof && bg.value.type === "break_glass" ? { step_up: proof } : {}),
        },
      };
      const recorded = await session.recordAndConfirm(
        id,
        decided.value,
        brokeGlass(who, command.reason, prior),
        { deferMirror: true },
      );
      if (!recorded.ok) return recorded.refusal;
      if (!recorded.won) return "done";
      // As for /approve: the dispatch first, the mirror comments, status and labels after it.
      await dispatchGrant(session, { deferMirror: true });
      await notifyPolicy(session, "break_glass", brokeGlassSummary(who, command.reason, prior));
      return "done";
    }
    case "extend": {
      if (!policy) return { code: "not_active", message: "Only an active grant can be extended." };
      // A part's extension binds its resource too, so no two parts' extensions share a hash.
      const hash = createHash("sha256")
        .update(
          `${comment.id}:${session.part === null ? "" : `${session.part}:`}${command.seconds}:${command.reason}`,
        )
        .digest("hex");
      const decided = decideExtensionRequest(
        session.state,
        policy,
        await session.actor(comment.user),
        command.seconds,
        command.reason,
        hash,
      );
      if (!decided.ok) return decided.error;
      const grant = session.state.grant!;
      if (!deps.providers[grant.provider as ProviderName]?.extend) {
        return {
          code: "not_extendable",
          message: `A ${grant.provider} credential has a fixed lifetime (its expiry is signed into it), so it cannot be extended without replacing what the job is using. Let this grant end at ${grant.expires_at} and open a new request for the time you still need.`,
        };
      }
      const recorded = await session.record(
        id,
        decided.value,
        extensionAsked(who, command.seconds, policy.extend.requires_approval, command.reason, session.part),
      );
      if (!recorded.ok) return recorded.refusal;
      if (!policy.extend.requires_approval) {
        const moved = await extendCredential(session);
        return typeof moved === "string" ? recordExtension(session, deps.identity.login, moved) : moved;
      }
      return "done";
    }
  }
  return { code: "unknown_command", message: "Unknown command." };
}

/**
 * The step-up a policy requires for this command: null when none is required, the proof to record,
 * or the refusal. The signing keys are read only when a proof is needed and present.
 */
async function stepUpProof(
  session: RequestSession,
  kind: StepUpKind,
  stepUp: StepUp | undefined,
  comment: IssueComment,
  hash = session.state.hash ?? "",
): Promise<StepUpProof | Refusal | null> {
  if (!stepUpRequired(stepUp)) return null;
  const login = comment.user.login;
  const signingKeys = comment.body.includes("-----BEGIN SSH SIGNATURE-----")
    ? await signingKeysOf(session, comment)
    : [];
  const checked = checkStepUp({
    stepUp,
    kind,
    body: comment.body,
    repository: `${session.port.owner}/${session.port.repo}`,
    issue: session.number,
    hash,
    // A part of a request naming several resources: the signature must name it at its own hash.
    ...(session.part !== null ? { part: session.part } : {}),
    signingKeys,
    login,
    approvePage: `the app's page /breakglass/approve/${session.port.owner}/${session.port.repo}/${session.number}`,
  });
  return checked.ok ? checked.value : checked.error;
}

/** The commenter's signing keys, read once per comment: a command on several resources checks one signature per part. */
const signingKeysRead = new WeakMap<IssueComment, Promise<string[]>>();
function signingKeysOf(session: RequestSession, comment: IssueComment): Promise<string[]> {
  let read = signingKeysRead.get(comment);
  if (!read) {
    read = session.port.sshSigningKeys(comment.user.login).then((keys) => [...keys]);
    // A failed read is not remembered: the next part (or a redelivery) asks again.
    read.catch(() => signingKeysRead.delete(comment));
    signingKeysRead.set(comment, read);
  }
  return read;
}

/** Whether the policy lets comments posted through this app (on the author's behalf) be commands. */
function viaAllowedApp(session: RequestSession, comment: IssueComment): boolean {
  const slug = comment.app_slug;
  // A request naming several resources: the app's comment may go on if any resource's policy names
  // the app; it then acts only on those resources (runOnParts asks each part).
  const views = session.part === null ? session.parts() : [session];
  return !!slug && views.some((view) => (view.policy()?.commands_via_apps ?? []).includes(slug));
}

function viaAppRefusal(who: string, comment: IssueComment): Refusal {
  const app = comment.app_slug ? `the app ${comment.app_slug}` : `an app (id ${comment.app_id})`;
  return {
    code: "posted_via_app",
    message: `This comment was posted through ${app} on @${who}'s behalf, so it is not taken as a command: an integration can post in a person's name without them writing it. Write the command yourself in a new comment on GitHub${comment.app_slug ? `, or ask the policy owners to list ${comment.app_slug} under commands_via_apps in the policy` : ""}.`,
  };
}

export type { IssueComment };
