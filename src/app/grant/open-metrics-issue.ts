import { collectAudit } from "../../audit/collect.ts";
import {
  monthBounds,
  monthlyMetrics,
  previousMonth,
  renderMetricsIssue,
  type MonthlyMetrics,
} from "../../audit/monthly-metrics.ts";
import { METRICS_LABEL } from "../../core/labels.ts";
import type { GitHubPort } from "../../github/github-port.ts";
import type { BreakglassDeps } from "../infra/deps.ts";
import { recordMetricsPosted } from "../infra/metrics-records.ts";
import { readMetricsRecords } from "../../github/metrics-records.ts";
import { putBackMetricsIssue } from "../webhooks/handle-metrics-edit.ts";
import { catchUpMetricsIssues } from "../webhooks/catch-up-metrics-issues.ts";

/** Months this process already saw handled, per repository: after the first sweep of a month, no API call. */
const handled = new WeakMap<BreakglassDeps, Set<string>>();
/** Repositories whose metrics issues this process caught up (on its first sweep of each). */
const caughtUp = new WeakMap<BreakglassDeps, Set<string>>();

/**
 * Once a month, the first sweep opens an issue with last month's figures (audit/monthly-metrics.ts). The
 * ledger's reservation `metrics-<YYYY-MM>` decides which issue counts, so two replicas, a restart or a
 * second sweep never leave two; nobody with write access can take it (the ledger is the app's).
 *
 * The issue is opened before the reservation is taken, so a process that dies in between leaves an
 * issue and no reservation: the next sweep finds that issue (the app's own, by label and exact title)
 * and takes the reservation for it instead of opening another. The other order would lose the month:
 * a reservation with no issue behind it, that no later sweep may fill. Two replicas that both open
 * one: the reservation's loser closes its own as a duplicate. A process that dies after the reservation
 * but before recording the figures leaves a reserved month without them: the next process's sweep
 * records them for the month's issue (recordReservedMonth).
 * A month with no request and no drill opens nothing. The winner records the figures, and the issue's
 * exact title and body, in the month's ledger chain (metrics-records.ts): an edit of the issue is put back
 * from it (handle-metrics-edit.ts, and catch-up-metrics-issues.ts on a process's first sweep). Returns the
 * new issue's number, or null.
 */
export async function openMonthlyMetricsIssue(
  deps: BreakglassDeps,
  port: GitHubPort,
): Promise<number | null> {
  let checked = caughtUp.get(deps);
  if (!checked) caughtUp.set(deps, (checked = new Set()));
  const repository = `${port.owner}/${port.repo}`.toLowerCase();
  if (!checked.has(repository)) {
    await catchUpMetricsIssues(deps, port);
    checked.add(repository);
  }
  const month = previousMonth(deps.now());
  const key = `metrics-${month}`;
  let seen = handled.get(deps);
  if (!seen) handled.set(deps, (seen = new Set()));
  const memo = `${port.owner}/${port.repo}#${key}`.toLowerCase();
  if (seen.has(memo)) return null;
  const reserved = await port.ledger.reserved(key);
  // Reserved and recorded: the month is done. Reserved without its figures recorded: the winner died
  // (or GitHub refused the record) in between, or the month was empty; it is looked at once per process.
  if (reserved && (await readMetricsRecords(deps, port, month)).posted !== null) {
    seen.add(memo);
    return null;
  }
  const { since, until } = monthBounds(month);
  // Read before reserving: if the ledger cannot be read, the reservation is not spent and the next sweep tries again.
  const collection = await collectAudit(port, {
    since,
    until,
    appLogin: deps.identity.login,
    jwks: deps.jwks,
    now: deps.now(),
  });
  const metrics = monthlyMetrics(collection.rows, month, deps.now());
  // A month without a request or a drill (before the first use, say) has no figures: nothing to open.
  if (metrics.requests === 0 && metrics.drills.total === 0) {
    if (!reserved) await port.ledger.reserve(key, 0);
    seen.add(memo);
    return null;
  }
  const { title, body } = renderMetricsIssue(metrics, `${port.owner}/${port.repo}`);
  if (reserved) {
    seen.add(memo);
    return recordReservedMonth(deps, port, month, metrics, title, body);
  }
  const left = await openedEarlier(deps, port, title, body);
  const issue = left ?? (await port.createIssue({ title, body, labels: [METRICS_LABEL] }));
  const won = await port.ledger.reserve(key, 0);
  seen.add(memo);
  if (won) {
    await recordPosted(deps, port, { month, issue: issue.number, metrics, title, body });
    return issue.number;
  }
  if (!left) await retireDuplicate(port, issue.number, month);
  return null;
}

/** The figures as posted, signed: what an auditor reads, and what an edit of the issue is put back to. */
async function recordPosted(
  deps: BreakglassDeps,
  port: GitHubPort,
  posted: { month: string; issue: number; metrics: MonthlyMetrics; title: string; body: string },
) {
  const recorded = await recordMetricsPosted(deps, port, {
    type: "metrics_posted",
    actor: deps.identity.login,
    ...posted,
  });
  if (!recorded.ok) throw new Error(`metrics ${posted.month}: ${recorded.problem}`);
  return recorded.records;
}

/**
 * A month reserved whose figures were never recorded: its issue was opened before the reservation, so
 * it is the app's own issue with the month's title, opened after the month ended, whose body is the
 * figures' (a writer may have forged figures meanwhile: the ones recorded now are put back on it; A290).
 * None (deleted, or no longer recognisable): the month's issue is opened again.
 */
async function recordReservedMonth(
  deps: BreakglassDeps,
  port: GitHubPort,
  month: string,
  metrics: MonthlyMetrics,
  title: string,
  body: string,
): Promise<number | null> {
  const mine = await port.listIssues({ labels: METRICS_LABEL, state: "all", creator: deps.identity.login });
  // Label and title are anyone's with write access: a writer could give them to another of the app's
  // issues (an older month's, a review) meanwhile. The month's own was opened after the month ended,
  // with the month's figures: at most its figures (digits) differ from what the app writes now (a
  // forgery put back below). Another issue's body, overwritten with figures, would be lost.
  const shape = (text: string) => text.replace(/\d+/g, "#");
  const { until } = monthBounds(month);
  const found = mine
    .filter(
      (i) =>
        i.user.login === deps.identity.login &&
        i.title === title &&
        Date.parse(i.created_at) >= Date.parse(until) &&
        shape(i.body) === shape(body),
    )
    .sort((a, b) => Number(b.body === body) - Number(a.body === body) || a.number - b.number)[0];
  const issue = found ?? (await port.createIssue({ title, body, labels: [METRICS_LABEL] }));
  const records = await recordPosted(deps, port, { month, issue: issue.number, metrics, title, body });
  if (found && records.posted) await putBackMetricsIssue(port, records, null);
  return found ? null : issue.number;
}

/**
 * This month's issue, opened by the app before a crash: the app's own issue with the label, the title
 * and exactly the figures it would write now. Title and label are anyone's with write access (a writer
 * could retitle another of the app's issues), so only the body the app would write makes it this
 * month's; anything else and a new one is opened.
 */
async function openedEarlier(deps: BreakglassDeps, port: GitHubPort, title: string, body: string) {
  const mine = await port.listIssues({ labels: METRICS_LABEL, state: "all", creator: deps.identity.login });
  return (
    mine.find((i) => i.user.login === deps.identity.login && i.title === title && i.body === body) ?? null
  );
}

/** Another replica's issue for the month counts: ours loses the label (so it is no metrics issue) and is closed. */
async function retireDuplicate(port: GitHubPort, issue: number, month: string): Promise<void> {
  await port.removeLabel(issue, METRICS_LABEL);
  await port.createComment(
    issue,
    `Duplicate: two Breakglass replicas opened the figures of ${month} at the same moment; the other issue counts. Nothing to do here.`,
  );
  await port.updateIssue(issue, {
    state: "closed",
    state_reason: "not_planned",
    title: `[breakglass metrics] duplicate for ${month}`,
  });
}
