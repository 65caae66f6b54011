import type { LifecycleEvent } from "../../core/lifecycle-events.ts";
import type { Refusal } from "../../core/refusal.ts";
import type { StepUpProof } from "../../core/step-up.ts";
import { credentialOf } from "../grant/credential-ref.ts";
import type { RequestSession } from "../infra/request-session.ts";
import { extended, extensionApproved } from "../../core/messages/command-messages.ts";

/**
 * Approves the pending extension of a live grant, decided by decideExtensionApproval (from a comment
 * or the app's passkey page): the credential moves first — if the provider cannot, nothing is
 * recorded and the extension stays pending, so the approval can be given again once it answers —
 * then the approval and the new expiry are recorded.
 */
export async function approveExtension(
  session: RequestSession,
  input: { id: string; who: string; decided: LifecycleEvent; proof: StepUpProof | null; commentId?: number },
): Promise<"done" | Refusal> {
  const moved = await extendCredential(session);
  if (typeof moved !== "string") return moved;
  const { decided, proof } = input;
  const event =
    decided.type === "extension_approved"
      ? {
          ...decided,
          ...(input.commentId !== undefined ? { comment_id: input.commentId } : {}),
          ...(proof ? { step_up: proof } : {}),
        }
      : decided;
  const recorded = await session.record(input.id, event, extensionApproved(input.who, proof, session.part));
  if (!recorded.ok) return recorded.refusal;
  return recordExtension(session, input.who, moved);
}

/** Moves the live credential's own expiry by the pending extension; returns the new expiry (ISO). */
export async function extendCredential(session: RequestSession): Promise<string | Refusal> {
  const { grant, extension } = session.state;
  if (!grant || !extension)
    return { code: "no_extension_pending", message: "There is no extension waiting." };
  try {
    const { provider, ref } = credentialOf(session);
    if (!provider.extend) throw new Error(`the ${grant.provider} provider cannot extend credentials`);
    const wanted = Date.parse(grant.expires_at) + extension.seconds * 1000;
    return new Date(Math.min(wanted, await provider.extend(ref, wanted))).toISOString();
  } catch (error) {
    return {
      code: "extension_failed",
      message: `The credential could not be extended (${(error as Error).message.slice(0, 300)}); the grant is unchanged and still ends at ${grant.expires_at}. Approve again once the provider answers.`,
    };
  }
}

/** Records the extension the credential already received; other grants, even for the same resource, are untouched. */
export async function recordExtension(
  session: RequestSession,
  approvedBy: string,
  expires: string,
): Promise<"done" | Refusal> {
  const { grant, extension } = session.state;
  if (!grant || !extension)
    return { code: "no_extension_pending", message: "There is no extension waiting." };
  const recorded = await session.record(
    `extended:${grant.grant_id}:${session.state.extensions.length}`,
    { type: "extended", actor: approvedBy, grant_id: grant.grant_id, expires_at: expires },
    extended(expires, extension.seconds, session.part),
  );
  if (!recorded.ok) return recorded.refusal;
  session.deps.scheduler?.schedule(session.port, session.number, Date.parse(expires));
  return "done";
}
