/**
 * Breakglass under GitHub's real limits: the sandbox in production-limits mode (the app's Octokit
 * throttling exactly as deployed, the emulator enforcing GitHub's primary and secondary limits).
 * Times are wall-clock from what a person does (the issue or comment stored) to what they see (the
 * app's status comment stored, the grant workflow dispatched), read from the emulator's request
 * log; nothing here asserts a timing.
 */
import { STATUS_MARKER } from "../src/core/render-status.ts";
import { isContentCreating, isMutating } from "../src/sandbox/github/rate-limits.ts";
import type { ApiRequestRecord } from "../src/sandbox/github/emulator.ts";
import { requestFormBody } from "../src/sandbox/request-body.ts";
import { SANDBOX_USERS, startSandbox, type Sandbox } from "../src/sandbox/start-sandbox.ts";

export const quantile = (xs: number[], q: number): number => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
};

/** The incident every bench files. */
export const FORM = {
  resource: "model-guardrail-override",
  role: "override",
  duration: "30m",
  severity: "critical",
} as const;
const responders = (n: number) => Array.from({ length: n }, (_, i) => `oncall${i + 1}`);

/**
 * The bench approves with plain `/approve` comments: the example policy's `step_up` line is dropped
 * (committed to the default branch, as a reviewed change would be). A signed approval adds one read,
 * the approver's signing keys, and the signing happens before the comment is posted.
 */
export function withoutStepUp(sb: Sandbox): Sandbox {
  const path = "policies/model-guardrail-override.yml";
  const text = sb.emulator.state.repository.files[path];
  if (typeof text === "string") sb.emulator.setFile(path, text.replace(/^[ \t]*step_up:.*\n/gm, ""));
  return sb;
}

async function productionSandbox(people: number, runWorkflows: boolean): Promise<Sandbox> {
  const extra = responders(people);
  return withoutStepUp(
    await startSandbox({
      rateLimits: "production",
      runWorkflows,
      logLevel: "silent",
      users: [
        ...SANDBOX_USERS.map((login) => ({ login })),
        ...extra.map((login) => ({ login })),
        { login: "github-actions[bot]", type: "Bot" },
      ],
      permissions: Object.fromEntries(extra.map((login) => [login, "write" as const])),
    }),
  );
}

/** Polls the emulator's own state (no HTTP) until `find` returns a value; null after `capMs`. */
async function until<T>(find: () => T | null, capMs: number): Promise<T | null> {
  const end = performance.now() + capMs;
  for (;;) {
    const found = find();
    if (found !== null) return found;
    if (performance.now() > end) return null;
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function statusCommentAnswered(sb: Sandbox, n: number): number | null {
  const { state } = sb.emulator;
  const issue = state.repository.issues.get(n);
  const id = issue?.commentIds.find((cid) => {
    const c = state.comments.get(cid);
    return c?.user.login === sb.appLogin && c.body.includes(STATUS_MARKER);
  });
  if (id === undefined) return null;
  return sb.emulator.apiRequests.find((r) => r.createdId === id)?.answeredAt ?? null;
}

export function dispatchAnswered(sb: Sandbox, n: number): number | null {
  const run = [...sb.emulator.state.repository.runs.values()].find(
    (r) => r.inputs.issue === String(n) && r.path.endsWith("breakglass-grant.yml"),
  );
  if (!run) return null;
  return sb.emulator.apiRequests.find((r) => r.createdId === run.id)?.answeredAt ?? null;
}

export interface IncidentTimes {
  openToStatusMs: number | null;
  approveToDispatchMs: number | null;
  /** The app's writes within each window (meaningful for single incidents; concurrent windows overlap). */
  openWrites: number;
  approveWrites: number;
}

/** Writes that wait behind others of their priority: reactions and label updates are queued behind them (write-priority.ts). */
const DEFERRED_ROUTES = new Set([
  "POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
  "POST /repos/{owner}/{repo}/issues/{issue_number}/labels",
  "PATCH /repos/{owner}/{repo}/issues/{issue_number}",
  "DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
]);
/** The app's critical writes (records, comments, dispatch) within a window. */
const writesWithin = (sb: Sandbox, from: number, to: number) =>
  sb.emulator.apiRequests.filter(
    (r) =>
      (r.tokenKind === "installation" || r.tokenKind === "app") &&
      isMutating(r.method) &&
      !DEFERRED_ROUTES.has(`${r.method} ${r.route}`) &&
      r.answeredAt - r.durationMs >= from &&
      r.answeredAt <= to,
  ).length;

/** One incident: open, wait for the status comment, approve, wait for the dispatch. */
async function incident(sb: Sandbox, requester: string, capMs: number): Promise<IncidentTimes> {
  const opened = performance.now();
  const { data } = await sb.as(requester).rest.issues.create({
    owner: "acme",
    repo: "ops",
    title: `[breakglass] ${FORM.resource} ${FORM.role}`,
    labels: ["breakglass"],
    body: requestFormBody(FORM),
  });
  const status = await until(() => statusCommentAnswered(sb, data.number), capMs);
  if (status === null)
    return {
      openToStatusMs: null,
      approveToDispatchMs: null,
      openWrites: writesWithin(sb, opened, Infinity),
      approveWrites: 0,
    };
  // The approver answers once the app's status comment (posted after the request's record) is there.
  const approved = performance.now();
  await sb
    .as("grace")
    .rest.issues.createComment({ owner: "acme", repo: "ops", issue_number: data.number, body: "/approve" });
  const dispatched = await until(() => dispatchAnswered(sb, data.number), capMs);
  return {
    openToStatusMs: status - opened,
    approveToDispatchMs: dispatched === null ? null : dispatched - approved,
    openWrites: writesWithin(sb, opened, status),
    approveWrites: writesWithin(sb, approved, dispatched ?? Infinity),
  };
}

export interface LatencyUnderLimits {
  single: IncidentTimes[];
  concurrent: IncidentTimes[];
  concurrency: number;
  /** Wall ms from sending each delivery to the app's answer, every delivery of the concurrent run. */
  deliveryMs: number[];
  deliveriesNotAcknowledged: number;
  refusals: Record<string, number>;
  capMs: number;
}

/** Closes a sandbox without waiting for the app's work (which may be waiting out a long retry-after). */
async function abandon(sb: Sandbox): Promise<void> {
  await sb.app.stop();
  await sb.emulator.close();
  await sb.issuer.close();
}

/**
 * Single incidents one after another, then `concurrency` at once in a fresh sandbox: GitHub's limits
 * are per installation and hour, and one installation cannot do both within GitHub's 500
 * content-creating requests an hour.
 */
export async function benchLatencyUnderLimits(
  concurrency = 20,
  singles = 3,
  capMs = 300_000,
): Promise<LatencyUnderLimits> {
  const single: IncidentTimes[] = [];
  const one = await productionSandbox(singles, false);
  try {
    for (let i = 0; i < singles; i++) {
      single.push(await incident(one, `oncall${i + 1}`, capMs));
      await one.settle();
    }
  } finally {
    await abandon(one);
  }
  const sb = await productionSandbox(concurrency, false);
  try {
    const concurrent = await Promise.all(responders(concurrency).map((who) => incident(sb, who, capMs)));
    await sb.emulator.waitForIdle({ timeoutMs: 60_000 }).catch(() => undefined);
    const deliveries = sb.emulator.deliveries.filter((d) => !d.dropped);
    return {
      single,
      concurrent,
      concurrency,
      deliveryMs: deliveries.map((d) => d.durationMs ?? Infinity),
      deliveriesNotAcknowledged: deliveries.filter((d) => d.status === null || d.status >= 300).length,
      refusals: { ...sb.emulator.rateLimiter!.refusals },
      capMs,
    };
  } finally {
    await abandon(sb);
  }
}

/** Requests in `calls` grouped into sequential round trips: a request that starts after every request of the current round ended begins the next. */
export function roundTrips(calls: ApiRequestRecord[]): number {
  const spans = calls
    .map((r) => ({ start: r.answeredAt - r.durationMs, end: r.answeredAt }))
    .sort((a, b) => a.start - b.start);
  let rounds = 0;
  let roundEnd = -Infinity;
  for (const s of spans) {
    if (s.start >= roundEnd) {
      rounds++;
      roundEnd = s.end;
    } else roundEnd = Math.max(roundEnd, s.end);
  }
  return rounds;
}

export interface LifecycleCalls {
  phases: Array<{
    phase: string;
    counted: number;
    content: number;
    notModified: number;
    byRoute: Array<[string, number]>;
  }>;
  total: { counted: number; content: number; notModified: number };
  rounds: { open: number; approve: number; exchange: number; expiry: number };
  /** Writes made on each critical path before its end (they share the paced lane), by route. */
  criticalWrites: { open: string[]; approve: string[] };
}

/**
 * Warms the app as a running one is: its installation token and the repository's configuration (and
 * their etags), by one request filed and closed.
 */
export async function warmUp(sb: Sandbox): Promise<void> {
  const warm = (
    await sb.as("dave").rest.issues.create({
      owner: "acme",
      repo: "ops",
      title: `[breakglass] ${FORM.resource} ${FORM.role}`,
      labels: ["breakglass"],
      body: requestFormBody(FORM),
    })
  ).data.number;
  await sb.settle();
  await sb.as("dave").rest.issues.update({ owner: "acme", repo: "ops", issue_number: warm, state: "closed" });
  await sb.settle();
}

/** One whole lifecycle in production-limits mode: open, approve, the grant job's exchange, expiry. */
export async function benchLifecycleCalls(): Promise<LifecycleCalls> {
  const sb = await productionSandbox(0, true);
  try {
    await warmUp(sb);
    const app = () =>
      sb.emulator.apiRequests.filter((r) => r.tokenKind === "installation" || r.tokenKind === "app");
    const mark = () => app().length;
    const phases: LifecycleCalls["phases"] = [];
    const phase = (name: string, from: number) => {
      const calls = app().slice(from);
      const counted = calls.filter((r) => r.status !== 304 && !r.route.startsWith("/app/installations/"));
      const routes = new Map<string, number>();
      for (const r of counted)
        routes.set(`${r.method} ${r.route}`, (routes.get(`${r.method} ${r.route}`) ?? 0) + 1);
      phases.push({
        phase: name,
        counted: counted.length,
        content: counted.filter((r) => isContentCreating(r.method, r.route)).length,
        notModified:
          calls.length -
          counted.length -
          calls.filter((r) => r.route.startsWith("/app/installations/")).length,
        byRoute: [...routes].sort((a, b) => b[1] - a[1]),
      });
      return calls;
    };
    let from = mark();
    const openedAt = performance.now();
    const { data } = await sb.as("erin").rest.issues.create({
      owner: "acme",
      repo: "ops",
      title: `[breakglass] ${FORM.resource} ${FORM.role}`,
      labels: ["breakglass"],
      body: requestFormBody(FORM),
    });
    await sb.settle();
    const openCalls = phase("open → requested", from);
    const statusAt = statusCommentAnswered(sb, data.number)!;
    const openWindow = openCalls.filter(
      (r) => r.answeredAt - r.durationMs >= openedAt && r.answeredAt <= statusAt,
    );
    const open = roundTrips(openWindow);
    const writesOf = (calls: ApiRequestRecord[]) =>
      calls.filter((r) => isMutating(r.method)).map((r) => `${r.method} ${r.route}`);

    from = mark();
    const approvedAt = performance.now();
    await sb
      .as("grace")
      .rest.issues.createComment({ owner: "acme", repo: "ops", issue_number: data.number, body: "/approve" });
    await sb.settle();
    const approveAndGrant = app().slice(from);
    const dispatchAt = dispatchAnswered(sb, data.number)!;
    const approveWindow = approveAndGrant.filter(
      (r) => r.answeredAt - r.durationMs >= approvedAt && r.answeredAt <= dispatchAt,
    );
    const approve = roundTrips(approveWindow);
    // The exchange: from the first call after the dispatch was answered to the granted record's comment.
    const afterDispatch = approveAndGrant.filter((r) => r.answeredAt - r.durationMs > dispatchAt);
    const exchangeEnd =
      afterDispatch.find(
        (r) => r.method === "POST" && r.route === "/repos/{owner}/{repo}/issues/{issue_number}/comments",
      )?.answeredAt ?? Infinity;
    const exchange = roundTrips(afterDispatch.filter((r) => r.answeredAt <= exchangeEnd));
    phase("/approve → dispatched → granted", from);

    from = mark();
    const expiryAt = performance.now();
    await sb.advance(31 * 60_000);
    const expiryCalls = phase("expiry → revoked, review opened, closed", from);
    const revokedEnd =
      expiryCalls.find(
        (r) => r.method === "POST" && r.route === "/repos/{owner}/{repo}/issues/{issue_number}/comments",
      )?.answeredAt ?? Infinity;
    const expiry = roundTrips(
      expiryCalls.filter((r) => r.answeredAt - r.durationMs >= expiryAt && r.answeredAt <= revokedEnd),
    );
    const total = phases.reduce(
      (t, p) => ({
        counted: t.counted + p.counted,
        content: t.content + p.content,
        notModified: t.notModified + p.notModified,
      }),
      { counted: 0, content: 0, notModified: 0 },
    );
    return {
      phases,
      total,
      rounds: { open, approve, exchange, expiry },
      criticalWrites: { open: writesOf(openWindow), approve: writesOf(approveWindow) },
    };
  } finally {
    await sb.close();
  }
}

/**
 * The fewest rate-limit-counted calls a lifecycle can make with this design (signed records kept in
 * a ledger repository and mirrored on the issue, one status comment, labels for triage), call by
 * call. Configuration reads that GitHub answers 304 are free and not listed; the installation token
 * is minted once an hour, not per lifecycle.
 */
export const MINIMUM_CALLS: Array<[phase: string, call: string, count: number]> = [
  ["open", "contents: policies/ listing (conditional; changed only when a policy did — counted once)", 1],
  ["open", "contents: the request's policy file (read once per blob sha)", 1],
  ["open", "contents: issue form", 1],
  ["open", "contents: CODEOWNERS (who approves)", 1],
  ["open", "requester's permission (eligibility)", 1],
  ["open", "requester's recent requests (the policy's per-day limit)", 1],
  ["open", "ledger: read the request's ref (absent)", 1],
  ["open", "ledger: tree + commit + create ref (requested)", 3],
  ["open", "ledger: index ref", 1],
  ["open", "record comment (requested) + status comment", 2],
  ["open", "label pending", 1],
  ["approve", "reaction 👀 + 🚀", 2],
  ["approve", "ledger: read ref", 1],
  ["approve", "team members + team's permission + approver's permission", 3],
  ["approve", "ledger: one file write, compare-and-swap on the chain's blob (approved)", 1],
  ["approve", "record comment (approved) + status update", 2],
  ["approve", "labels: pending → approved, one issue update", 1],
  ["approve", "repository (default branch) + dispatch", 2],
  ["approve", "ledger: one file write (dispatched) + record comment", 2],
  ["exchange", "installation of the repository (once per process)", 1],
  ["exchange", "ledger: read ref + reserve the run", 2],
  ["exchange", "recheck approvals: team members + team's permission + approver's permission", 3],
  ["exchange", "ledger: one file write (granted) + record comment + status update", 3],
  ["exchange", "labels: approved → active, one issue update", 1],
  ["expiry", "ledger: read ref", 1],
  ["expiry", "ledger: one file write (revoked) + record comment", 2],
  ["expiry", "review issue: owners (team members) + create", 2],
  ["expiry", "ledger: one file write (checklist opened) + record comment", 2],
  ["expiry", "ledger: one file write (closed) + record comment + status update", 3],
  ["expiry", "close the issue with its labels (active → expired) in one issue update", 1],
];
