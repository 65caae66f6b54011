import { parseTemplate } from "@github/issue-parser";
import { findOwners, parseCodeowners } from "./codeowners.ts";
import { loadPolicies } from "./policy.ts";
import { parseRecipients, RECIPIENTS_PATH } from "./recipients.ts";
import {
  environmentProblems,
  GRANT_WORKFLOW,
  mustBeOwned,
  ownershipProblems,
  placeholderProblems,
} from "./setup-checks.ts";
import { stepUpProblems } from "./step-up-checks.ts";

export const ISSUE_FORM_PATH = ".github/ISSUE_TEMPLATE/breakglass-request.yml";

/** The files of one version of a repository that Breakglass reads (a checkout, or a ref through the API). */
export interface SetupFiles {
  codeownersPath: string | null;
  codeownersText: string | null;
  policyFiles: Array<{ path: string; text: string }>;
  issueFormText: string | null;
  /** `.github/breakglass-recipients.yml`, when the repository has one. */
  recipientsText?: string | null;
  /** The breakglass workflows, when read: checked for placeholders, reachable environments and CODEOWNERS coverage. */
  workflowFiles?: Array<{ path: string; text: string }>;
}

/** The 1-based line of the first line of `text` matching `pattern`, or null. */
function lineOf(text: string, pattern: RegExp): number | null {
  const i = text.split("\n").findIndex((l) => pattern.test(l));
  return i === -1 ? null : i + 1;
}

export interface Problem {
  file: string;
  line: number | null;
  message: string;
}

/** Every problem with a repository's setup; an empty list means it is ready. */
export function validateRepository(files: SetupFiles): Problem[] {
  const problems: Problem[] = [];
  const { policies, errors } = loadPolicies(files.policyFiles);
  for (const e of errors) problems.push({ file: e.file, line: e.line, message: e.message });
  problems.push(...stepUpProblems(policies.values(), files.policyFiles));
  if (files.policyFiles.length === 0)
    problems.push({
      file: "policies/",
      line: null,
      message: "no policy files: add policies/<resource>.yml (see `breakglass init`).",
    });

  if (!files.codeownersPath || files.codeownersText === null) {
    problems.push({
      file: ".github/CODEOWNERS",
      line: null,
      message: "no CODEOWNERS file in .github/, the root or docs/: nobody could approve anything.",
    });
  } else {
    const parsed = parseCodeowners(files.codeownersText);
    for (const e of parsed.errors)
      problems.push({ file: files.codeownersPath, line: e.line, message: e.message });
    for (const file of files.policyFiles) {
      const owners = findOwners(parsed.rules, file.path);
      if (owners.owners.length === 0) {
        problems.push({
          file: file.path,
          line: null,
          message: `has no CODEOWNER, so nobody may approve its requests: add a line like \`/${file.path} @org/team\` to ${files.codeownersPath}.`,
        });
      }
    }
    const probe = findOwners(parsed.rules, "policies/__new-policy__.yml");
    if (probe.owners.length === 0) {
      problems.push({
        file: files.codeownersPath,
        line: null,
        message:
          "does not cover new files in policies/: add `/policies/ @org/security` so a new or changed policy needs review.",
      });
    }
    if (findOwners(parsed.rules, files.codeownersPath).owners.length === 0) {
      problems.push({
        file: files.codeownersPath,
        line: null,
        message: `does not cover itself: add \`/${files.codeownersPath} @org/security\` so nobody can change who approves without review.`,
      });
    }
    if (files.workflowFiles) {
      const others = mustBeOwned(
        files.workflowFiles.map((w) => w.path),
        files.codeownersPath,
      ).filter((p) => p !== files.codeownersPath);
      problems.push(...ownershipProblems(parsed.rules, others, files.codeownersPath));
    }
  }
  if (files.workflowFiles) {
    problems.push(
      ...placeholderProblems([
        ...(files.codeownersPath && files.codeownersText !== null
          ? [{ path: files.codeownersPath, text: files.codeownersText }]
          : []),
        ...files.workflowFiles,
      ]),
    );
    problems.push(
      ...environmentProblems(
        policies.values(),
        files.workflowFiles.find((w) => w.path === GRANT_WORKFLOW)?.text ?? null,
      ),
    );
  }

  if (files.issueFormText === null) {
    problems.push({
      file: ".github/ISSUE_TEMPLATE/breakglass-request.yml",
      line: null,
      message: "the request form is missing (see `breakglass init`).",
    });
  } else {
    try {
      const template = parseTemplate(files.issueFormText) as Record<string, { options?: string[] }>;
      const options = template.resource?.options ?? [];
      const resources = [...policies.keys()];
      const optionsLine = lineOf(files.issueFormText, /^\s*options:/);
      for (const r of resources)
        if (!options.includes(r))
          problems.push({
            file: ".github/ISSUE_TEMPLATE/breakglass-request.yml",
            line: optionsLine,
            message: `the Resource dropdown lacks "${r}", which has a policy.`,
          });
      for (const o of options)
        if (!policies.has(o) && !errors.some((e) => e.file.endsWith(`/${o}.yml`)))
          problems.push({
            file: ".github/ISSUE_TEMPLATE/breakglass-request.yml",
            line:
              lineOf(
                files.issueFormText,
                new RegExp(`^\\s*-\\s*["']?${o.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}["']?\\s*$`),
              ) ?? optionsLine,
            message: `the Resource dropdown offers "${o}", which has no policy file.`,
          });
    } catch (error) {
      problems.push({
        file: ".github/ISSUE_TEMPLATE/breakglass-request.yml",
        line: null,
        message: `is not a valid issue form: ${(error as Error).message}`,
      });
    }
  }
  if (files.recipientsText) {
    for (const message of parseRecipients(files.recipientsText).errors) {
      const login = /^`([^`]+)`/.exec(message)?.[1];
      problems.push({
        file: RECIPIENTS_PATH,
        line: login
          ? lineOf(
              files.recipientsText,
              new RegExp(`^\\s*["']?${login.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}["']?\\s*:`),
            )
          : null,
        message,
      });
    }
  }
  return problems;
}
