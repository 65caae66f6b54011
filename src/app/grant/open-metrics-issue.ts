import { collectAudit } from "../../audit/collect.ts";
import {
  monthBounds,
  monthlyMetrics,
  previousMonth,
  renderMetricsIssue,
} from "../../audit/monthly-metrics.ts";
import { METRICS_LABEL } from "../../core/labels.ts";
import type { GitHubPort } from "../../github/github-port.ts";
import type { BreakglassDeps } from "../infra/deps.ts";

/** Months this process already saw handled, per repository: after the first sweep of a month, no API call. */
const handled = new WeakMap<BreakglassDeps, Set<string>>();

/**
 * Once a month, the first sweep opens an issue with last month's figures (audit/monthly-metrics.ts). The
 * ledger's reservation `metrics-<YYYY-MM>` decides which process opens it, so two replicas, a restart or
 * a second sweep never open it twice; nobody with write access can take it (the ledger is the app's).
 * A month with no request and no drill opens nothing. Returns the new issue's number, or null.
 */
export async function openMonthlyMetricsIssue(
  deps: BreakglassDeps,
  port: GitHubPort,
): Promise<number | null> {
  const month = previousMonth(deps.now());
  const key = `metrics-${month}`;
  let seen = handled.get(deps);
  if (!seen) handled.set(deps, (seen = new Set()));
  const memo = `${port.owner}/${port.repo}#${key}`.toLowerCase();
  if (seen.has(memo)) return null;
  if (await port.ledger.reserved(key)) {
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
  if (!(await port.ledger.reserve(key, 0))) {
    seen.add(memo);
    return null;
  }
  seen.add(memo);
  const metrics = monthlyMetrics(collection.rows, month, deps.now());
  // A month without a request or a drill (before the first use, say) has no figures: nothing to open.
  if (metrics.requests === 0 && metrics.drills.total === 0) return null;
  const { title, body } = renderMetricsIssue(metrics, `${port.owner}/${port.repo}`);
  const issue = await port.createIssue({ title, body, labels: [METRICS_LABEL] });
  return issue.number;
}
