import { checkRequestBody } from "../../core/check-request.ts";
import { AWAITING_DECISION, ENDED, LIVE } from "../../core/lifecycle.ts";
import { requestHash } from "../../core/request-hash.ts";
import { changesRecordedRequest, combinedHash, recordedCombinedHash } from "../../core/request-pairs.ts";
import type { BreakglassDeps } from "../infra/deps.ts";
import { dispatchGrant } from "../grant/dispatch-grant.ts";
import { editNotByRequester, invalidRequest, policiesBroken } from "../../core/messages/request-messages.ts";
import { loadIssueForm } from "../infra/repo-config.ts";
import type { GitHubPort, IssueSummary } from "../../github/github-port.ts";
import { looksLikeRequest, repairRequestLabel } from "./recognise-request.ts";
import { recordSeveralResources } from "./record-several-resources.ts";
import { errorsKey, lastInvalidKey, recordRequest } from "./record-request.ts";
import { isRequestIssue, opensReview } from "../infra/request-recognition.ts";
import { REQUEST_LABEL, RequestSession, type RecordOptions } from "../infra/request-session.ts";

/**
 * `issues.opened` / `issues.edited` / `issues.reopened`: parse the body, validate it against the
 * policy, record the request (an edit that changes it voids earlier approvals), apply auto-approval,
 * and publish the status. The requester is always the issue's author, and only their own edits
 * change the request: anyone else's is refused and recorded (see refuseEditByOther).
 */
export async function handleRequestIssue(
  deps: BreakglassDeps,
  port: GitHubPort,
  delivered: IssueSummary,
  editor: string,
  action = "edited",
): Promise<void> {
  if (delivered.state !== "open" || opensReview(deps, delivered)) return;
  // Read the form while the session loads: one round trip less before the requester sees an answer.
  const form = loadIssueForm(port);
  form.catch(() => undefined); // awaited below; not an unhandled rejection if we return before that
  // The ledger says what is a request (or the label, for one not recorded yet); an issue with neither
  // may still be one filed through the form in a repository without the label (GitHub drops a form
  // label that does not exist). The label itself is display only: put back where it is missing.
  if (!(await isRequestIssue(deps, port, delivered)) && !looksLikeRequest(delivered, await form)) return;
  if (!delivered.labels.includes(REQUEST_LABEL)) await repairRequestLabel(port, delivered);
  // Deliveries arrive out of order: an `opened` handled after an `edited` must not record the older
  // body. The body recorded is the delivered one (its sender is who wrote it, which decides whether
  // it is the requester's); a delivery whose body is no longer the issue's, once anything is
  // recorded, is older than an edit whose own delivery (with its own sender) decides.
  const session = await RequestSession.open(deps, port, delivered.number);
  const current = session.issue;
  if (current.state !== "open") return;
  if (delivered.body !== current.body && session.state.status !== "new") return;
  const issue = delivered;
  const stillCurrent = deliveredBodyIsCurrent(port, delivered);
  const { state } = session;
  const requester = issue.user.login;
  // A granted or finished request is frozen: its records, not its body, say what was granted. One
  // naming several resources still answers edits while any of them is being decided (refused there).
  const frozen = LIVE.has(state.status) || ((state.request || state.parts) && ENDED.has(state.status));
  if (frozen && !Object.values(state.parts ?? {}).some((p) => AWAITING_DECISION.has(p.status))) return;
  if (session.config.policyErrors.length && session.config.policies.size === 0) {
    await port.createComment(
      issue.number,
      policiesBroken(session.config.policyErrors.map((e) => `${e.file}:${e.line ?? "?"}: ${e.message}`)),
    );
    return;
  }
  const issueForm = await form;
  const validated = issueForm
    ? checkRequestBody(
        issue.body,
        issueForm,
        session.config.policies,
        session.config.policyErrors,
        deps.now(),
      )
    : {
        ok: false as const,
        error: [
          {
            field: "form",
            message:
              "The repository has no .github/ISSUE_TEMPLATE/breakglass-request.yml; ask its owners to run `breakglass init`.",
          },
        ],
      };
  // GitHub lets anyone with write access edit the body; it stays the author's request only if
  // the author wrote it. A body first seen on `labeled`/`reopened` is the author's as opened.
  const byOther =
    editor.toLowerCase() !== requester.toLowerCase() && (action === "edited" || state.status !== "new");
  if (byOther) {
    const unchanged = validated.ok
      ? !changesRecordedRequest(state, validated.value)
      : state.status === "invalid" && lastInvalidKey(session) === errorsKey(validated.error);
    if (!unchanged)
      await refuseEditByOther(
        session,
        editor,
        requester,
        validated.ok ? combinedHash(validated.value) : null,
      );
    return;
  }
  if (state.parts !== null || (validated.ok && validated.value.length > 1)) {
    await recordSeveralResources(session, validated, { requester, editor, stillCurrent });
    return;
  }
  if (!validated.ok) {
    const errors = validated.error;
    const id = `invalid:${errorsKey(errors)}:${session.chain.length}`;
    if (state.status === "invalid" && lastInvalidKey(session) === errorsKey(errors)) return;
    const recorded = await session.recordAndConfirm(
      id,
      { type: "invalid", actor: requester, errors },
      invalidRequest(requester, errors),
      { stillCurrent },
    );
    // Another process handling a concurrent delivery recorded first: it publishes, not this one.
    if (recorded.ok && recorded.won) await session.publish();
    return;
  }
  const request = validated.value[0]!;
  if (state.hash === requestHash(request) && state.status !== "invalid") return; // re-save of identical content
  const recorded = await recordRequest(session, request, { requester, editor, stillCurrent });
  if (recorded !== "recorded") return;
  const policy = session.policy(request.resource)!;
  await session.publish();
  if (session.state.status === "approved") await dispatchGrant(session);
  // Escalate at half the approval timeout, time out at the end (reconcile reschedules the second step).
  else
    deps.scheduler?.schedule(port, issue.number, deps.now() + (policy.approvals.timeout_seconds * 1000) / 2);
}

/**
 * The body a delivery carries may be older than the issue's by the time its record is appended: two
 * replicas handle `opened` and `edited` (or two edits) at once, and the one with the older body can
 * lose the ledger's compare-and-swap to the newer one and be re-decided on top of it. So before each
 * append, once anything is recorded, GitHub is asked again (after the ledger was read): only a body
 * that is still the issue's is recorded; an older one stops, and the newer delivery decides. A first
 * record needs no check: whatever comes later is appended after it.
 */
export function deliveredBodyIsCurrent(
  port: GitHubPort,
  delivered: IssueSummary,
): NonNullable<RecordOptions["stillCurrent"]> {
  return async (session) => {
    if (session.wholeState.status === "new") return null;
    const now = await port.getIssue(delivered.number);
    if (now.state === "open" && now.body === delivered.body) return null;
    return {
      code: "stale_delivery",
      message: `#${delivered.number} changed on GitHub after this delivery's body; the newer delivery is recorded instead.`,
    };
  };
}

/**
 * Someone other than the requester changed the request's body. The recorded request stands (the
 * status comment keeps showing it), the edit is recorded with the editor's login, and both are told.
 */
async function refuseEditByOther(
  session: RequestSession,
  editor: string,
  requester: string,
  hash: string | null,
): Promise<void> {
  const recorded = recordedCombinedHash(session.state);
  const text = editNotByRequester({ editor, requester, recordedHash: recorded ?? null });
  const done = await session.record(
    `edit_refused:${editor.toLowerCase()}:${hash ?? "invalid"}:${session.chain.length}`,
    { type: "edit_refused", actor: editor, requester, hash },
    text,
  );
  if (done.ok) await session.publish();
}
