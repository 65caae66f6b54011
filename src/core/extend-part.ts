import { UNREADABLE_REASON } from "./commands.ts";
import type { RequestState } from "./lifecycle.ts";
import { isReadableReason } from "./reason-text.ts";
import type { Refusal } from "./refusal.ts";
import { err, ok, type Result } from "./result.ts";

/**
 * Which resource an `/extend <duration> [resource] <reason>` on a request naming several resources
 * extends: the one its first word after the duration names (the rest is the reason), or the only
 * live grant when just one is live. With several live and none named, the requester must say which:
 * an extension is approved by that resource's owners and moves that grant's expiry only.
 */
export function extendTarget(
  parts: Readonly<Record<string, Pick<RequestState, "status">>>,
  reason: string,
): Result<{ part: string; reason: string }, Refusal> {
  const names = Object.keys(parts);
  const live = names.filter((name) => parts[name]!.status === "active");
  const [, first = "", rest = ""] = /^(\S+)\s*([^]*)$/.exec(reason) ?? [];
  const usage = (name: string) => `\`/extend <duration> ${name} <reason>\``;
  if (names.includes(first)) {
    if (!live.includes(first))
      return err({
        code: "not_active",
        message: `\`${first}\` has no live grant to extend (it is ${parts[first]!.status.replace(/_/g, " ")})${live.length ? `; live now: ${list(live)}` : ""}.`,
      });
    if (rest.trim() === "")
      return err({
        code: "invalid_command",
        message: `\`/extend\` needs a reason after the resource, for the approvers and the audit trail: write ${usage(first)}.`,
      });
    if (!isReadableReason(rest))
      return err({ code: "invalid_command", message: `The reason ${UNREADABLE_REASON}.` });
    return ok({ part: first, reason: rest });
  }
  if (live.length === 1) return ok({ part: live[0]!, reason });
  if (live.length === 0)
    return err({ code: "not_active", message: "No resource of this request has a live grant to extend." });
  return err({
    code: "part_required",
    message: `Several grants of this request are live (${list(live)}): say which one to extend, e.g. ${usage(live[0]!)}. Each is extended, and approved by its own owners, on its own.`,
  });
}

const list = (names: readonly string[]) => names.map((n) => `\`${n}\``).join(", ");
