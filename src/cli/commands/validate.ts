import { parseArgs } from "node:util";
import { parseTemplate } from "@github/issue-parser";
import { findOwners, parseCodeowners } from "../../core/codeowners.ts";
import { formatPolicyError, loadPolicies } from "../../core/policy.ts";
import { readRepoFiles } from "../repo-files.ts";
import type { CliIO } from "../io.ts";
import { environmentProblems, GRANT_WORKFLOW, mustBeOwned, ownershipProblems, placeholderProblems } from "../setup-checks.ts";

const HELP = `Usage: breakglass validate [--root DIR]

Checks a repository's Breakglass setup (default: the current directory):
  - every policies/*.yml against the policy schema
  - every policy file has at least one CODEOWNER (its approvers)
  - CODEOWNERS covers policies/ and CODEOWNERS itself, so policy changes need review
  - the request form's resource options match the policies
  - CODEOWNERS also covers the recipients file and every breakglass workflow
  - the grant workflow can run in every policy's environment
  - no placeholder from \`breakglass init\` is left
Prints file:line problems and exits 1 when there are any.
`;

export interface Problem {
  file: string;
  line: number | null;
  message: string;
}

/** Every problem with a repository's setup; an empty list means it is ready. */
export function validateRepository(files: Awaited<ReturnType<typeof readRepoFiles>>): Problem[] {
  const problems: Problem[] = [];
  const { policies, errors } = loadPolicies(files.policyFiles);
  for (const e of errors) problems.push({ file: e.file, line: e.line, message: e.message });
  if (files.policyFiles.length === 0) problems.push({ file: "policies/", line: null, message: "no policy files: add policies/<resource>.yml (see `breakglass init`)." });

  if (!files.codeownersPath || files.codeownersText === null) {
    problems.push({ file: ".github/CODEOWNERS", line: null, message: "no CODEOWNERS file in .github/, the root or docs/: nobody could approve anything." });
  } else {
    const parsed = parseCodeowners(files.codeownersText);
    for (const e of parsed.errors) problems.push({ file: files.codeownersPath, line: e.line, message: e.message });
    for (const file of files.policyFiles) {
      const owners = findOwners(parsed.rules, file.path);
      if (owners.owners.length === 0) {
        problems.push({ file: file.path, line: null, message: `has no CODEOWNER, so nobody may approve its requests: add a line like \`/${file.path} @org/team\` to ${files.codeownersPath}.` });
      }
    }
    const probe = findOwners(parsed.rules, "policies/__new-policy__.yml");
    if (probe.owners.length === 0) {
      problems.push({ file: files.codeownersPath, line: null, message: "does not cover new files in policies/: add `/policies/ @org/security` so a new or changed policy needs review." });
    }
    if (findOwners(parsed.rules, files.codeownersPath).owners.length === 0) {
      problems.push({ file: files.codeownersPath, line: null, message: `does not cover itself: add \`/${files.codeownersPath} @org/security\` so nobody can change who approves without review.` });
    }
    if (files.workflowFiles) {
      const others = mustBeOwned(files.workflowFiles.map((w) => w.path), files.codeownersPath).filter((p) => p !== files.codeownersPath);
      problems.push(...ownershipProblems(parsed.rules, others, files.codeownersPath));
    }
  }
  if (files.workflowFiles) {
    problems.push(...placeholderProblems([...(files.codeownersPath && files.codeownersText !== null ? [{ path: files.codeownersPath, text: files.codeownersText }] : []), ...files.workflowFiles]));
    problems.push(...environmentProblems(policies.values(), files.workflowFiles.find((w) => w.path === GRANT_WORKFLOW)?.text ?? null));
  }

  if (files.issueFormText === null) {
    problems.push({ file: ".github/ISSUE_TEMPLATE/breakglass-request.yml", line: null, message: "the request form is missing (see `breakglass init`)." });
  } else {
    try {
      const template = parseTemplate(files.issueFormText) as Record<string, { options?: string[] }>;
      const options = template.resource?.options ?? [];
      const resources = [...policies.keys()];
      for (const r of resources) if (!options.includes(r)) problems.push({ file: ".github/ISSUE_TEMPLATE/breakglass-request.yml", line: null, message: `the Resource dropdown lacks "${r}", which has a policy.` });
      for (const o of options) if (!policies.has(o) && !errors.some((e) => e.file.endsWith(`/${o}.yml`))) problems.push({ file: ".github/ISSUE_TEMPLATE/breakglass-request.yml", line: null, message: `the Resource dropdown offers "${o}", which has no policy file.` });
    } catch (error) {
      problems.push({ file: ".github/ISSUE_TEMPLATE/breakglass-request.yml", line: null, message: `is not a valid issue form: ${(error as Error).message}` });
    }
  }
  return problems;
}

export async function run(args: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({ args, options: { root: { type: "string" }, help: { type: "boolean", short: "h" } } });
  if (values.help) {
    io.stdout(HELP);
    return 0;
  }
  const root = values.root ?? io.cwd;
  const problems = validateRepository(await readRepoFiles(root));
  for (const p of problems) io.stderr(`${formatPolicyError({ file: p.file, line: p.line, message: p.message })}\n`);
  if (problems.length === 0) io.stdout("✔ policies, CODEOWNERS and the request form are consistent.\n");
  return problems.length === 0 ? 0 : 1;
}
