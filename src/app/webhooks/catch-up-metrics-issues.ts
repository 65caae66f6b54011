import type { GitHubPort } from "../../github/github-port.ts";
import { listMetricsRecords } from "../../github/metrics-records.ts";
import type { BreakglassDeps } from "../infra/deps.ts";
import { flagEditedAppComments } from "./handle-governance-comment-change.ts";
import { metricsLockKey, putBackMetricsIssue } from "./handle-metrics-edit.ts";

/** How many recent months a process's first sweep checks. */
const MONTHS = 12;

/**
 * A metrics issue edited while the app was down (the webhook lost; GitHub does not redeliver): a
 * process's first sweep of the repository compares each recent month's issue with what the app
 * posted (its ledger record) and writes it back, saying so, and flags a comment of the app someone
 * edited meanwhile. Returns the months put back.
 */
export async function catchUpMetricsIssues(deps: BreakglassDeps, port: GitHubPort): Promise<string[]> {
  const putBack: string[] = [];
  for (const records of await listMetricsRecords(deps, port, MONTHS)) {
    const work = async () => {
      if (await putBackMetricsIssue(port, records, null)) putBack.push(records.month);
      const issue = records.posted?.issue;
      if (issue !== undefined && !records.problem)
        await flagEditedAppComments(deps, port, issue, await port.listComments(issue));
    };
    await (deps.lock ? deps.lock(metricsLockKey(port, records.month), work) : work());
  }
  return putBack;
}
