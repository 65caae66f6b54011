import type { JSONWebKeySet } from "jose";
import type { GitHubPort } from "../github/github-port.ts";
import { listRequests } from "./list-requests.ts";
import { verifyRequest } from "./read-request.ts";
import type { ChainVerdict } from "./verify-issue-chain.ts";
import { summarizeVerdicts, type VerifyReport } from "./verify-records.ts";

/** Verifies every request of the repository (from the ledger and the request label, see listRequests): its ledger chain, and its comments against the ledger (deleted, edited, truncated). */
export async function verifyRepository(
  port: GitHubPort,
  options: { appLogin: string; jwks: JSONWebKeySet; onProgress?: (done: number, total: number) => void },
): Promise<VerifyReport> {
  const issues = await listRequests(port, { appLogin: options.appLogin });
  const chains: ChainVerdict[] = [];
  options.onProgress?.(0, issues.length);
  for (const issue of issues) {
    const { verdict } = await verifyRequest(port, issue.number, options);
    if (verdict.entries === 0 && verdict.ok)
      verdict.notes.push("no signed records (the app never recorded anything on this issue)");
    chains.push(verdict);
    options.onProgress?.(chains.length, issues.length);
  }
  return summarizeVerdicts(chains);
}
