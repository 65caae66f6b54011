import { createHash } from "node:crypto";
import { LIVE } from "../../core/lifecycle.ts";
import { openSealedWithAny, seal } from "../../providers/sealed-box.ts";
import type { RequestSession } from "../infra/request-session.ts";
import { resealed } from "../../core/messages/grant-messages.ts";

/** A short public name for a seal key (never the key): which key a record was sealed again under. */
export const sealKeyId = (key: Buffer): string =>
  createHash("sha256").update("breakglass-seal-key\0").update(key).digest("hex").slice(0, 16);

export type ResealOutcome = "resealed" | "current" | "none" | "unopenable";

/**
 * After the seal key was rotated, a live grant's revocation handle still sealed under a retired key
 * is sealed again under the current one and recorded (`handle_resealed`), so the retired key can be
 * removed without losing the means to revoke. Ended grants are left alone: their handles are never
 * opened again. A handle no configured key opens is reported, not touched: revocation will fail
 * loudly (and be retried) rather than silently.
 */
export async function resealHandle(session: RequestSession): Promise<ResealOutcome> {
  const { state, deps } = session;
  const grant = state.grant;
  if (!grant?.sealed_handle || !LIVE.has(state.status)) return "none";
  let opened: { plaintext: string; keyIndex: number };
  try {
    opened = openSealedWithAny(grant.sealed_handle, [deps.sealKey, ...(deps.retiredSealKeys ?? [])]);
  } catch {
    return "unopenable";
  }
  if (opened.keyIndex === 0) return "current";
  const recorded = await session.record(
    `handle_resealed:${grant.grant_id}:${sealKeyId(deps.sealKey)}`,
    {
      type: "handle_resealed",
      actor: deps.identity.login,
      grant_id: grant.grant_id,
      sealed_handle: seal(opened.plaintext, deps.sealKey),
    },
    resealed(sealKeyId(deps.sealKey)),
  );
  // Refused only when another writer moved the request on (revoked it, say): nothing left to reseal.
  return recorded.ok ? "resealed" : "none";
}
