import type { GitHubPort } from "../../github/github-port.ts";
import { listMetricsRecords } from "../../github/metrics-records.ts";
import type { BreakglassDeps } from "../infra/deps.ts";
import { metricsLockKey, putBackMetricsIssue } from "./handle-metrics-edit.ts";

/** How many recent months a process's first sweep checks. */
const MONTHS = 12;

/**
 * A metrics issue edited while the app was down (the webhook lost; GitHub does not redeliver): a
 * process's first sweep of the repository compares each recent month's issue with what the app
 * posted (its ledger record) and writes it back, saying so. Returns the months put back.
 */
export async function catchUpMetricsIssues(deps: BreakglassDeps, port: GitHubPort): Promise<string[]> {
  const putBack: string[] = [];
  for (const records of await listMetricsRecords(deps, port, MONTHS)) {
    const work = async () =>
      void ((await putBackMetricsIssue(port, records, null)) && putBack.push(records.month));
    await (deps.lock ? deps.lock(metricsLockKey(port, records.month), work) : work());
  }
  return putBack;
}
