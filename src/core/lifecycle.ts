import type { LifecycleEvent, RevocationReason, TimedEvent } from "./lifecycle-events.ts";
import { ok, type Result } from "./result.ts";
import { refuse, type Refusal } from "./refusal.ts";
import { isSecondPersonItem, selfReviewers } from "./review-items.ts";
import type { AccessRequest } from "./types.ts";
import { proofIsHardware, proofKey, type StepUpProof } from "./step-up.ts";

/** Every status a request can be in, in lifecycle order. */
export const STATUSES = [
  "new",
  "invalid",
  "requested",
  "approved",
  "active",
  "revoke_failed",
  "expired",
  "revoked",
  "denied",
  "cancelled",
  "timed_out",
  "recorded",
] as const;
export type Status = (typeof STATUSES)[number];

/*
 * The status sets every layer uses. Each is written once, here; everything else derives from them.
 */
/** Before any grant: the request can still be edited, and edits re-open it. */
export const PENDING: ReadonlySet<Status> = new Set(["new", "invalid", "requested", "approved"]);
/** Waiting for a decision: approvals, denials and withdrawals apply. */
export const AWAITING_DECISION: ReadonlySet<Status> = new Set(["invalid", "requested", "approved"]);
/** States in which a credential may be alive. */
export const LIVE: ReadonlySet<Status> = new Set(["active", "revoke_failed"]);
/** A grant that is over: revoked by someone or at its expiry. */
export const GRANT_ENDED: ReadonlySet<Status> = new Set(["expired", "revoked"]);
/** Ended without any grant: denied, withdrawn or never collected. */
export const ENDED_WITHOUT_GRANT: ReadonlySet<Status> = new Set(["denied", "cancelled", "timed_out"]);
/**
 * A retroactive record (access taken outside Breakglass while GitHub or the app was down) that got its
 * approvals after the fact: nothing was or will ever be granted from it.
 */
export const RECORDED_AFTER_THE_FACT: ReadonlySet<Status> = new Set(["recorded"]);
/** States from which nothing can be granted any more. */
export const ENDED: ReadonlySet<Status> = new Set([
  ...GRANT_ENDED,
  ...ENDED_WITHOUT_GRANT,
  ...RECORDED_AFTER_THE_FACT,
]);

/** Whether the request is a retroactive record: no credential is ever minted for it. */
export const isRetroactive = (state: Pick<RequestState, "request">): boolean =>
  state.request?.retroactive !== undefined;

/**
 * Whether an ended request gets a post-event review: an ended grant, and a retroactive record once
 * decided (approved after the fact, or denied: the access was taken either way).
 */
export const needsReview = (state: Pick<RequestState, "status" | "request">): boolean =>
  GRANT_ENDED.has(state.status) ||
  RECORDED_AFTER_THE_FACT.has(state.status) ||
  (isRetroactive(state) && state.status === "denied");

export interface Approval {
  actor: string;
  at: string;
  via: "codeowner" | "team" | "listed" | "auto" | "break_glass";
  detail?: string;
  /** The comment that carried the approval, so editing or deleting it withdraws the approval. */
  comment_id?: number;
  /** The key that gave the step-up proof, when the policy required one. */
  step_up_key?: string;
  /** Whether that key was a hardware security key (an `sk-` key type). */
  step_up_hardware?: boolean;
  /** Digest of the policy it was given under; absent on records written before approvals carried one. */
  policy_digest?: string;
}

export interface Grant {
  grant_id: string;
  run_id: string;
  provider: string;
  credential_id: string;
  granted_at: string;
  expires_at: string;
  sealed_handle?: string;
  /** Provider settings as minted (grants recorded before this field read the policy instead). */
  settings?: Record<string, unknown>;
  revocation_failures: number;
  last_revocation_error?: string;
  ended?: { at: string; reason: RevocationReason; by: string; evidence: string };
}

export interface RequestState {
  status: Status;
  requester: string | null;
  request: AccessRequest | null;
  hash: string | null;
  required_approvals: number;
  approvals: Approval[];
  /** Approvals voided because the request changed after they were given. */
  voided_approvals: Approval[];
  break_glass: { actor: string; reason: string; prior_uses_30d?: number } | null;
  requested_at: string | null;
  approved_at: string | null;
  grant: Grant | null;
  extension: { actor: string; seconds: number; reason: string; hash: string; at: string } | null;
  extensions: Array<{ seconds: number; approved_by: string; at: string }>;
  escalated: boolean;
  /** How many times the grant workflow was dispatched again for want of a run. */
  dispatch_retries: number;
  /** Workflow run ids that may collect this request's credentials (see the `dispatched` event). */
  runs: string[];
  /** Exchanges refused for this request (each one recorded). */
  refused_exchanges: number;
  /** Refusals of approvals on the app's passkey page to people who could approve (each one recorded, up to a bound). */
  refused_page_approvals: number;
  /** The same for anyone else who can read the repository (their own bound, so they cannot hide an approver's). */
  refused_page_approvals_others: number;
  denial: { actor: string; reason: string } | null;
  cancellation: { actor: string; reason?: string } | null;
  review_issue: number | null;
  /** The post-event review: its items, who ticked which (from the edits' senders), and a waiver. */
  review: ReviewState;
  closed: boolean;
  ended_at: string | null;
  /** Number of events folded. */
  eventCount: number;
  /**
   * A request naming several resources: one state per resource (by policy name), each folded from
   * the events tagged with its `part` exactly as a one-resource request. The request's own status is
   * then what its parts add up to (partsStatus); its review and closing are the issue's, kept here.
   * null: a request for one resource, whose events carry no part.
   */
  parts: Record<string, RequestState> | null;
}

export interface ReviewState {
  /** As recorded when the review opened; null for reviews opened before items were recorded. */
  items: string[] | null;
  ticks: Array<{ item: string; actor: string; at: string }>;
  waiver: { actor: string; reason: string; at: string } | null;
}

export function initialState(): RequestState {
  return {
    status: "new",
    requester: null,
    request: null,
    hash: null,
    required_approvals: 1,
    approvals: [],
    voided_approvals: [],
    break_glass: null,
    requested_at: null,
    approved_at: null,
    grant: null,
    extension: null,
    extensions: [],
    escalated: false,
    dispatch_retries: 0,
    runs: [],
    refused_exchanges: 0,
    refused_page_approvals: 0,
    refused_page_approvals_others: 0,
    denial: null,
    cancellation: null,
    review_issue: null,
    review: { items: null, ticks: [], waiver: null },
    closed: false,
    ended_at: null,
    eventCount: 0,
    parts: null,
  };
}

const EDITABLE = PENDING;
/**
 * A request naming several resources takes edits while each of its parts is in one of these: still
 * being decided, or withdrawn (by an edit that removed it, or by the requester), which grants nothing.
 */
export const EDITABLE_PARTS: ReadonlySet<Status> = new Set([...EDITABLE, "cancelled"]);
const WITHDRAWABLE = AWAITING_DECISION;

function invalid(state: RequestState, event: LifecycleEvent): { ok: false; error: Refusal } {
  return refuse(
    "invalid_transition",
    `A "${event.type}" event cannot happen while the request is ${state.status}.`,
  );
}

/**
 * Applies one event. Invalid transitions are refused with a reason code rather than ignored, so the
 * app can refuse the action that would have produced them and the audit verifier can flag a chain
 * that contains one.
 */
export function applyEvent(state: RequestState, timed: TimedEvent): Result<RequestState, Refusal> {
  if (timed.part !== undefined) return applyPartEvent(state, timed as TimedEvent & { part: string });
  if (state.parts !== null && !ISSUE_EVENTS.has(timed.type)) {
    return refuse(
      "part_required",
      `A "${timed.type}" event of a request naming several resources must name the resource it is for.`,
    );
  }
  const { at, part: _part, ...event } = timed;
  const next: RequestState = { ...state, eventCount: state.eventCount + 1 };
  switch (event.type) {
    case "requested": {
      if (!EDITABLE.has(state.status) || (state.requester !== null && state.requester !== event.actor)) {
        return state.status === "new" || EDITABLE.has(state.status)
          ? refuse("not_requester", "Only the person who opened the request can change it.")
          : invalid(state, event);
      }
      const changed = state.hash !== event.hash;
      return ok({
        ...next,
        status: changed || state.status === "invalid" ? "requested" : state.status,
        requester: event.actor,
        request: event.request,
        hash: event.hash,
        required_approvals: event.required_approvals,
        approvals: changed ? [] : state.approvals,
        voided_approvals: changed ? [...state.voided_approvals, ...state.approvals] : state.voided_approvals,
        break_glass: changed ? null : state.break_glass,
        approved_at: changed ? null : state.approved_at,
        requested_at: state.requested_at ?? at,
      });
    }
    case "invalid": {
      if (!EDITABLE.has(state.status)) return invalid(state, event);
      if (state.requester !== null && state.requester !== event.actor) {
        return refuse("not_requester", "Only the person who opened the request can change it.");
      }
      return ok({
        ...next,
        status: "invalid",
        requester: event.actor,
        request: null,
        hash: null,
        approvals: [],
        voided_approvals: [...state.voided_approvals, ...state.approvals],
        break_glass: null,
        approved_at: null,
        requested_at: state.requested_at ?? at,
      });
    }
    case "approved":
    case "auto_approved":
    case "break_glass": {
      if (state.status !== "requested") return invalid(state, event);
      // A retroactive record needs the policy's approvals after the fact: no rule and no self-approval.
      if (event.type !== "approved" && isRetroactive(state)) return invalid(state, event);
      if (event.hash !== state.hash) {
        return refuse(
          "stale_request",
          "The request changed after this approval was given; approve the current request.",
        );
      }
      if (state.approvals.some((a) => a.actor === event.actor) && event.type === "approved") {
        return refuse(
          "duplicate_approval",
          `${event.actor} has already approved this request; it counts once.`,
        );
      }
      const digest = event.policy_digest ? { policy_digest: event.policy_digest } : {};
      const approval: Approval =
        event.type === "approved"
          ? {
              actor: event.actor,
              at,
              via: event.via,
              ...(event.team ? { detail: event.team } : {}),
              ...(event.comment_id !== undefined ? { comment_id: event.comment_id } : {}),
              ...stepUpOfEvent(event.step_up),
              ...digest,
            }
          : event.type === "auto_approved"
            ? { actor: event.actor, at, via: "auto", detail: event.rule, ...digest }
            : {
                actor: event.actor,
                at,
                via: "break_glass",
                detail: event.reason,
                ...digest,
                ...stepUpOfEvent(event.step_up),
              };
      const approvals = [...state.approvals, approval];
      const done = event.type !== "approved" || approvals.length >= state.required_approvals;
      return ok({
        ...next,
        approvals,
        status: done ? (isRetroactive(state) ? "recorded" : "approved") : "requested",
        approved_at: done ? at : null,
        ended_at: done && isRetroactive(state) ? at : state.ended_at,
        break_glass:
          event.type === "break_glass"
            ? {
                actor: event.actor,
                reason: event.reason,
                ...(event.prior_uses_30d ? { prior_uses_30d: event.prior_uses_30d } : {}),
              }
            : state.break_glass,
      });
    }
    case "approval_withdrawn": {
      if (state.status !== "requested" && state.status !== "approved") return invalid(state, event);
      const withdrawn = state.approvals.filter((a) => a.comment_id === event.comment_id);
      if (withdrawn.length === 0) return invalid(state, event);
      const approvals = state.approvals.filter((a) => a.comment_id !== event.comment_id);
      const still = state.status === "approved" && approvals.length >= state.required_approvals;
      return ok({
        ...next,
        approvals,
        voided_approvals: [...state.voided_approvals, ...withdrawn],
        status: still ? "approved" : "requested",
        approved_at: still ? state.approved_at : null,
      });
    }
    case "approvals_voided": {
      if (state.status !== "requested" && state.status !== "approved") return invalid(state, event);
      const gone = new Set(event.voided.map((v) => v.actor.toLowerCase()));
      const voided = state.approvals.filter((a) => gone.has(a.actor.toLowerCase()));
      if (voided.length === 0 && event.required_approvals === state.required_approvals)
        return invalid(state, event);
      const approvals = state.approvals.filter((a) => !gone.has(a.actor.toLowerCase()));
      const still = state.status === "approved" && approvalsComplete(approvals, event.required_approvals);
      return ok({
        ...next,
        approvals,
        voided_approvals: [...state.voided_approvals, ...voided],
        required_approvals: event.required_approvals,
        break_glass: approvals.some((a) => a.via === "break_glass") ? state.break_glass : null,
        status: still ? "approved" : "requested",
        approved_at: still ? state.approved_at : null,
      });
    }
    case "approval_expired":
      if (state.status !== "approved" || state.grant) return invalid(state, event);
      return ok({ ...next, status: "timed_out", ended_at: at });
    case "edit_refused":
      // A request naming several resources takes (and refuses) edits while any of them is being decided.
      if (
        !EDITABLE.has(state.status) &&
        !Object.values(state.parts ?? {}).some((p) => EDITABLE.has(p.status))
      )
        return invalid(state, event);
      return ok(next);
    case "denied":
      if (!WITHDRAWABLE.has(state.status)) return invalid(state, event);
      return ok({
        ...next,
        status: "denied",
        denial: { actor: event.actor, reason: event.reason },
        ended_at: at,
      });
    case "cancelled":
      if (!WITHDRAWABLE.has(state.status)) return invalid(state, event);
      return ok({
        ...next,
        status: "cancelled",
        cancellation: { actor: event.actor, ...(event.reason ? { reason: event.reason } : {}) },
        ended_at: at,
      });
    case "dispatch_retried":
      if (state.status !== "approved" || state.grant || event.attempt !== state.dispatch_retries + 1)
        return invalid(state, event);
      return ok({ ...next, dispatch_retries: event.attempt });
    case "dispatched":
      if (state.status !== "approved" || state.grant) return invalid(state, event);
      return ok({
        ...next,
        runs: state.runs.includes(event.run_id) ? state.runs : [...state.runs, event.run_id],
      });
    case "exchange_refused":
      // A refusal changes nothing but the record of attempts, whatever state the request is in.
      return ok({ ...next, refused_exchanges: state.refused_exchanges + 1 });
    case "approval_page_refused":
      return ok(
        event.eligible === false
          ? { ...next, refused_page_approvals_others: state.refused_page_approvals_others + 1 }
          : { ...next, refused_page_approvals: state.refused_page_approvals + 1 },
      );
    case "escalated":
      if (state.status !== "requested" && state.status !== "invalid") return invalid(state, event);
      return ok({ ...next, escalated: true });
    case "timed_out":
      if (state.status !== "requested" && state.status !== "invalid") return invalid(state, event);
      return ok({ ...next, status: "timed_out", ended_at: at });
    case "granted":
      if (state.status !== "approved") {
        return state.grant
          ? refuse("already_granted", "This request has already been granted once.")
          : invalid(state, event);
      }
      return ok({
        ...next,
        status: "active",
        grant: {
          grant_id: event.grant_id,
          run_id: event.run_id,
          provider: event.provider,
          credential_id: event.credential_id,
          granted_at: at,
          expires_at: event.expires_at,
          revocation_failures: 0,
          ...(event.sealed_handle ? { sealed_handle: event.sealed_handle } : {}),
          ...(event.settings ? { settings: event.settings } : {}),
        },
      });
    case "handle_resealed":
      // Only a credential that may still be acted on needs its handle; a grant's identity never changes.
      if (
        !state.grant ||
        !LIVE.has(state.status) ||
        state.grant.grant_id !== event.grant_id ||
        !state.grant.sealed_handle
      ) {
        return invalid(state, event);
      }
      return ok({ ...next, grant: { ...state.grant, sealed_handle: event.sealed_handle } });
    case "extension_requested":
      if (state.status !== "active") return refuse("not_active", "Only an active grant can be extended.");
      if (state.extension)
        return refuse("extension_pending", "An extension is already waiting for approval.");
      return ok({
        ...next,
        extension: { actor: event.actor, seconds: event.seconds, reason: event.reason, hash: event.hash, at },
      });
    case "extension_approved":
      if (state.status !== "active" || !state.extension) {
        return refuse("no_extension_pending", "There is no extension waiting for approval.");
      }
      if (state.extension.hash !== event.hash) {
        return refuse("stale_request", "The extension changed after this approval was given.");
      }
      return ok(next);
    case "extended": {
      if (state.status !== "active" || !state.grant || state.grant.grant_id !== event.grant_id) {
        return invalid(state, event);
      }
      const seconds = state.extension?.seconds ?? 0;
      return ok({
        ...next,
        grant: { ...state.grant, expires_at: event.expires_at },
        extension: null,
        extensions: [...state.extensions, { seconds, approved_by: event.actor, at }],
      });
    }
    case "revocation_failed":
      if (!state.grant || !LIVE.has(state.status) || state.grant.grant_id !== event.grant_id) {
        return invalid(state, event);
      }
      return ok({
        ...next,
        status: "revoke_failed",
        grant: { ...state.grant, revocation_failures: event.attempt, last_revocation_error: event.error },
      });
    case "revoked":
      if (!state.grant || !LIVE.has(state.status) || state.grant.grant_id !== event.grant_id) {
        return invalid(state, event);
      }
      return ok({
        ...next,
        status: event.reason === "expired" ? "expired" : "revoked",
        grant: {
          ...state.grant,
          ended: { at, reason: event.reason, by: event.actor, evidence: event.evidence },
        },
        extension: null,
        ended_at: at,
      });
    case "checklist_opened":
      if (!ENDED.has(state.status) || state.review_issue !== null) return invalid(state, event);
      return ok({
        ...next,
        review_issue: event.issue,
        review: { ...state.review, items: event.items ? [...event.items] : null },
      });
    case "review_item_checked":
    case "review_item_unchecked": {
      if (state.review_issue === null || state.review_issue !== event.issue) return invalid(state, event);
      const self = selfReviewers(state).includes(event.actor.toLowerCase());
      if (event.type === "review_item_checked" && self && isSecondPersonItem(event.item)) {
        return refuse(
          "self_review",
          "The second-person item must be ticked by someone other than the requester and whoever broke the glass.",
        );
      }
      const ticks = state.review.ticks.filter((t) => t.item !== event.item);
      if (event.type === "review_item_checked") ticks.push({ item: event.item, actor: event.actor, at });
      return ok({ ...next, review: { ...state.review, ticks } });
    }
    case "review_waived":
      if (state.review_issue === null || state.review_issue !== event.issue || state.review.waiver)
        return invalid(state, event);
      if (selfReviewers(state).includes(event.actor.toLowerCase())) {
        return refuse(
          "self_waiver",
          "A review cannot be waived by the requester or by whoever broke the glass.",
        );
      }
      return ok({
        ...next,
        review: { ...state.review, waiver: { actor: event.actor, reason: event.reason, at } },
      });
    case "closed":
      if (!ENDED.has(state.status) || state.closed) return invalid(state, event);
      return ok({ ...next, closed: true });
  }
}

/** What a request naming several resources records for the issue as a whole rather than one resource. */
const ISSUE_EVENTS: ReadonlySet<LifecycleEvent["type"]> = new Set([
  "closed",
  "checklist_opened",
  "review_item_checked",
  "review_item_unchecked",
  "review_waived",
  "edit_refused",
]);

/** Whether an event of a request naming several resources is the issue's rather than one part's. */
export const isIssueEvent = (type: LifecycleEvent["type"]): boolean => ISSUE_EVENTS.has(type);

/**
 * Folds one event into the part it names. A part starts with its `requested` (or `invalid`) event,
 * only while the request is still being decided: a resource cannot be added once anything was
 * granted or ended. A one-resource request never becomes a several-resource one, nor back.
 */
function applyPartEvent(
  state: RequestState,
  timed: TimedEvent & { part: string },
): Result<RequestState, Refusal> {
  const { part, ...event } = timed;
  if (state.parts === null && state.status !== "new" && state.status !== "invalid") {
    return refuse("not_several", "This request names one resource; its events name no part.");
  }
  const current = state.parts?.[part];
  if (!current) {
    if (event.type !== "requested" && event.type !== "invalid") {
      return refuse("unknown_part", `This request names no resource "${part}".`);
    }
    if (state.requester !== null && state.requester !== event.actor) {
      return refuse("not_requester", "Only the person who opened the request can change it.");
    }
    if (state.parts !== null && !Object.values(state.parts).every((p) => EDITABLE_PARTS.has(p.status))) {
      return refuse(
        "not_editable",
        "A resource can be added only while every resource of the request is still being decided.",
      );
    }
    if (event.type === "requested" && event.request.resource !== part) {
      return refuse("wrong_part", `The part "${part}" must request the resource of that name.`);
    }
  } else if (event.type === "requested" && event.request.resource !== part) {
    return refuse("wrong_part", `The part "${part}" must request the resource of that name.`);
  }
  const applied = applyEvent(current ?? initialState(), event);
  if (!applied.ok) return applied;
  const parts = { ...(state.parts ?? {}), [part]: applied.value };
  return ok({ ...state, ...partsSummary(parts), parts, eventCount: state.eventCount + 1 });
}

/** The statuses a request of several resources shows, most urgent first: a live grant outranks a decision. */
const PART_STATUS_ORDER: readonly Status[] = [
  "revoke_failed",
  "active",
  "invalid",
  "requested",
  "approved",
  "revoked",
  "expired",
  "recorded",
  "denied",
  "timed_out",
  "cancelled",
  "new",
];

/**
 * What the parts add up to for the request as a whole: a credential alive in any part keeps it live,
 * anything still being decided keeps it pending, and it has ended only once every part has. An ended
 * request that granted anything is `revoked` or `expired`, so it gets its (one) review.
 */
export function partsStatus(parts: Readonly<Record<string, Pick<RequestState, "status">>>): Status {
  const statuses = new Set(Object.values(parts).map((p) => p.status));
  return PART_STATUS_ORDER.find((s) => statuses.has(s)) ?? "new";
}

function partsSummary(parts: Record<string, RequestState>): Partial<RequestState> {
  const list = Object.values(parts);
  const status = partsStatus(parts);
  const times = (pick: (p: RequestState) => string | null) =>
    list
      .map(pick)
      .filter((t): t is string => t !== null)
      .sort();
  const ended = ENDED.has(status);
  return {
    status,
    requester: list.find((p) => p.requester !== null)?.requester ?? null,
    requested_at: times((p) => p.requested_at)[0] ?? null,
    ended_at: ended ? (times((p) => p.ended_at).at(-1) ?? null) : null,
    // Whoever broke the glass in any part cannot do the review's second-person item.
    break_glass: list.find((p) => p.break_glass !== null)?.break_glass ?? null,
  };
}

/** The parts of a request (one resource: the request itself), in the order they were first recorded. */
export function partsOf(state: RequestState): Array<{ part: string | null; state: RequestState }> {
  return state.parts === null
    ? [{ part: null, state }]
    : Object.entries(state.parts).map(([part, s]) => ({ part, state: s }));
}

/** Enough approvals to grant: any auto or break-glass approval, or `required` human ones. */
export function approvalsComplete(approvals: readonly Approval[], required: number): boolean {
  return approvals.some((a) => a.via === "auto" || a.via === "break_glass") || approvals.length >= required;
}

/** Folds a whole history. The first invalid event stops the fold and is reported with its index. */
export function foldEvents(
  events: readonly TimedEvent[],
): { ok: true; state: RequestState } | { ok: false; state: RequestState; index: number; refusal: Refusal } {
  let state = initialState();
  for (const [index, event] of events.entries()) {
    const result = applyEvent(state, event);
    if (!result.ok) return { ok: false, state, index, refusal: result.error };
    state = result.value;
  }
  return { ok: true, state };
}

function stepUpOfEvent(proof: StepUpProof | undefined): Pick<Approval, "step_up_key" | "step_up_hardware"> {
  return proof ? { step_up_key: proofKey(proof), step_up_hardware: proofIsHardware(proof) } : {};
}
