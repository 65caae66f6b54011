import {
  metricsChainRepo,
  readMetricsRecords,
  type MetricsPosted,
  type MetricsRecords,
} from "../../github/metrics-records.ts";
import type { GitHubPort } from "../../github/github-port.ts";
import type { BreakglassDeps } from "./deps.ts";
import { appendSideChainRecord, type SideChainOutcome } from "./side-chain-append.ts";

/**
 * Records the figures the app posted for a month, and the exact title and body, as the month's
 * first record: what an auditor reads in the ledger, and what an edit of the issue is put back to.
 */
export async function recordMetricsPosted(
  deps: Pick<BreakglassDeps, "jwks" | "signer" | "now">,
  port: GitHubPort,
  posted: MetricsPosted,
): Promise<SideChainOutcome<MetricsRecords>> {
  return appendSideChainRecord(
    deps,
    {
      repo: metricsChainRepo(port, posted.month),
      what: `the metrics records of ${posted.month}`,
      read: () => readMetricsRecords(deps, port, posted.month),
      append: (expected, entry) => port.ledger.appendMetrics(posted.month, expected, entry),
    },
    "posted",
    { ...posted },
    `Metrics of ${posted.month} posted as #${posted.issue}.`,
    { firstOnly: true },
  );
}
