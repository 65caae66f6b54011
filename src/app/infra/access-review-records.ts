import type { AccessReviewEvent } from "../../core/access-review.ts";
import { appendEntry } from "../../core/audit-chain.ts";
import { chainRepo, readAccessReview, type AccessReviewRecords } from "../../github/access-review-records.ts";
import type { GitHubPort } from "../../github/github-port.ts";
import type { BreakglassDeps } from "./deps.ts";

export type RecordOutcome =
  | { ok: true; records: AccessReviewRecords; recorded: boolean }
  | { ok: false; problem: string; conflict?: boolean };

/**
 * Appends one record (compare-and-swap; read again and retry when another replica wrote first). An
 * `id` already in the chain is not recorded twice. `firstOnly`: the record must be the chain's first
 * (opening the review): when another process wrote first, nothing is recorded (`conflict`).
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
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await readAccessReview(deps, port, period);
    if (current.problem)
      return {
        ok: false,
        problem: `the access review records of ${period} do not verify (${current.problem})`,
      };
    if (current.chain.some((e) => e.entry.id === id)) return { ok: true, records: current, recorded: false };
    if (options.firstOnly && current.chain.length > 0)
      return { ok: false, problem: "another process opened it first", conflict: true };
    const signed = await appendEntry(
      current.chain,
      { at: new Date(deps.now()).toISOString(), repo: chainRepo(port, period), issue: 1, id, event },
      deps.signer,
    );
    const written = await port.ledger.appendAccessReview(period, current.ledger, { jws: signed.jws, text });
    if (written.ok) return { ok: true, records: await readAccessReview(deps, port, period), recorded: true };
  }
  return { ok: false, problem: "the ledger kept moving; try again" };
}

export { readAccessReview, type AccessReviewRecords };
