import { compileCodeowners, CODEOWNERS_LOCATIONS, type CompiledCodeowners } from "../core/codeowners.ts";
import { loadPolicies, type PolicyError } from "../core/policy.ts";
import type { Policy } from "../core/types.ts";
import type { GitHubPort } from "./github-port.ts";

export const ISSUE_FORM_PATH = ".github/ISSUE_TEMPLATE/breakglass-request.yml";
export const POLICY_DIR = "policies";

/** What the app reads from the repository's default branch to decide anything. */
export interface RepoConfig {
  policies: Map<string, Policy>;
  policyErrors: PolicyError[];
  codeowners: CompiledCodeowners | null;
  codeownersPath: string | null;
  issueForm: string | null;
}

/**
 * Reads policies, CODEOWNERS and the request form from the default branch. Always from GitHub, never
 * from memory, so every replica decides the same way and a merged policy change applies at once.
 */
export async function loadRepoConfig(port: GitHubPort): Promise<RepoConfig> {
  const names = (await port.listDirectory(POLICY_DIR)).filter((n) => /\.ya?ml$/.test(n)).sort();
  const [files, issueForm, codeowners] = await Promise.all([
    Promise.all(names.map(async (n) => ({ path: `${POLICY_DIR}/${n}`, text: (await port.readFile(`${POLICY_DIR}/${n}`)) ?? "" }))),
    port.readFile(ISSUE_FORM_PATH),
    findCodeowners(port),
  ]);
  const { policies, errors } = loadPolicies(files);
  return {
    policies,
    policyErrors: errors,
    codeowners: codeowners ? compileCodeowners(codeowners.text) : null,
    codeownersPath: codeowners?.path ?? null,
    issueForm,
  };
}

async function findCodeowners(port: GitHubPort): Promise<{ path: string; text: string } | null> {
  for (const path of CODEOWNERS_LOCATIONS) {
    const text = await port.readFile(path);
    if (text !== null) return { path, text };
  }
  return null;
}
