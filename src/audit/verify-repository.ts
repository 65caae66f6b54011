import type { JSONWebKeySet } from "jose";
import type { GitHubPort } from "../app/github-port.ts";
import { AUDIT_LABEL, REQUEST_LABEL } from "./labels.ts";
import { extractIssueRecords } from "./app-records.ts";
import { verifyIssueRecords, type ChainVerdict } from "./verify-issue-chain.ts";
import { summarizeVerdicts, type VerifyReport } from "./verify-records.ts";

/** Verifies the chain of every request issue of the repository, as it stands on GitHub now. */
export async function verifyRepository(
  port: GitHubPort,
  options: { appLogin: string; jwks: JSONWebKeySet; onProgress?: (done: number, total: number) => void },
): Promise<VerifyReport> {
  const issues = (await port.listIssues({ labels: REQUEST_LABEL, state: "all" })).filter((i) => !i.labels.includes(AUDIT_LABEL));
  issues.sort((a, b) => a.number - b.number);
  const repo = `${port.owner}/${port.repo}`;
  const chains: ChainVerdict[] = [];
  options.onProgress?.(0, issues.length);
  for (const issue of issues) {
    const comments = await port.listComments(issue.number);
    const verdict = await verifyIssueRecords(extractIssueRecords(comments, options.appLogin), options.jwks, { repo, issue: issue.number });
    if (verdict.entries === 0 && verdict.ok) verdict.notes.push("no signed records (the app never recorded anything on this issue)");
    chains.push(verdict);
    options.onProgress?.(chains.length, issues.length);
  }
  return summarizeVerdicts(chains);
}
