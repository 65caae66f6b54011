import { compileCodeowners, CODEOWNERS_LOCATIONS, type CompiledCodeowners } from "../../core/codeowners.ts";
import { loadPolicies, type PolicyError } from "../../core/policy.ts";
import type { Policy } from "../../core/types.ts";
import type { GitHubPort } from "../../github/github-port.ts";

export const ISSUE_FORM_PATH = ".github/ISSUE_TEMPLATE/breakglass-request.yml";
export const POLICY_DIR = "policies";

const TEMPLATE_DIR = ".github/ISSUE_TEMPLATE";
const FORM_NAMES = ["breakglass-request.yml", "breakglass-request.yaml"];
/** Where an organisation keeps default issue forms for repositories without any of their own. */
export const OWNER_DEFAULTS_REPO = ".github";

/**
 * The request issue form, found as GitHub finds templates: `.yml` or `.yaml` in the repository's
 * `.github/ISSUE_TEMPLATE/`, or, when that folder has nothing at all, the owner's defaults in its
 * `.github` repository. Only intake parses bodies, so only intake reads it.
 */
export async function loadIssueForm(port: GitHubPort): Promise<string | null> {
  const own = await port.listDirectory(TEMPLATE_DIR);
  const source = own.length
    ? own
    : port.repo === OWNER_DEFAULTS_REPO
      ? []
      : await port.sibling(OWNER_DEFAULTS_REPO).listDirectory(TEMPLATE_DIR);
  const reader = own.length ? port : port.sibling(OWNER_DEFAULTS_REPO);
  for (const name of FORM_NAMES) {
    const entry = source.find((e) => e.name === name);
    if (entry) return reader.readFile(`${TEMPLATE_DIR}/${name}`, entry.sha);
  }
  return null;
}

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
  const listed = (await port.listDirectory(POLICY_DIR))
    .filter((e) => /\.ya?ml$/.test(e.name))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  const entries = listed.filter((e) => !e.symlink);
  const [files, codeowners] = await Promise.all([
    Promise.all(
      entries.map(async (e) => ({
        path: `${POLICY_DIR}/${e.name}`,
        text: (await port.readFile(`${POLICY_DIR}/${e.name}`, e.sha)) ?? "",
      })),
    ),
    findCodeowners(port),
  ]);
  const { policies, errors } = loadPolicies(files);
  // Reported, not dropped in silence and not followed: CODEOWNERS reviews a change to the link, not
  // to the file it points at, so a linked policy could change without its owners' review.
  const linked = listed
    .filter((e) => e.symlink)
    .map((e) => ({
      file: `${POLICY_DIR}/${e.name}`,
      line: null,
      message:
        "is a symbolic link. CODEOWNERS reviews changes to the link, not to the file it points at, so Breakglass does not follow it: replace the link with the policy file itself.",
    }));
  return {
    policies,
    policyErrors: [...errors, ...linked],
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
