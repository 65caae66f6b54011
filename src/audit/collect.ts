import type { JSONWebKeySet } from "jose";
import type { GitHubPort, IssueSummary } from "../github/github-port.ts";
import { listRequests } from "./list-requests.ts";
import { DEFAULT_APP_LOGIN } from "./app-records.ts";
import { buildAuditRow, type AuditRow } from "./audit-row.ts";
import { readChecklist } from "./checklist-status.ts";
import { flagRepeatBreakGlass, requestFlags } from "./overuse-flags.ts";
import { readRequest } from "./read-request.ts";
import type { ChainRecord } from "./verify-records.ts";
import { collectAccessReviews, type AccessReviewExport } from "./collect-access-reviews.ts";

export interface CollectOptions {
  /** Requests made at or after this time (ISO 8601). */
  since?: string;
  /** Requests made before this time (ISO 8601, exclusive). */
  until?: string;
  /** Only this resource (the policy name). */
  resource?: string;
  /** The app's bot login, "<slug>[bot]"; default {@link DEFAULT_APP_LOGIN}. */
  appLogin?: string;
  /** The app's public keys; without them records are read but marked unverified. */
  jwks?: JSONWebKeySet;
  /** Export time (epoch ms), for credentials still alive; default now. */
  now?: number;
  /** Issues read at once (default 4: GitHub's secondary rate limits punish bursts). */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
  /** Read the periodic access reviews too (the CLI's export does; the app's metrics do not need them). */
  accessReviews?: boolean;
}

export interface AuditCollection {
  repository: string;
  generated_at: string;
  filters: { since: string | null; until: string | null; resource: string | null };
  /** False when no keys were given: nothing in the rows is proven. */
  verified: boolean;
  rows: AuditRow[];
  /** Every record of the exported requests, chain by chain, for `audit verify --file`. */
  records: ChainRecord[];
  /** The periodic access reviews that started in the window (access-review-export.ts). */
  access_reviews?: AccessReviewExport;
}

/** A day of slack on GitHub's `since` (last update) so a request recorded a moment after the issue's last update is not missed. */
const SINCE_SLACK_MS = 24 * 3600 * 1000;

/**
 * One row per break-glass request of the repository, oldest first, read from the app's signed
 * records (never from what people wrote on the issue). Requests are dated by their first record,
 * or by the issue when there is none.
 */
export async function collectAudit(port: GitHubPort, options: CollectOptions = {}): Promise<AuditCollection> {
  const since = parseTime(options.since, "since");
  const until = parseTime(options.until, "until");
  const now = options.now ?? Date.now();
  const appLogin = options.appLogin ?? DEFAULT_APP_LOGIN;
  // GitHub's `since` is the last update, which is never before the first record was posted.

  const listed = await listRequests(port, {
    appLogin,
    ...(since !== null ? { since: new Date(since - SINCE_SLACK_MS).toISOString() } : {}),
  });
  // A request whose issue is gone has no creation date to filter on: its first record dates it below.
  const issues = listed.filter((i) => until === null || Date.parse(i.created_at) < until);
  let done = 0;
  options.onProgress?.(0, issues.length);
  const read = (
    await mapLimited(issues, options.concurrency ?? 4, async (issue) => {
      const result = await readOne(port, issue, { appLogin, jwks: options.jwks, now });
      options.onProgress?.(++done, issues.length);
      return result;
    })
  ).flatMap(({ rows, records }) => rows.map((row) => ({ row, records })));
  const kept = read.filter(({ row }) => {
    const at = Date.parse(row.requested_at ?? "");
    if (since !== null && !(at >= since)) return false;
    if (until !== null && !(at < until)) return false;
    return options.resource === undefined || row.resource === options.resource;
  });
  kept.sort(
    (a, b) => (a.row.requested_at ?? "").localeCompare(b.row.requested_at ?? "") || a.row.issue - b.row.issue,
  );
  const repository = `${port.owner}/${port.repo}`;
  const accessReviews = options.accessReviews
    ? await collectAccessReviews(port, {
        jwks: options.jwks,
        since,
        until,
        ...(options.resource !== undefined ? { resource: options.resource } : {}),
        now,
      })
    : undefined;
  return {
    repository,
    generated_at: new Date(now).toISOString(),
    filters: {
      since: options.since ?? null,
      until: options.until ?? null,
      resource: options.resource ?? null,
    },
    verified: options.jwks !== undefined,
    rows: flagRepeatBreakGlass(kept.map((k) => k.row)),
    // An issue naming several resources has a row per resource and one chain: its records once.
    records: kept
      .filter((k, i) => kept.findIndex((o) => o.row.issue === k.row.issue) === i)
      .flatMap((k) => k.records.map((jws) => ({ repo: repository, issue: k.row.issue, jws }))),
    ...(accessReviews ? { access_reviews: accessReviews } : {}),
  };
}

async function readOne(
  port: GitHubPort,
  issue: IssueSummary,
  options: { appLogin: string; jwks: JSONWebKeySet | undefined; now: number },
): Promise<{ rows: AuditRow[]; records: string[] }> {
  let reading: Awaited<ReturnType<typeof readRequest>>;
  try {
    reading = await readRequest(port, issue.number, options);
  } catch (error) {
    throw new Error(`Could not read the records of #${issue.number}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const whole = reading.state;
  const checklistIssue = whole.review_issue;
  const checklist =
    typeof checklistIssue === "number" ? await readChecklist(port, checklistIssue, whole.review) : null;
  const uses = whole.grant || whole.parts ? await port.ledger.uses(issue.number) : [];
  // A request naming several resources: one row per resource, each from its own part, sharing the
  // issue's review; a request for one resource is its own part.
  const parts =
    whole.parts === null
      ? [{ state: whole, events: reading.events }]
      : Object.entries(whole.parts).map(([part, state]) => ({
          state: { ...state, review_issue: whole.review_issue, review: whole.review },
          events: reading.events.filter((e) => e.part === part),
        }));
  const rows = parts.map(({ state, events }) => {
    const row = buildAuditRow({
      repository: `${port.owner}/${port.repo}`,
      issue: { number: issue.number, html_url: issue.html_url },
      state: { ...state, requested_at: state.requested_at ?? issue.created_at },
      events,
      chain: reading.chain,
      checklist,
      uses: state.grant
        ? uses.filter((u) => whole.parts === null || u.credential_id === state.grant!.credential_id)
        : [],
      now: options.now,
    });
    return { ...row, flags: requestFlags(row, events) };
  });
  return { rows, records: reading.records };
}

/** Runs `fn` over the items, at most `limit` at a time, keeping their order. */
async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

function parseTime(value: string | undefined, name: string): number | null {
  if (value === undefined) return null;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms))
    throw new TypeError(`collectAudit: ${name} must be an ISO 8601 time, got ${JSON.stringify(value)}`);
  return ms;
}
