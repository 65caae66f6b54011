import type { JSONWebKeySet } from "jose";
import { accessReviewRows, type AccessReviewRow } from "../core/access-review.ts";
import { chainRepo, listAccessReviews } from "../github/access-review-records.ts";
import type { GitHubPort } from "../github/github-port.ts";
import type { ChainRecord } from "./verify-records.ts";

export interface AccessReviewExport {
  rows: AccessReviewRow[];
  /** Their signed records, for `audit verify --file` (each review is a chain of its own). */
  records: ChainRecord[];
}

/** The reviews that started within the export's window (and the resource filter), oldest first. */
export async function collectAccessReviews(
  port: GitHubPort,
  options: {
    jwks?: JSONWebKeySet | undefined;
    since: number | null;
    until: number | null;
    resource?: string;
    now: number;
  },
): Promise<AccessReviewExport> {
  const repository = `${port.owner}/${port.repo}`;
  const out: AccessReviewExport = { rows: [], records: [] };
  for (const review of await listAccessReviews(options, port, 1000)) {
    const started = Date.parse(review.state.started_at ?? "");
    if (options.since !== null && !(started >= options.since)) continue;
    if (options.until !== null && !(started < options.until)) continue;
    out.rows.push(
      ...accessReviewRows(review.state, repository, options.now).filter(
        (r) => options.resource === undefined || r.resource === options.resource,
      ),
    );
    out.records.push(
      ...review.ledger.entries.map((e) => ({
        repo: chainRepo(port, review.state.period),
        issue: 1,
        jws: e.jws,
      })),
    );
  }
  return out;
}
