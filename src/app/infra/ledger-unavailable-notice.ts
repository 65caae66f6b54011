import { escapeInline, mention } from "../../core/markdown.ts";
import type { GitHubPort } from "../../github/github-port.ts";
import { LedgerUnavailable } from "../../github/ledger.ts";

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
    await port
      .createComment(
        issue,
        `⚠️ ${mention(who)}: Breakglass could not write to its ledger (${escapeInline(error.message, 300)}), so **nothing was recorded**: the request stays as it was and nothing was granted. Try again in a few minutes; the app's log has the details for its operators.`,
      )
      .catch(() => undefined);
    throw error;
  }
}
