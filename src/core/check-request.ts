import type { PolicyError } from "./policy.ts";
import { readRequestBody } from "./request-form.ts";
import { validateRequests } from "./request-pairs.ts";
import { err, type FieldError, type Result } from "./result.ts";
import type { AccessRequest, Policy } from "./types.ts";

/**
 * Reads a request issue body and checks it against the policies, reporting every problem in one
 * go: when the form itself has errors (an empty role, say), the fields that were read fine are still
 * checked against the policy, so the requester does not fix the form only to learn on the next
 * edit that the duration is too long. One request per resource: the form's own first, then each
 * line of More resources (request-pairs.ts).
 */
export function checkRequestBody(
  body: string,
  issueFormYaml: string,
  policies: ReadonlyMap<string, Policy>,
  policyErrors: readonly PolicyError[] = [],
  /** Now (epoch ms): a retroactive record's times must be in the past. */
  nowMs: number = Date.now(),
): Result<AccessRequest[], FieldError[]> {
  const read = readRequestBody(body, issueFormYaml);
  if (read.ok) return validateRequests(read.value, policies, policyErrors, nowMs);
  const { errors, fields } = read.error;
  if (errors.some((e) => e.field === "body" || e.field === "form")) return err(errors);
  const reported = new Set(errors.map((e) => e.field));
  const checked = validateRequests(
    {
      resource: fields.resource ?? "",
      role: fields.role ?? "",
      duration: fields.duration ?? null,
      severity: fields.severity ?? "",
      justification: fields.justification ?? "",
      incident: fields.incident ?? null,
      drill: fields.drill ?? false,
      ...(fields.started !== undefined ? { started: fields.started } : {}),
      ...(fields.ended !== undefined ? { ended: fields.ended } : {}),
      ...(fields.more !== undefined ? { more: fields.more } : {}),
    },
    policies,
    policyErrors,
    nowMs,
  );
  // Fields the form already reported were stand-ins above: only the others' policy errors are news.
  const more = checked.ok ? [] : checked.error.filter((e) => !reported.has(e.field));
  return err([...errors, ...more]);
}
