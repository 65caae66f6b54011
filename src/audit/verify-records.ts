import type { JSONWebKeySet } from "jose";
import { verifyChain } from "../core/audit-chain.ts";
import { checkStepUpProofs } from "./step-up-proofs.ts";
import type { ChainVerdict } from "./verify-issue-chain.ts";

/** One line of an entries.jsonl file: a record and the request issue it claims to belong to. */
export interface ChainRecord {
  repo: string;
  issue: number;
  jws: string;
}

export interface VerifyReport {
  ok: boolean;
  chains: ChainVerdict[];
  /** Entries in all chains, verified or not. */
  entries: number;
  /** The first chain that broke, in the order the chains were given. */
  firstBroken: ChainVerdict | null;
}

/**
 * Verifies records taken away from GitHub. The file is the evidence, so it is read exactly as written:
 * the records of each issue, in file order, must form one whole chain from entry 0.
 */
export async function verifyChainRecords(
  records: readonly ChainRecord[],
  jwks: JSONWebKeySet,
): Promise<VerifyReport> {
  const groups = new Map<string, { repo: string; issue: number; jws: string[] }>();
  for (const record of records) {
    const key = `${record.repo.toLowerCase()}#${record.issue}`;
    const group = groups.get(key) ?? { repo: record.repo, issue: record.issue, jws: [] };
    group.jws.push(record.jws);
    groups.set(key, group);
  }
  const chains: ChainVerdict[] = [];
  for (const group of groups.values()) {
    const result = await verifyChain(group.jws, jwks, { repo: group.repo, issue: group.issue });
    const stepUps = await checkStepUpProofs(result.entries, { repo: group.repo, issue: group.issue });
    const broken = result.ok ? (stepUps.breaks[0] ?? null) : { index: result.index, reason: result.reason };
    chains.push({
      repository: group.repo,
      issue: group.issue,
      entries: group.jws.length,
      ok: broken === null,
      break: broken,
      notes:
        stepUps.checked > stepUps.breaks.length
          ? [
              `${stepUps.checked - stepUps.breaks.length} step-up proof(s) (SSH signatures or WebAuthn assertions over the request) re-verified`,
            ]
          : [],
      verified: result.entries,
    });
  }
  return summarizeVerdicts(chains);
}

export function summarizeVerdicts(chains: ChainVerdict[]): VerifyReport {
  const firstBroken = chains.find((c) => !c.ok) ?? null;
  return {
    ok: firstBroken === null,
    chains,
    entries: chains.reduce((sum, c) => sum + c.entries, 0),
    firstBroken,
  };
}
