/**
 * Where the time of the two critical paths goes, call by call, in production-limits mode: every
 * request the app made from the issue being opened to its status comment, and from `/approve` to the
 * grant workflow's dispatch, read from the emulator's request log. Writes are marked (they share one
 * paced lane per installation); `waited` is the gap before a call in which the app made no other
 * call (the lane's pacing, or work in the app). Nothing here asserts a timing.
 *
 * `npx tsx bench/critical-path-writes.ts` prints both paths for an idle app and for an incident
 * started right after another one's writes (the lane's burst spent), as the bench's single runs are.
 */
import { isMutating } from "../src/sandbox/github/rate-limits.ts";
import type { ApiRequestRecord } from "../src/sandbox/github/emulator.ts";
import { requestFormBody } from "../src/sandbox/request-body.ts";
import { SANDBOX_USERS, startSandbox, type Sandbox } from "../src/sandbox/start-sandbox.ts";
import { dispatchAnswered, FORM, statusCommentAnswered, warmUp, withoutStepUp } from "./limits.ts";

export interface TracedCall {
  /** ms from what the person did (issue or comment stored) to the call's start. */
  startMs: number;
  durationMs: number;
  call: string;
  status: number;
  write: boolean;
}

export interface CriticalPathTrace {
  label: string;
  open: { totalMs: number; calls: TracedCall[] };
  approve: { totalMs: number; calls: TracedCall[] };
}

const appCalls = (sb: Sandbox) =>
  sb.emulator.apiRequests.filter((r) => r.tokenKind === "installation" || r.tokenKind === "app");

function between(calls: readonly ApiRequestRecord[], from: number, to: number): TracedCall[] {
  return calls
    .filter((r) => r.answeredAt - r.durationMs >= from && r.answeredAt <= to)
    .map((r) => ({
      startMs: r.answeredAt - r.durationMs - from,
      durationMs: r.durationMs,
      call: `${r.method} ${r.route}`,
      status: r.status,
      write: isMutating(r.method),
    }));
}

async function until<T>(find: () => T | null, capMs = 120_000): Promise<T> {
  const end = performance.now() + capMs;
  for (;;) {
    const found = find();
    if (found !== null) return found;
    if (performance.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function traceIncident(sb: Sandbox, requester: string, label: string): Promise<CriticalPathTrace> {
  const opened = performance.now();
  const { data } = await sb.as(requester).rest.issues.create({
    owner: "acme",
    repo: "ops",
    title: `[breakglass] ${FORM.resource} ${FORM.role}`,
    labels: ["breakglass"],
    body: requestFormBody(FORM),
  });
  const status = await until(() => statusCommentAnswered(sb, data.number));
  const approved = performance.now();
  await sb
    .as("grace")
    .rest.issues.createComment({ owner: "acme", repo: "ops", issue_number: data.number, body: "/approve" });
  const dispatched = await until(() => dispatchAnswered(sb, data.number));
  await sb.settle();
  const calls = appCalls(sb);
  return {
    label,
    open: { totalMs: status - opened, calls: between(calls, opened, status) },
    approve: { totalMs: dispatched - approved, calls: between(calls, approved, dispatched) },
  };
}

/** Two incidents in one production-limits sandbox after a warm-up: the first on a rested lane, the second right after it. */
export async function traceCriticalPaths(): Promise<CriticalPathTrace[]> {
  const sb = withoutStepUp(
    await startSandbox({
      rateLimits: "production",
      runWorkflows: false,
      logLevel: "silent",
      users: [
        ...SANDBOX_USERS.map((login) => ({ login })),
        { login: "oncall1" },
        { login: "oncall2" },
        { login: "github-actions[bot]", type: "Bot" },
      ],
      permissions: { oncall1: "write", oncall2: "write" },
    }),
  );
  try {
    // Warm, as a running app is; then let the lane rest.
    await warmUp(sb);
    await new Promise((r) => setTimeout(r, 16_000));
    const rested = await traceIncident(sb, "oncall1", "rested lane (burst available)");
    const next = await traceIncident(sb, "oncall2", "right after the previous incident");
    return [rested, next];
  } finally {
    await sb.app.stop();
    await sb.emulator.close();
    await sb.issuer.close();
  }
}

export function renderTrace(t: CriticalPathTrace): string {
  const lines: string[] = [];
  for (const [name, path] of [
    ["open → status comment", t.open],
    ["/approve → dispatch", t.approve],
  ] as const) {
    const writes = path.calls.filter((c) => c.write).length;
    lines.push(
      `${t.label}: ${name} ${(path.totalMs / 1000).toFixed(2)} s, ${path.calls.length} calls, ${writes} writes`,
    );
    let lastEnd = 0;
    for (const c of path.calls) {
      const waited = Math.max(0, c.startMs - lastEnd);
      lines.push(
        `  ${c.startMs.toFixed(0).padStart(6)} ms ${c.write ? "W" : " "} ${c.call} → ${c.status}${waited >= 200 ? `  (waited ${waited.toFixed(0)} ms)` : ""}`,
      );
      lastEnd = Math.max(lastEnd, c.startMs + c.durationMs);
    }
  }
  return lines.join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const t of await traceCriticalPaths()) console.log(renderTrace(t));
  process.exit(0);
}
