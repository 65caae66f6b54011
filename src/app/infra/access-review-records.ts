import type { AccessReviewEvent } from "../../core/access-review.ts";
import { chainRepo, readAccessReview, type AccessReviewRecords } from "../../github/access-review-records.ts";
import type { GitHubPort } from "../../github/github-port.ts";
import type { BreakglassDeps } from "./deps.ts";
import { appendSideChainRecord, type SideChainOutcome } from "./side-chain-append.ts";

export type RecordOutcome = SideChainOutcome<AccessReviewRecords>;

/**
 * Appends one record to a period's review (side-chain-append.ts: compare-and-swap, an `id` is recorded
 * once). `firstOnly`: the record must be the chain's first (opening the review): when another process
 * wrote first, nothing is recorded (`conflict`).
 */
export async function recordAccessReview(
  deps: Pick<BreakglassDeps, "jwks" | "signer" | "now">,
  port: GitHubPort,
  period: string,
  id: string,
  event: AccessReviewEvent,
  text: string,
  options: { firstOnly?: boolean } = {},
): Promise<RecordOutcome> {
  return appendSideChainRecord(
    deps,
    {
      repo: chainRepo(port, period),
      what: `the access review records of ${period}`,
      read: () => readAccessReview(deps, port, period),
      append: (expected, entry) => port.ledger.appendAccessReview(period, expected, entry),
    },
    id,
    event,
    text,
    options,
  );
}

export { readAccessReview, type AccessReviewRecords };
