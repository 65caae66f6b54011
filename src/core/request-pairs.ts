import { createHash } from "node:crypto";
import { canonicalJson } from "./canonical-json.ts";
import { PENDING, type RequestState } from "./lifecycle.ts";
import type { PolicyError } from "./policy.ts";
import { requestHash } from "./request-hash.ts";
import type { RequestFields } from "./request-form.ts";
import { validateRequest } from "./request-validation.ts";
import { err, ok, type FieldError, type Result } from "./result.ts";
import type { AccessRequest, Policy } from "./types.ts";

/**
 * Several resources in one request: the form's Resource/Role/Duration plus one more pair a line in
 * "More resources". Each pair is its own part of the request (lifecycle.ts folds `part`-tagged events
 * into one state per resource), approved by the owners of its own policy, granted and revoked on its
 * own; severity, justification, incident and the drill box are the request's and so every part's.
 */

/** A request names at most this many resources: beyond that it is a standing role, not an emergency. */
export const MAX_PARTS = 5;

/** One line of "More resources": `<resource> <role> [duration]`, optionally as a list item. */
const PAIR_LINE = /^\s*(?:[-*+]\s+)?(\S+)\s+(\S+)(?:\s+(\S+))?\s*$/;

interface PairLine {
  line: number;
  resource: string;
  role: string;
  duration: string | null;
}

/** The lines of "More resources" that read as pairs, and what is wrong with the others. Empty lines are skipped. */
export function readPairLines(more: string): { pairs: PairLine[]; errors: FieldError[] } {
  const pairs: PairLine[] = [];
  const errors: FieldError[] = [];
  more.split("\n").forEach((text, index) => {
    if (text.trim() === "") return;
    const match = PAIR_LINE.exec(text);
    if (!match) {
      errors.push({
        field: "more",
        message: `Line ${index + 1} of More resources reads "${clip(text)}". Write one resource a line as \`<resource> <role> [duration]\`, e.g. \`aws-production read 30m\`.`,
      });
      return;
    }
    pairs.push({ line: index + 1, resource: match[1]!, role: match[2]!, duration: match[3] ?? null });
  });
  return { pairs, errors };
}

/**
 * The typed requests of an issue: one for a plain request, one per resource when "More resources"
 * names others (the form's own pair first). Every problem is returned at once, each naming the form
 * field to fix; a problem of another resource's line says which line.
 */
export function validateRequests(
  fields: RequestFields,
  policies: ReadonlyMap<string, Policy>,
  policyErrors: readonly PolicyError[] = [],
  nowMs: number = Date.now(),
): Result<AccessRequest[], FieldError[]> {
  const { more, ...own } = fields;
  const first = validateRequest(own, policies, policyErrors, nowMs);
  if (!more) return first.ok ? ok([first.value]) : err(first.error);

  const errors: FieldError[] = first.ok ? [] : [...first.error];
  const { pairs, errors: unreadable } = readPairLines(more);
  // Each line's problems, told in line order whatever check found them.
  const byLine: Array<{ line: number; error: FieldError }> = unreadable.map((error) => ({
    line: Number(/^Line (\d+)/.exec(error.message)?.[1] ?? 0),
    error,
  }));
  if (fields.retroactive) {
    errors.push({
      field: "more",
      message:
        "A retroactive record names one resource: open one record per resource, or empty More resources.",
    });
  }
  if (pairs.length + 1 > MAX_PARTS) {
    errors.push({
      field: "more",
      message: `A request names at most ${MAX_PARTS} resources; this one names ${pairs.length + 1}. Ask for what the incident needs now, and open another request later if it needs more.`,
    });
  }
  const seen = new Map<string, number>([[fields.resource.trim().toLowerCase(), 0]]);
  const requests: AccessRequest[] = first.ok ? [first.value] : [];
  for (const pair of pairs) {
    const key = pair.resource.toLowerCase();
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      byLine.push({
        line: pair.line,
        error: {
          field: "more",
          message: `Line ${pair.line} of More resources names \`${clip(pair.resource)}\` again (${earlier === 0 ? "it is the Resource above" : `line ${earlier} names it`}). Ask for one role per resource: the one you need most.`,
        },
      });
      continue;
    }
    seen.set(key, pair.line);
    const checked = validateRequest(
      { ...own, resource: pair.resource, role: pair.role, duration: pair.duration },
      policies,
      policyErrors,
      nowMs,
    );
    if (checked.ok) {
      requests.push(checked.value);
      continue;
    }
    // The shared fields are reported once, from the form's own pair; a line reports what is its own.
    for (const problem of checked.error) {
      if (!PAIR_FIELDS.has(problem.field)) continue;
      byLine.push({
        line: pair.line,
        error: {
          field: "more",
          message: `Line ${pair.line} of More resources (\`${clip(pair.resource)}\`): ${problem.message}`,
        },
      });
    }
  }
  errors.push(...byLine.sort((a, b) => a.line - b.line).map((e) => e.error));
  return errors.length ? err(errors) : ok(requests);
}

/** The fields a line of More resources sets, or that its resource's policy decides (drills). */
const PAIR_FIELDS = new Set(["resource", "role", "duration", "drill"]);

function clip(text: string): string {
  const trimmed = text.trim();
  return trimmed.length > 60 ? `${trimmed.slice(0, 60)}…` : trimmed;
}

/**
 * One digest of what an issue asks for, to tell whether a body changes anything: the request's own
 * hash for one resource; for several, a hash of each resource's hash (in resource order, so the order
 * of the lines does not matter). Approvals never bind to it: each binds to its part's hash.
 */
export function combinedHash(requests: readonly AccessRequest[]): string {
  if (requests.length === 1) return requestHash(requests[0]!);
  return combine(requests.map((r) => [r.resource, requestHash(r)] as const));
}

/** combinedHash of what the request's records hold now (its parts still being decided); null: nothing valid. */
export function recordedCombinedHash(state: RequestState): string | null {
  if (state.parts === null) return state.status === "invalid" ? null : state.hash;
  const open = Object.values(state.parts).filter((p) => PENDING.has(p.status));
  if (open.length === 0 || open.some((p) => p.hash === null || p.status === "invalid")) return null;
  if (open.length === 1) return open[0]!.hash;
  return combine(open.map((p) => [p.request!.resource, p.hash!] as const));
}

/**
 * Whether a body's requests change what the request's records still decide: for one resource, its
 * request; for several, the request of each resource still being decided (one that ended or was
 * granted is fixed by its records, whatever the body says now), or a resource the records do not name.
 */
export function changesRecordedRequest(state: RequestState, requests: readonly AccessRequest[]): boolean {
  if (state.parts === null) return combinedHash(requests) !== recordedCombinedHash(state);
  const byResource = new Map(requests.map((r) => [r.resource, r] as const));
  for (const [resource, part] of Object.entries(state.parts)) {
    if (!PENDING.has(part.status)) continue;
    const asked = byResource.get(resource);
    if (!asked || part.status === "invalid" || part.hash !== requestHash(asked)) return true;
  }
  return requests.some((r) => !state.parts![r.resource]);
}

function combine(pairs: ReadonlyArray<readonly [string, string]>): string {
  const sorted = [...pairs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash("sha256")
    .update(canonicalJson({ type: "breakglass.requests", v: 1, parts: sorted }), "utf8")
    .digest("hex");
}
