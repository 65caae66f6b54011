import type { StepUpProof } from "./step-up.ts";
import type { AccessRequest } from "./types.ts";
import type { FieldError } from "./result.ts";

/**
 * The typed events of one request's lifecycle. The app appends them to the request's signed audit
 * chain; the state of a request is nothing but the fold of these events (see lifecycle.ts).
 */
export type ApprovalVia = "codeowner" | "team" | "listed";

export type LifecycleEvent =
  | {
      type: "requested";
      actor: string;
      request: AccessRequest;
      hash: string;
      required_approvals: number;
      /** When the incident link names a GitHub issue: what the app found when it read it. */
      incident_issue?: { ref: string; state: "open" | "closed" | "unreadable" | "pull_request" };
    }
  | { type: "invalid"; actor: string; errors: FieldError[] }
  | {
      type: "approved";
      actor: string;
      hash: string;
      via: ApprovalVia;
      team?: string;
      note?: string;
      comment_id?: number;
      /** The step-up proof the policy required (an SSH signature over this request). */
      step_up?: StepUpProof;
      /** Digest of the policy the approver approved under (see policy-digest.ts): a widened policy needs fresh approval. */
      policy_digest?: string;
    }
  | {
      type: "approval_withdrawn";
      actor: string;
      comment_id: number;
      reason: "comment_edited" | "comment_deleted";
    }
  | { type: "auto_approved"; actor: string; hash: string; rule: string; policy_digest?: string }
  /**
   * Approvals that no longer hold when checked again (the approver left the owning team or lost
   * write access, the policy changed), removed; `required_approvals` is what the policy in force asks.
   */
  | { type: "approvals_voided"; actor: string; voided: VoidedApproval[]; required_approvals: number }
  /** An approved request whose credentials no run collected in time: it can no longer be granted. */
  | { type: "approval_expired"; actor: string; collect_within_seconds: number }
  /** Someone other than the requester edited the request's body: refused, the recorded request stands. */
  | { type: "edit_refused"; actor: string; requester: string; hash: string | null }
  | {
      type: "break_glass";
      actor: string;
      hash: string;
      reason: string;
      /** Earlier break-glass self-approvals by the same person in the last 30 days: repeated use is flagged. */
      prior_uses_30d?: number;
      step_up?: StepUpProof;
      policy_digest?: string;
    }
  | { type: "denied"; actor: string; reason: string }
  | { type: "cancelled"; actor: string; reason?: string }
  | { type: "escalated"; actor: string; notified: string[] }
  | { type: "timed_out"; actor: string }
  /** The grant workflow was dispatched again because no run exchanged its token in time. */
  | { type: "dispatch_retried"; actor: string; attempt: number }
  /**
   * A grant workflow run the app will hand this request's credentials to: one it dispatched (GitHub
   * answered the dispatch with the run's id), or one an approver started by hand (`by_hand`), accepted
   * at its exchange. Runs not recorded here never receive credentials.
   */
  | { type: "dispatched"; actor: string; run_id: string; by_hand?: boolean }
  /** A workflow run asked for this request's credentials and was refused: who, which run, why. */
  | { type: "exchange_refused"; actor: string; run_id: string; code: string; message: string }
  /** An approval on the app's passkey page was refused: who, why (bounded per request, see MAX_RECORDED_PAGE_REFUSALS). */
  | {
      type: "approval_page_refused";
      actor: string;
      code: string;
      message: string;
      /**
       * Whether the person could approve this request (an approver with write access, not the
       * requester): their refusals have their own bound, which other readers cannot fill. Absent
       * (recorded before this was): counted as an approver's.
       */
      eligible?: boolean;
    }
  | {
      type: "granted";
      actor: string;
      grant_id: string;
      run_id: string;
      provider: string;
      credential_id: string;
      expires_at: string;
      /** Sealed (encrypted) revocation handle; never the plaintext secret. */
      sealed_handle?: string;
      /** The role's provider settings as minted, so revocation never depends on the policy file still saying the same. */
      settings?: Record<string, unknown>;
    }
  /**
   * The live grant's revocation handle sealed again under the app's current seal key (the key was
   * rotated): from here on the handle opens with the new key, and the retired one can be dropped.
   */
  | { type: "handle_resealed"; actor: string; grant_id: string; sealed_handle: string }
  | { type: "extension_requested"; actor: string; seconds: number; reason: string; hash: string }
  /** `step_up`: the proof the policy's `approvals.step_up` required, an SSH signature over the extension (kind `extend`). */
  | { type: "extension_approved"; actor: string; hash: string; comment_id?: number; step_up?: StepUpProof }
  | { type: "extended"; actor: string; grant_id: string; expires_at: string }
  | { type: "revocation_failed"; actor: string; grant_id: string; error: string; attempt: number }
  | {
      type: "revoked";
      actor: string;
      grant_id: string;
      reason: RevocationReason;
      evidence: string;
      /** What the credential was used for, as collected at revocation (the full list is in the ledger's uses). */
      usage?: UsageSeal;
    }
  | { type: "closed"; actor: string }
  /** `items`: the review's checklist as opened; records written before items were recorded lack it. */
  | { type: "checklist_opened"; actor: string; issue: number; items?: string[] }
  /** The sender of the edit of review issue `issue` that ticked `item` (GitHub's `issues.edited` sender). */
  | { type: "review_item_checked"; actor: string; issue: number; item: string }
  | { type: "review_item_unchecked"; actor: string; issue: number; item: string }
  /** A `/waive <reason>` comment on review issue `issue`. */
  | { type: "review_waived"; actor: string; issue: number; reason: string; comment_id: number };

/** The summary of a grant's uses, signed into the chain at revocation, with a digest of the full list. */
export interface UsageSeal {
  count: number;
  first: string | null;
  last: string | null;
  source: string;
  notes: string[];
  /** sha256 (hex) of the full list as kept in the ledger (one JSON line a use), so a changed list shows. */
  digest: string;
}

/** One approval that stopped counting, and the stable reason code why. */
export interface VoidedApproval {
  actor: string;
  reason: ApprovalStaleReason;
}

export type ApprovalStaleReason =
  | "not_codeowner"
  | "insufficient_permission"
  | "team_without_write"
  | "policy_changed"
  | "rule_no_longer_matches"
  | "break_glass_not_allowed"
  | "requester_not_allowed"
  | "request_edited_unseen"
  | "step_up_missing";

export type RevocationReason = "expired" | "revoked" | "cancelled" | "job_ended" | "incident_closed";
export type LifecycleEventType = LifecycleEvent["type"];

/**
 * An event as stored: with the time it happened (ISO), and for a request naming several resources,
 * the resource whose part it moves (`part`; see lifecycle.ts). Events without a part are the issue's.
 */
export type TimedEvent = LifecycleEvent & { at: string; part?: string };
