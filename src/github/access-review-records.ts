import { foldAccessReview, type AccessReviewEvent, type AccessReviewState } from "../core/access-review.ts";
import type { SignedEntry } from "../core/audit-chain.ts";
import type { JSONWebKeySet } from "jose";
import type { GitHubPort } from "./github-port.ts";
import type { LedgerChain } from "./ledger.ts";
import { readSideChain } from "./side-chain.ts";

/** The chain's name in its signed entries: entries of one period's review count for that period only. */
export const chainRepo = (port: GitHubPort, period: string) =>
  `${port.owner}/.access-review.${port.repo}.${period}`;

export interface AccessReviewRecords {
  state: AccessReviewState;
  chain: SignedEntry[];
  ledger: LedgerChain;
  /** Why the records do not verify (then nothing in them counts), or null. */
  problem: string | null;
  /** Read without keys: `state` is what the records claim. */
  unverified?: boolean;
}

/** Every access review of the repository in the ledger, oldest period first (the last `limit`). */
export async function listAccessReviews(
  deps: { jwks?: JSONWebKeySet | undefined },
  port: GitHubPort,
  limit = 36,
): Promise<AccessReviewRecords[]> {
  const periods = (await port.ledger.accessReviewPeriods()).slice(-limit);
  return Promise.all(periods.map((p) => readAccessReview(deps, port, p)));
}

/** A period's access review from the ledger: every entry verified against the app's keys, in one unbroken chain. */
export async function readAccessReview(
  deps: { jwks?: JSONWebKeySet | undefined },
  port: GitHubPort,
  period: string,
): Promise<AccessReviewRecords> {
  const ledger = await port.ledger.accessReview(period);
  const read = await readSideChain(deps, ledger, chainRepo(port, period));
  return {
    state: foldAccessReview(
      period,
      read.entries.map((e) => ({ at: e.at, event: e.event as AccessReviewEvent })),
    ),
    chain: read.chain,
    ledger,
    problem: read.problem,
    ...(read.unverified ? { unverified: true } : {}),
  };
}
