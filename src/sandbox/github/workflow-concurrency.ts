import yaml from "js-yaml";
import type { RepoRecord, WorkflowRun } from "./state.ts";

/**
 * GitHub's rule for a workflow's `concurrency` ("Control the concurrency of workflows and jobs"): a
 * group holds at most one running and one pending run. A run queued while another of its group is in
 * progress is pending; a pending run already there is cancelled and the new one takes its place —
 * also with `cancel-in-progress: false`, which only spares the running one. With
 * `cancel-in-progress: true` the running one is cancelled too. Group names are case-insensitive.
 */
export interface ConcurrencySpec {
  group: string;
  cancelInProgress: boolean;
}

const EXPRESSION = /\$\{\{\s*([^}]*?)\s*\}\}/g;

/** The `concurrency` of a workflow file (workflow level), evaluated for a run with these contexts, or null when it has none. */
export function concurrencyOf(
  text: string,
  contexts: { github: Record<string, unknown>; inputs: Record<string, string> },
): ConcurrencySpec | null {
  let doc: unknown;
  try {
    doc = yaml.load(text);
  } catch {
    return null;
  }
  const raw = doc && typeof doc === "object" ? (doc as { concurrency?: unknown }).concurrency : undefined;
  if (raw === undefined || raw === null) return null;
  const group =
    typeof raw === "string"
      ? raw
      : typeof raw === "object" && typeof (raw as { group?: unknown }).group === "string"
        ? (raw as { group: string }).group
        : null;
  if (group === null) return null;
  const cancel =
    typeof raw === "object" ? (raw as { "cancel-in-progress"?: unknown })["cancel-in-progress"] : false;
  const evaluate = (s: string) =>
    s.replace(EXPRESSION, (_, expr: string) => String(evaluateExpression(expr, contexts) ?? ""));
  return {
    group: evaluate(group),
    cancelInProgress: cancel === true || (typeof cancel === "string" && evaluate(cancel) === "true"),
  };
}

/** `a || b || 'literal'` over `github.*` and `inputs.*` paths: the first truthy operand, as GitHub's `||` does. */
export function evaluateExpression(
  expression: string,
  contexts: { github: Record<string, unknown>; inputs: Record<string, string> },
): unknown {
  let last: unknown = null;
  for (const operand of expression.split("||").map((s) => s.trim())) {
    const literal = /^'((?:[^']|'')*)'$/.exec(operand);
    let value: unknown;
    if (literal) value = literal[1]!.replace(/''/g, "'");
    else if (/^\d+$/.test(operand)) value = Number(operand);
    else {
      const path = operand.split(".");
      const root =
        path[0] === "inputs" ? contexts.inputs : path[0] === "github" ? contexts.github : undefined;
      if (root === undefined)
        throw new Error(`the emulator does not evaluate \`${operand}\` in a concurrency group`);
      value = path
        .slice(1)
        .reduce<unknown>(
          (node, key) =>
            node && typeof node === "object" ? (node as Record<string, unknown>)[key] : undefined,
          root,
        );
    }
    last = value;
    if (value !== undefined && value !== null && value !== "" && value !== 0 && value !== false) return value;
  }
  return last;
}

/** What admitting a run into its group did: started it, or left it pending; and which runs it cancelled. */
export interface Admission {
  started: boolean;
  cancelled: WorkflowRun[];
}

const active = (run: WorkflowRun) => run.status !== "completed" && run.status !== "pending";

/** Puts a new run into its group (run.concurrency_group already set), following GitHub's rule. */
export function admitRun(
  repo: RepoRecord,
  run: WorkflowRun,
  cancelInProgress: boolean,
  now: number,
): Admission {
  const cancelled: WorkflowRun[] = [];
  const cancel = (other: WorkflowRun) => {
    other.status = "completed";
    other.conclusion = "cancelled";
    other.updated_at = now;
    cancelled.push(other);
  };
  const group = run.concurrency_group;
  if (group === null) {
    run.status = "in_progress";
    return { started: true, cancelled };
  }
  const same = [...repo.runs.values()].filter((r) => r.id !== run.id && r.concurrency_group === group);
  for (const pending of same.filter((r) => r.status === "pending")) cancel(pending);
  const running = same.filter(active);
  if (running.length && cancelInProgress) for (const r of running) cancel(r);
  if (running.length && !cancelInProgress) {
    run.status = "pending";
    return { started: false, cancelled };
  }
  run.status = "in_progress";
  return { started: true, cancelled };
}

/** A run of the group ended: the pending one, if any, starts. Returns it. */
export function promotePending(repo: RepoRecord, group: string | null, now: number): WorkflowRun | null {
  if (group === null) return null;
  const same = [...repo.runs.values()].filter((r) => r.concurrency_group === group);
  if (same.some(active)) return null;
  const next = same.find((r) => r.status === "pending");
  if (!next) return null;
  next.status = "in_progress";
  next.updated_at = now;
  return next;
}

/** Concurrency groups compare case-insensitively. */
export const groupKey = (group: string): string => group.toLowerCase();
