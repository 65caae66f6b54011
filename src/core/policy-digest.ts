import { createHash } from "node:crypto";
import { canonicalJson } from "./canonical-json.ts";
import type { Policy } from "./types.ts";

const POLICY_DIGEST_VERSION = 1;

/**
 * SHA-256 (hex) of what an approver agreed to besides the request itself: the policy's terms for
 * the requested role. An approval records it; a grant needs the digest to be unchanged, so a policy
 * widened after the approval (longer maximum, new role settings or scopes, fewer approvals, a new
 * auto-approval rule, break-glass allowed, the environment dropped) needs fresh approval. Texts that
 * change no decision (description, notify targets, the review checklist) are left out, so editing
 * them voids nothing.
 */
export function approvalPolicyDigest(policy: Policy, role: string): string {
  const spec = policy.roles[role] ?? null;
  const terms = {
    type: "breakglass.policy-terms",
    v: POLICY_DIGEST_VERSION,
    resource: policy.resource,
    role,
    spec: spec
      ? { provider: spec.provider, settings: spec.settings, delivery: spec.delivery ?? "job" }
      : null,
    max_duration_seconds: policy.max_duration_seconds,
    approvals: {
      required: policy.approvals.required,
      from: policy.approvals.from,
      collect_within_seconds: policy.approvals.collect_within_seconds,
    },
    auto_approve: policy.auto_approve,
    break_glass: policy.break_glass.allowed,
    extend_requires_approval: policy.extend.requires_approval,
    requesters: policy.requesters,
    commands_via_apps: policy.commands_via_apps,
    environment: policy.environment ?? null,
    keep_alive_after_job: policy.keep_alive_after_job,
  };
  return createHash("sha256").update(canonicalJson(terms), "utf8").digest("hex");
}
