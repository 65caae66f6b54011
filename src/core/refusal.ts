/**
 * Every refusal carries a stable reason code (for tests, logs and the audit trail) and a message
 * that tells the person what would work instead.
 */
export type ReasonCode =
  | "invalid_transition"
  /* A request naming several resources (lifecycle.ts parts). */
  | "part_required"
  | "not_several"
  | "unknown_part"
  | "not_editable"
  | "wrong_part"
  | "not_pending"
  | "invalid_request"
  | "self_approval"
  | "bot_approver"
  | "not_codeowner"
  | "insufficient_permission"
  | "duplicate_approval"
  | "stale_request"
  | "not_requester"
  | "not_allowed_to_revoke"
  | "break_glass_not_allowed"
  | "not_active"
  | "extension_too_long"
  | "extension_pending"
  | "not_extendable"
  | "extension_failed"
  | "no_extension_pending"
  | "limit_active_grants"
  | "limit_requests_per_day"
  | "already_granted"
  | "expired"
  | "unknown_command"
  | "invalid_command"
  | "step_up_required"
  | "step_up_bad_signature"
  | "step_up_unknown_key"
  | "step_up_not_hardware"
  | "step_up_wrong_request"
  | "step_up_replayed"
  | "step_up_passkey_not_active"
  | "step_up_passkey_cloned"
  | "approval_predates_request"
  | "approval_stale"
  | "requester_not_allowed"
  | "edit_not_by_requester"
  | "posted_via_app"
  | "self_review"
  | "self_waiver"
  | "bot_reviewer"
  | "unattributed_tick"
  | "stale_delivery"
  | "unknown_resource"
  | "already_confirmed"
  | "review_completed"
  | "retroactive_record";

export interface Refusal {
  code: ReasonCode;
  message: string;
}

export const refuse = (code: ReasonCode, message: string): { ok: false; error: Refusal } => ({
  ok: false,
  error: { code, message },
});
