import { overdueNotice } from "../../core/access-review.ts";
import { accessReviewOverdue } from "../../core/messages/review-messages.ts";
import type { NotifyTarget } from "../../core/types.ts";
import type { GitHubPort } from "../../github/github-port.ts";
import { recordAccessReview, type AccessReviewRecords } from "../infra/access-review-records.ts";
import type { BreakglassDeps } from "../infra/deps.ts";
import { loadRepoConfig } from "../infra/repo-config.ts";

/**
 * A review whose resources passed their due date unconfirmed: the sweep says so once on the issue,
 * mentioning the owners, and sends the resources' policy notifications. The ledger record
 * (`overdue:<resources>`) is written first and decides: a second sweep, a restart or another replica
 * finds it and sends nothing. Returns the records as they are now.
 */
export async function notifyOverdueAccessReview(
  deps: BreakglassDeps,
  port: GitHubPort,
  records: AccessReviewRecords,
): Promise<AccessReviewRecords> {
  const notice = overdueNotice(records.state, deps.now());
  if (!notice || records.state.issue === null) return records;
  const { period } = records.state;
  const written = await recordAccessReview(
    deps,
    port,
    period,
    `overdue:${notice.resources.join(",")}`,
    { type: "access_review_overdue", actor: deps.identity.login, ...notice },
    `Access review ${period}: ${notice.resources.join(", ")} overdue; owners told.`,
  );
  if (!written.ok) throw new Error(`access review ${period}: ${written.problem}`);
  if (!written.recorded) return written.records;
  const issue = records.state.issue;
  await port.createComment(issue, accessReviewOverdue(notice.resources, notice.owners));
  const config = await loadRepoConfig(port);
  const targets = new Map<string, NotifyTarget>();
  for (const resource of notice.resources)
    for (const target of config.policies.get(resource)?.notify ?? [])
      targets.set(JSON.stringify(target), target);
  if (targets.size)
    await deps.notifier.notify([...targets.values()], {
      event: "access_review_overdue",
      repository: `${port.owner}/${port.repo}`,
      issue,
      url: `https://github.com/${port.owner}/${port.repo}/issues/${issue}`,
      summary: `access review ${period}: ${notice.resources.join(", ")} not confirmed in time (owners: ${notice.owners.join(", ") || "none"})`,
    });
  return written.records;
}
