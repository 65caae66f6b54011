import type { JSONWebKeySet } from "jose";
import { verifyChain, type AuditEntry } from "../core/audit-chain.ts";
import type { IssueRecords } from "./app-records.ts";
import { checkStepUpProofs } from "./step-up-proofs.ts";

export interface ChainBreak {
  /** The entry (seq) where the chain stops being trustworthy. */
  index: number;
  reason: string;
}

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
 * Verifies the chain of one request issue as it stands on GitHub. Stricter than the app's own read:
 * what the app silently skips (a lost entry, an unreadable record, a raced duplicate) is evidence an
 * auditor must see, so a gap or an unreadable record breaks the chain and every duplicate must verify
 * as a genuine fork of the same chain.
 */
export async function verifyIssueRecords(
  records: IssueRecords,
  jwks: JSONWebKeySet,
  expect: { repo: string; issue: number },
): Promise<ChainVerdict> {
  const breaks: ChainBreak[] = [];
  const notes: string[] = [];
  const result = await verifyChain(records.chain, jwks, expect);
  if (!result.ok) breaks.push({ index: result.index, reason: result.reason });
  if (records.gap) {
    const { expected, found, commentId } = records.gap;
    breaks.push({
      index: expected,
      reason: `entry ${expected} is missing or out of order: the next record (comment ${commentId}) has seq ${found}`,
    });
  }
  for (const commentId of records.unreadable) {
    breaks.push({ index: records.chain.length, reason: `the record in comment ${commentId} cannot be read (was the comment edited?)` });
  }
  for (const duplicate of records.duplicates) {
    const fork = await verifyChain([...records.chain.slice(0, duplicate.seq), duplicate.jws], jwks, expect);
    if (fork.ok) {
      notes.push(`entry ${duplicate.seq} was written twice (comment ${duplicate.commentId}, replicas raced); the first copy counts and both verify`);
    } else {
      breaks.push({ index: duplicate.seq, reason: `a second record for entry ${duplicate.seq} (comment ${duplicate.commentId}) does not verify: ${fork.reason}` });
    }
  }
  const stepUps = checkStepUpProofs(result.entries, expect);
  breaks.push(...stepUps.breaks);
  if (stepUps.checked > stepUps.breaks.length) notes.push(`${stepUps.checked - stepUps.breaks.length} step-up proof(s) (SSH signatures over the request) re-verified`);
  if (records.ignored > 0) {
    notes.push(`${records.ignored} record marker(s) in comments not written by the app were ignored`);
  }
  const first = breaks.sort((a, b) => a.index - b.index)[0] ?? null;
  return {
    repository: expect.repo,
    issue: expect.issue,
    entries: records.chain.length,
    ok: first === null,
    break: first,
    notes,
    verified: result.entries,
  };
}
