import { compileCodeowners, CODEOWNERS_LOCATIONS, type CompiledCodeowners } from "../core/codeowners.ts";
import { loadPolicies, type PolicyError } from "../core/policy.ts";
import type { Policy } from "../core/types.ts";
import type { GitHubPort } from "./github-port.ts";

export const ISSUE_FORM_PATH = ".github/ISSUE_TEMPLATE/breakglass-request.yml";
export const POLICY_DIR = "policies";

/** The request issue form: only intake parses bodies, so only intake reads it. */
export const loadIssueForm = (port: GitHubPort): Promise<string | null> => port.readFile(ISSUE_FORM_PATH);

/** What the app reads from the repository's default branch to decide anything. */
export interface RepoConfig {
  policies: Map<string, Policy>;
  policyErrors: PolicyError[];
  codeowners: CompiledCodeowners | null;
  codeownersPath: string | null;
}

/**
 * Reads policies, CODEOWNERS and the request form from the default branch. Always from GitHub, never
 * from memory, so every replica decides the same way and a merged policy change applies at once.
 */
export async function loadRepoConfig(port: GitHubPort): Promise<RepoConfig> {
  const entries = (await port.listDirectory(POLICY_DIR)).filter((e) => /\.ya?ml$/.test(e.name)).sort((a, b) => (a.name < b.name ? -1 : 1));
  const [files, codeowners] = await Promise.all([
    Promise.all(entries.map(async (e) => ({ path: `${POLICY_DIR}/${e.name}`, text: (await port.readFile(`${POLICY_DIR}/${e.name}`, e.sha)) ?? "" }))),
    findCodeowners(port),
  ]);
  const { policies, errors } = loadPolicies(files);
  return {
    policies,
    policyErrors: errors,
    codeowners: codeowners ? compileCodeowners(codeowners.text) : null,
    codeownersPath: codeowners?.path ?? null,
  };
}

async function findCodeowners(port: GitHubPort): Promise<{ path: string; text: string } | null> {
  for (const path of CODEOWNERS_LOCATIONS) {
    const text = await port.readFile(path);
    if (text !== null) return { path, text };
  }
  return null;
}
