import type { GitHubPort } from "../../github/github-port.ts";
import { LedgerUnavailable } from "../../github/ledger.ts";
import { ledgerUnavailable } from "../../core/messages/record-messages.ts";

/**
 * Runs a handler's work; when the ledger cannot be written (LedgerUnavailable), nothing was recorded
 * and nothing may be decided, so the person who acted is told on the issue — the request stays as it
 * was, nothing was granted — and the error goes on to the log. Any other error is left as it is.
 */
export async function sayWhenLedgerUnavailable(
  port: Pick<GitHubPort, "createComment">,
  issue: number,
  who: string,
  work: () => Promise<void>,
): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (!(error instanceof LedgerUnavailable)) throw error;
    await port.createComment(issue, ledgerUnavailable(who, error.message)).catch(() => undefined);
    throw error;
  }
}
