import type { AuditEntry } from "../core/audit-chain.ts";
import type { History } from "../github/issue-records.ts";
import type { ChainBreak } from "./chain-break.ts";
import { checkStepUpProofs } from "./step-up-proofs.ts";

export type { ChainBreak };

/** The verdict on one request issue's chain. */
export interface ChainVerdict {
  repository: string;
  issue: number;
  entries: number;
  ok: boolean;
  break: ChainBreak | null;
  /** Things worth telling that do not break the chain (replica races, ignored copies). */
  notes: string[];
  /** The entries that verified, from the first: all of them when ok. */
  verified: AuditEntry[];
}

/**
 * The verdict on one request: its entries in the app's ledger must verify in an unbroken chain, and
 * the issue's comments must show every one of them exactly as the app wrote it. Stricter than the
 * app's own read, which restores what was changed and carries on: a deleted, edited or truncated
 * record, or a record in a comment the ledger does not hold, is evidence an auditor must see.
 */
export async function verdictOf(
  history: History,
  expect: { repo: string; issue: number },
): Promise<ChainVerdict> {
  const breaks: ChainBreak[] = [];
  const notes: string[] = [];
  const total = history.ledger.entries.length;
  if (history.broken) breaks.push(history.broken);
  const missing = history.mirror.filter((m) => m.kind === "missing").map((m) => m.seq);
  // Missing entries that run to the end of the chain are a truncated tail.
  let tailFrom = total;
  while (tailFrom > 0 && missing.includes(tailFrom - 1)) tailFrom--;
  if (tailFrom < total && tailFrom < history.chain.length) {
    breaks.push({
      index: tailFrom,
      reason: `entry ${tailFrom}: truncated tail: the issue's comments stop before this entry, the ledger holds ${total} entries (${tailFrom}–${total - 1} deleted)`,
    });
  }
  for (const m of history.mirror) {
    if (m.kind === "missing" && m.seq >= tailFrom) continue;
    breaks.push({
      index: m.seq,
      reason:
        m.kind === "missing"
          ? `entry ${m.seq}: its ${m.type} record was deleted from the issue's comments; the ledger holds it`
          : `entry ${m.seq}: its ${m.type} record was edited in comment ${m.commentId}; the ledger holds the original`,
    });
  }
  for (const commentId of history.unledgered) {
    breaks.push({
      index: history.chain.length,
      reason: `comment ${commentId} carries a record the ledger does not hold`,
    });
  }
  const stepUps = await checkStepUpProofs(
    history.chain.map((e) => e.entry),
    expect,
  );
  breaks.push(...stepUps.breaks);
  if (stepUps.checked > stepUps.breaks.length)
    notes.push(
      `${stepUps.checked - stepUps.breaks.length} step-up proof(s) (SSH signatures or WebAuthn assertions over the request) re-verified`,
    );
  const first = breaks.sort((a, b) => a.index - b.index)[0] ?? null;
  if (breaks.length > 1) notes.push(...breaks.slice(1).map((b) => b.reason));
  return {
    repository: expect.repo,
    issue: expect.issue,
    entries: total,
    ok: first === null,
    break: first,
    notes,
    verified: history.chain.map((e) => e.entry),
  };
}
