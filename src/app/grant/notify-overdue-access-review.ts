import { overdueNotice } from "../../core/access-review.ts";
import { accessReviewOverdue } from "../../core/messages/review-messages.ts";
import type { NotifyTarget } from "../../core/types.ts";
import type { GitHubPort } from "../../github/github-port.ts";
import { isAppComment } from "../../github/issue-records.ts";
import { recordAccessReview, type AccessReviewRecords } from "../infra/access-review-records.ts";
import type { BreakglassDeps } from "../infra/deps.ts";
import { loadRepoConfig } from "../infra/repo-config.ts";

/**
 * A review whose resources passed their due date unconfirmed: the sweep says so once on the issue,
 * mentioning the owners, and sends the resources' policy notifications. The ledger record
 * (`overdue:<resources>`) is written first and decides who is told: a second sweep, a restart or
 * another replica finds it and records nothing again. A recorded notice that never reached the issue
 * (the process died, or GitHub refused the comment, after the record) is posted by a sweep once the
 * record is 10 minutes old: each recorded notice is told until the app's comment for it is on the issue. Returns the records
 * as they are now.
 */
export async function notifyOverdueAccessReview(
  deps: BreakglassDeps,
  port: GitHubPort,
  records: AccessReviewRecords,
): Promise<AccessReviewRecords> {
  const issue = records.state.issue;
  if (issue === null || records.problem) return records;
  const notice = overdueNotice(records.state, deps.now());
  let current = records;
  let mine: string | null = null;
  if (notice) {
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
    current = written.records;
    if (written.recorded) mine = `overdue:${notice.resources.join(",")}`;
  }
  // The writer of a record tells at once. Anyone else tells only once the record has settled
  // (its writer had ample time): so two replicas never both post the notice, and a writer that
  // died still has it posted.
  const now = deps.now();
  const owed = current.chain.filter(
    (e) =>
      e.entry.event.type === "access_review_overdue" &&
      Array.isArray(e.entry.event.resources) &&
      (e.entry.id === mine || now - Date.parse(e.entry.at) >= SETTLED_MS),
  );
  if (!owed.length) return current;
  const told = (await port.listComments(issue)).filter((c) => isAppComment(c, deps.identity));
  for (const { entry } of owed) {
    const event = entry.event as unknown as { resources: string[]; owners?: unknown };
    if (told.some((c) => tells(c.body, event.resources))) continue;
    const owners = Array.isArray(event.owners) ? event.owners.filter((o) => typeof o === "string") : [];
    await tellOwners(deps, port, issue, current.state.period, { resources: event.resources, owners });
  }
  return current;
}

/** How long a recorded notice is its writer's to post before any other process posts it. */
const SETTLED_MS = 10 * 60_000;

const overdueMarker = (resources: readonly string[]) =>
  `<!-- breakglass:access-review-overdue:${resources.join(",")} -->`;

/** Whether an app comment is the notice for these resources (notices posted before the marker: by their text). */
function tells(body: string, resources: readonly string[]): boolean {
  if (body.includes(overdueMarker(resources))) return true;
  return body.startsWith("🚨 Overdue:") && !body.includes("<!-- breakglass:access-review-overdue:")
    ? resources.every((r) => body.includes(`\`${r}\``))
    : false;
}

async function tellOwners(
  deps: BreakglassDeps,
  port: GitHubPort,
  issue: number,
  period: string,
  notice: { resources: string[]; owners: string[] },
): Promise<void> {
  await port.createComment(
    issue,
    `${accessReviewOverdue(notice.resources, notice.owners)}\n\n${overdueMarker(notice.resources)}`,
  );
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
}
