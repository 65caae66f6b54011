import { openMonthlyMetricsIssue } from "./open-metrics-issue.ts";
import { openAccessReview } from "./open-access-review.ts";
import { collectDeadline } from "../../core/approval-expiry.ts";
import { revokeOwedCredentials } from "./orphan-credentials.ts";
import { AWAITING_DECISION, ENDED_WITHOUT_GRANT, LIVE, needsReview, PENDING } from "../../core/lifecycle.ts";
import type { BreakglassDeps } from "../infra/deps.ts";
import { dispatchGrant, MAX_REDISPATCHES, REDISPATCH_AFTER_MS } from "./dispatch-grant.ts";
import type { GitHubPort } from "../../github/github-port.ts";
import { loadRepoConfig } from "../infra/repo-config.ts";
import { finishRequest } from "./finish-request.ts";
import { catchUpLostEdits } from "../webhooks/catch-up-lost-edits.ts";
import { RequestSession } from "../infra/request-session.ts";
import { isSettled } from "../../core/request-index.ts";
import { finishGrant, revokeGrant } from "./revoke-grant.ts";
import { collectGrantUses } from "./collect-uses.ts";
import { expireIfUncollected } from "./recheck-approvals.ts";
import { resealHandle } from "./reseal-handle.ts";
import type { ReconcileReport } from "../../core/app-wire.ts";
import { dispatchRetried } from "../../core/messages/grant-messages.ts";
import { escalated, timedOut } from "../../core/messages/approval-messages.ts";
import { partPolicyRemoved } from "../../core/messages/request-messages.ts";

/** How old a ledger entry must be before a missing comment counts as deleted rather than not yet posted. */
/**
 * A record comment is missing "for real" only this long after its entry: mirror comments are deferred
 * behind every critical write, and with 20 incidents at once under GitHub's pacing they trail their
 * entries by minutes (bench: /approve → dispatch p95 78 s, the mirrors after it). A sweep on another
 * replica must not take a comment still queued for a deleted one (a false alarm, then a duplicate).
 */
const MIRROR_SETTLED_MS = 10 * 60_000;

/**
 * What a sweep learnt about a live grant: at ledger version `tip` nothing is due before `dueAt`. A
 * version names its content (a commit id), so while the request's tip is unchanged the only things
 * that can change the answer are the clock and what the ledger does not hold (a record comment
 * deleted while its webhook was lost): the first is `dueAt`, the second is a full check at least
 * every FULL_CHECK_MS. Per process; a restarted app checks everything once.
 */
interface SweepMemo {
  tip: string;
  dueAt: number;
  checkedAt: number;
}
const memos = new WeakMap<BreakglassDeps, Map<string, SweepMemo>>();
/** How often a sweep still reads a live grant whose ledger has not changed (its mirror comments). */
export const FULL_CHECK_MS = 6 * 3600_000;
/** Requests a sweep works on at once. */
const SWEEP_CONCURRENCY = 6;

/**
 * Brings every open request of a repository in line with the clock, from its records alone: overdue
 * grants are revoked, failed revocations retried, ended grants closed with their checklist, stale
 * pending requests escalated and timed out, and live grants (re)scheduled. Run at start-up, by the
 * timers, and by the scheduled sweep workflow; safe to run twice at once (records are idempotent).
 */
export async function reconcileRepository(
  deps: BreakglassDeps,
  port: GitHubPort,
  only?: number,
): Promise<ReconcileReport> {
  const report: ReconcileReport = {
    redispatched: [],
    checked: 0,
    revoked: [],
    failed: [],
    finished: [],
    escalated: [],
    timed_out: [],
    scheduled: [],
    restored: [],
    orphans_revoked: [],
    orphans_failed: [],
    resealed: [],
    unopenable: [],
    lost_edits: [],
  };
  // The app's own index, not labels, open/closed state or titles (all writable by triage): a grant whose
  // issue was closed, unlabelled, locked or flooded is still found. A timer names its one issue.
  const issues = only !== undefined ? [only] : await port.ledger.index();
  // Credentials minted but never recorded (a lost race whose revocation failed) are owed a revocation too.
  if (only === undefined) {
    const owed = await revokeOwedCredentials(deps, port);
    report.orphans_revoked.push(...owed.revoked);
    report.orphans_failed.push(...owed.failed);
  }
  // A sweep lists every request's ledger version in one listing and reads in full only the requests
  // that changed or have something due; the repository's configuration is read once, when needed.
  const tips = only === undefined && port.ledger.tips ? await port.ledger.tips() : null;
  let memo = memos.get(deps);
  if (!memo) memos.set(deps, (memo = new Map()));
  let sharedConfig: ReturnType<typeof loadRepoConfig> | undefined;
  const shared = () =>
    only === undefined && issues.length > 1 ? (sharedConfig ??= loadRepoConfig(port)) : undefined;
  const now = deps.now();
  const one = async (n: number) => {
    report.checked++;
    const key = `${port.owner}/${port.repo}#${n}`.toLowerCase();
    const known = tips ? memo.get(key) : undefined;
    if (known && known.tip === tips!.get(n) && now < known.dueAt && now - known.checkedAt < FULL_CHECK_MS) {
      deps.scheduler?.schedule(port, n, known.dueAt);
      report.scheduled.push({ issue: n, expires_at: new Date(known.dueAt).toISOString() });
      return;
    }
    const work = async () => {
      const config = shared();
      const session = await RequestSession.open(deps, port, n, undefined, config ? await config : undefined);
      await reconcileSession(deps, session, report);
      if (only === undefined && isSettled(session.state)) await port.ledger.setIndexed(n, false);
      const { state } = session;
      const expires = state.grant ? Date.parse(state.grant.expires_at) : NaN;
      if (
        tips &&
        session.ledgerTip &&
        LIVE.has(state.status) &&
        state.status !== "revoke_failed" &&
        expires > deps.now()
      )
        memo.set(key, { tip: session.ledgerTip, dueAt: expires, checkedAt: now });
      else memo.delete(key);
    };
    try {
      await (deps.lock ? deps.lock(`${port.owner}/${port.repo}#${n}`, work) : work());
    } catch (error) {
      // One request that cannot be handled now must not stop the sweep for the others; the next sweep retries it.
      if (only !== undefined) throw error;
      report.failed.push(n);
    }
  };
  // Requests are independent (each under its own lock): a few at a time, well inside GitHub's 100
  // concurrent requests and Octokit's 10, so reading thousands after a restart is not one by one.
  const queue = [...issues];
  await Promise.all(
    Array.from({ length: Math.min(SWEEP_CONCURRENCY, queue.length) }, async () => {
      for (let n = queue.shift(); n !== undefined; n = queue.shift()) await one(n);
    }),
  );
  // Once a month, last month's figures for auditors; it never holds up or fails the sweep.
  if (only === undefined) {
    await openMonthlyMetricsIssue(deps, port).then(
      (n) => void (n !== null && (report.metrics_issue = n)),
      (error: unknown) => void (report.metrics_error = (error as Error).message.slice(0, 300)),
    );
    // Once a period, the review of who may request and approve; it never holds up or fails the sweep either.
    await openAccessReview(deps, port).then(
      (n) => void (n !== null && (report.access_review_issue = n)),
      (error: unknown) => void (report.access_review_error = (error as Error).message.slice(0, 300)),
    );
  }
  return report;
}

export async function reconcileSession(
  deps: BreakglassDeps,
  session: RequestSession,
  report: ReconcileReport,
): Promise<void> {
  // A deletion whose webhook was lost (the app was down; GitHub does not redeliver) is found here.
  if ((await session.restoreMirror(undefined, { settledMs: MIRROR_SETTLED_MS })).length)
    report.restored.push(session.number);
  // So is an edit of the body or of an approval comment whose webhook was lost.
  const lost = await catchUpLostEdits(session);
  if (lost.body || lost.withdrawn.length) report.lost_edits.push(session.number);
  if (session.wholeState.parts === null) return reconcileRequest(deps, session, report);
  // A request naming several resources: each part's grant, approval and timeout on its own clock;
  // the issue is finished (reviewed once, closed) when every part has ended.
  for (const part of session.parts()) {
    await withdrawIfPolicyRemoved(session, part);
    await reconcileRequest(deps, part, report);
  }
  const whole = session.whole();
  if (needsReview(whole.state) && (!whole.state.closed || whole.state.review_issue === null)) {
    await finishGrant(whole);
    report.finished.push(session.number);
  } else if (ENDED_WITHOUT_GRANT.has(whole.state.status) && !whole.state.closed) {
    await finishRequest(whole);
    report.finished.push(session.number);
  }
}

/**
 * A resource of a request naming several whose policy file was removed from the default branch (a
 * reviewed change) can never be granted (the exchange refuses `policy_missing`) and, with no policy,
 * has no timeout either: it is withdrawn, so it does not hold up the others' ending and review. A
 * policy that is only broken (it fails to load and says why) is not removed: its resource waits.
 */
async function withdrawIfPolicyRemoved(session: RequestSession, part: RequestSession): Promise<void> {
  const resource = part.part;
  if (resource === null || !AWAITING_DECISION.has(part.state.status)) return;
  const { policies, policyErrors } = session.config;
  if (policies.has(resource) || policies.size === 0) return;
  const fileOf = (path: string) => path.replace(/^.*\//, "").replace(/\.ya?ml$/, "");
  if (policyErrors.some((e) => fileOf(e.file) === resource)) return;
  await part.record(
    `policy_removed:${resource}`,
    {
      type: "cancelled",
      actor: session.deps.identity.login,
      reason: "its policy was removed from the default branch",
    },
    partPolicyRemoved(resource),
  );
}

/** One request (or one part of a request naming several resources) brought in line with the clock. */
async function reconcileRequest(
  deps: BreakglassDeps,
  session: RequestSession,
  report: ReconcileReport,
): Promise<void> {
  const { state } = session;
  const now = deps.now();
  const n = session.number;
  if (LIVE.has(state.status) && state.grant) {
    const resealed = await resealHandle(session);
    if (resealed === "resealed") report.resealed.push(n);
    if (resealed === "unopenable") report.unopenable.push(n);
    const expires = Date.parse(state.grant.expires_at);
    if (expires <= now || state.status === "revoke_failed") {
      const reason = state.grant.ended?.reason ?? (expires <= now ? "expired" : "revoked");
      const result = await revokeGrant(
        session,
        reason === "job_ended" ? "job_ended" : reason,
        deps.identity.login,
      );
      (result === "revoked" ? report.revoked : report.failed).push(n);
    } else {
      // While the grant runs, what the provider can see of its use goes to the ledger and the status comment.
      await collectGrantUses(session);
      deps.scheduler?.schedule(session.port, n, expires);
      report.scheduled.push({ issue: n, expires_at: state.grant.expires_at });
    }
    return;
  }
  // A part's ending is the issue's to finish (reconcileSession), once every part has ended.
  if (session.part !== null) {
    if (!PENDING.has(state.status)) return;
  } else if (needsReview(state)) {
    if (!state.closed || state.review_issue === null) {
      await finishGrant(session);
      report.finished.push(n);
    }
    return;
  } else if (ENDED_WITHOUT_GRANT.has(state.status)) {
    if (!state.closed) {
      await finishRequest(session);
      report.finished.push(n);
    }
    return;
  }
  const policy = session.policy();
  if (state.status === "approved" && !state.grant && state.approved_at) {
    if (policy && (await expireIfUncollected(session, policy))) {
      await finishRequest(session);
      report.timed_out.push(n);
      return;
    }
    if (!state.request?.drill) await redispatchIfStuck(deps, session, now, report);
    // Whatever the redispatch timer says, wake up by the collect deadline to record the expiry.
    const deadline = policy ? collectDeadline(session.state, policy) : null;
    if (deadline !== null)
      deps.scheduler?.schedule(
        session.port,
        n,
        Math.min(deadline, nextRedispatch(session.state) ?? Infinity),
      );
    return;
  }
  if ((state.status === "requested" || state.status === "invalid") && policy && state.requested_at) {
    const age = (now - Date.parse(state.requested_at)) / 1000;
    const timeout = policy.approvals.timeout_seconds;
    if (age >= timeout) {
      await session.record("timed_out", { type: "timed_out", actor: deps.identity.login }, timedOut(timeout));
      await finishRequest(session);
      report.timed_out.push(n);
    } else if (age >= timeout / 2 && !state.escalated && state.status === "requested") {
      const owners = session.owners(policy);
      await session.record(
        "escalated",
        {
          type: "escalated",
          actor: deps.identity.login,
          notified: [...owners, ...policy.notify.map((t) => t.type)],
        },
        escalated(age, owners),
      );
      await deps.notifier.notify(policy.notify, {
        event: "escalated",
        repository: `${session.port.owner}/${session.port.repo}`,
        issue: n,
        url: session.url,
        summary: `request waiting ${Math.round(age / 60)} min`,
      });
      report.escalated.push(n);
    }
    if (session.state.status === "requested")
      deps.scheduler?.schedule(
        session.port,
        n,
        Date.parse(state.requested_at) + (age >= timeout / 2 ? timeout : timeout / 2) * 1000,
      );
  }
}

/** When the next automatic redispatch is due (epoch ms), or null when none is left. */
function nextRedispatch(state: RequestSession["state"]): number | null {
  const attempt = state.dispatch_retries + 1;
  return attempt > MAX_REDISPATCHES || !state.approved_at || state.request?.drill
    ? null
    : Date.parse(state.approved_at) + REDISPATCH_AFTER_MS * attempt;
}

/**
 * An approved request whose grant workflow never exchanged its token (the dispatch was lost, no
 * runner picked it up, someone cancelled the run): dispatch again, up to MAX_REDISPATCHES times,
 * each recorded. A run that is merely slow is harmless to duplicate: a request is granted once.
 */
async function redispatchIfStuck(
  deps: BreakglassDeps,
  session: RequestSession,
  now: number,
  report: ReconcileReport,
): Promise<void> {
  const { state } = session;
  const attempt = state.dispatch_retries + 1;
  const due = Date.parse(state.approved_at!) + REDISPATCH_AFTER_MS * attempt;
  if (attempt > MAX_REDISPATCHES) return;
  if (now < due) {
    deps.scheduler?.schedule(session.port, session.number, due);
    return;
  }
  const last = attempt === MAX_REDISPATCHES;
  const recorded = await session.record(
    `dispatch_retried:${attempt}`,
    { type: "dispatch_retried", actor: deps.identity.login, attempt },
    dispatchRetried({
      minutesSinceApproval: Math.round((now - Date.parse(state.approved_at!)) / 60_000),
      workflow: deps.grantWorkflow,
      attempt,
      last,
      issue: session.number,
    }),
  );
  if (!recorded.ok) return;
  report.redispatched.push(session.number);
  await dispatchGrant(session);
}
