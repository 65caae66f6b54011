import type { SetupProblem } from "./setup-checks.ts";
import type { Policy, StepUp } from "./types.ts";

const passkeyOnly = (s: StepUp | undefined): boolean =>
  !!s && s.methods.length > 0 && s.methods.every((m) => m === "webauthn");

/**
 * Step-up settings that cannot work as written, for `breakglass validate` and the policy PR check. A
 * passkey approves requests and extensions on the app's page, but a break-glass self-approval is a
 * comment, so a policy that allows break-glass with `webauthn` as the only method fails closed on it;
 * and `require_hardware_key` with passkeys needs the models it trusts (`hardware_aaguids`).
 */
export function stepUpProblems(
  policies: Iterable<Policy>,
  texts: ReadonlyArray<{ path: string; text: string }>,
): SetupProblem[] {
  const problems: SetupProblem[] = [];
  for (const p of policies) {
    const line = (pattern: RegExp) => {
      const i = (texts.find((t) => t.path === p.path)?.text ?? "")
        .split("\n")
        .findIndex((l) => pattern.test(l));
      return i === -1 ? null : i + 1;
    };
    const approvals = p.approvals.step_up;
    if (p.break_glass.allowed && passkeyOnly(p.break_glass.step_up))
      problems.push({
        file: p.path,
        line: line(/^break_glass:/),
        message:
          "allows break-glass with `webauthn` as the only step-up, but a self-approval cannot be made with a passkey (only a comment can break the glass): every `/break-glass` would be refused `step_up_required`. Add `ssh-signature` to `break_glass.step_up` (or `approvals.step_up`, which it inherits), or set `break_glass.allowed: false`.",
      });
    // Only approvals take passkeys (break-glass is a comment), so only their hardware rule needs the list.
    if (
      approvals?.require_hardware_key &&
      approvals.methods.includes("webauthn") &&
      !approvals.hardware_aaguids?.length
    )
      problems.push({
        file: p.path,
        line: line(/^\s+require_hardware_key:/),
        message: `requires hardware keys with \`webauthn\` in \`approvals.step_up\` but lists no \`approvals.hardware_aaguids\`, so no passkey counts as a hardware key (\`step_up_not_hardware\`): list the AAGUIDs of the security-key models you trust${approvals.methods.includes("ssh-signature") ? ", or approve with `ssh-keygen -t ed25519-sk` keys only" : ""}.`,
      });
  }
  return problems;
}
