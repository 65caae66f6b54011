import { accessReviewRows, type AccessReviewRow } from "../../../core/access-review.ts";
import { LIVE } from "../../../core/lifecycle.ts";
import { listAccessReviews } from "../../../github/access-review-records.ts";
import type { BreakglassDeps } from "../../infra/deps.ts";
import type { GitHubPort, IssueSummary } from "../../../github/github-port.ts";
import type { NotificationFailure } from "../../infra/notification-failures.ts";
import { RequestSession } from "../../infra/request-session.ts";

export interface DashboardRow {
  repository: string;
  issue: number;
  url: string;
  status: string;
  requester: string | null;
  resource: string | null;
  role: string | null;
  severity: string | null;
  drill: boolean;
  /** A retroactive record of access taken outside Breakglass (nothing granted). */
  retroactive?: boolean;
  break_glass: boolean;
  requested_at: string | null;
  expires_at: string | null;
  ended_at: string | null;
  approvers: string[];
  approvals: string[];
  revocation_error: string | null;
  /** Uses of the grant's credential recorded so far, and the latest one's time. */
  uses: number;
  last_use: string | null;
}

export interface DashboardData {
  generated_at: string;
  active: DashboardRow[];
  pending: DashboardRow[];
  failed: DashboardRow[];
  recent: DashboardRow[];
  last_drill: DashboardRow | null;
  /** The latest notifications that did not arrive (this process's, newest first). */
  notification_failures?: NotificationFailure[];
  /** Resources of access reviews not confirmed yet (overdue ones first), from the reviews' ledger records. */
  access_reviews?: AccessReviewRow[];
}

async function useCounts(session: RequestSession): Promise<{ uses: number; last_use: string | null }> {
  const uses = await session.uses();
  return { uses: uses.length, last_use: uses.at(-1)?.at ?? null };
}

const WEEK_MS = 7 * 24 * 3600 * 1000;

/** One resource's row: the request's, or one part's of a request naming several. */
async function dashboardRow(port: GitHubPort, view: RequestSession): Promise<DashboardRow> {
  const { issue, state } = view;
  const policy = view.policy();
  return {
    repository: `${port.owner}/${port.repo}`,
    issue: issue.number,
    url: issue.html_url,
    status: state.status,
    requester: state.requester,
    resource: state.request?.resource ?? null,
    role: state.request?.role ?? null,
    severity: state.request?.severity ?? null,
    drill: state.request?.drill ?? false,
    retroactive: state.request?.retroactive !== undefined,
    break_glass: state.break_glass !== null,
    requested_at: state.requested_at,
    expires_at: state.grant?.expires_at ?? null,
    ended_at: state.ended_at,
    approvers: policy ? view.owners(policy) : [],
    approvals: state.approvals.map((a) => a.actor),
    revocation_error: state.grant?.last_revocation_error ?? null,
    ...(await useCounts(view)),
  };
}

/** What a security lead needs at a glance, read from the records of each repository's request issues. */
export async function collectDashboard(deps: BreakglassDeps, ports: GitHubPort[]): Promise<DashboardData> {
  const now = deps.now();
  const data: DashboardData = {
    generated_at: new Date(now).toISOString(),
    active: [],
    pending: [],
    failed: [],
    recent: [],
    last_drill: null,
    notification_failures: deps.notificationFailures?.recent() ?? [],
    access_reviews: [],
  };
  for (const port of ports) {
    for (const review of await listAccessReviews(deps, port, 12))
      if (!review.problem)
        data.access_reviews!.push(
          ...accessReviewRows(review.state, `${port.owner}/${port.repo}`, now).filter(
            (r) => r.status !== "confirmed",
          ),
        );
    // Every unsettled request comes from the app's index (a live grant whose issue was unlabelled, closed
    // or transferred is still shown); the week's settled ones from the issues updated since, whatever
    // their labels. Only requests with ledger records are rows: a `breakglass:audit` label or a title
    // makes nothing a request or hides one.
    const since = new Date(now - WEEK_MS).toISOString();
    const found = new Map<number, IssueSummary | undefined>(
      (await port.ledger.index()).map((n) => [n, undefined]),
    );
    for (const issue of await port.listIssues({ state: "all", since })) found.set(issue.number, issue);
    for (const [n, summary] of [...found].sort(([a], [b]) => a - b)) {
      if ((await port.ledger.read(n)).entries.length === 0) continue;
      const session = await RequestSession.open(deps, port, n, summary);
      // One row per resource: a request naming several has a status, grant and approvals for each.
      for (const view of session.parts()) {
        const row = await dashboardRow(port, view);
        if (
          row.drill &&
          (!data.last_drill || (row.requested_at ?? "") > (data.last_drill.requested_at ?? ""))
        )
          data.last_drill = row;
        const { status } = view.state;
        if (status === "revoke_failed") data.failed.push(row);
        else if (LIVE.has(status)) data.active.push(row);
        else if (status === "requested" || status === "approved" || status === "invalid")
          data.pending.push(row);
        else data.recent.push(row);
      }
    }
  }
  data.access_reviews!.sort(
    (a, b) =>
      Number(b.status === "overdue") - Number(a.status === "overdue") || a.due_at.localeCompare(b.due_at),
  );
  data.active.sort((a, b) => (a.expires_at ?? "").localeCompare(b.expires_at ?? ""));
  data.pending.sort((a, b) => (a.requested_at ?? "").localeCompare(b.requested_at ?? ""));
  data.recent.sort((a, b) => (b.ended_at ?? "").localeCompare(a.ended_at ?? ""));
  return data;
}
