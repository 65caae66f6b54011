import { parse } from "yaml";
import { findOwners, type CodeownersRule } from "./codeowners.ts";
import { RECIPIENTS_PATH } from "./recipients.ts";
import type { Policy } from "./types.ts";

export interface SetupProblem {
  file: string;
  line: number | null;
  message: string;
}

/** What `breakglass init` writes where the user must put their own value. */
export const PLACEHOLDERS: ReadonlyArray<{ text: string; fix: string }> = [
  {
    text: "@your-org/",
    fix: "replace it with the team that approves (`breakglass init --owners @org/team --force`, or edit the line)",
  },
  {
    text: "your-org/breakglass@",
    fix: "point `uses:` at where you host the Breakglass action (`breakglass init --action owner/repo@ref`)",
  },
];

export const GRANT_WORKFLOW = ".github/workflows/breakglass-grant.yml";
const ENVIRONMENT_INPUT = /^\$\{\{\s*inputs\.environment\s*\}\}$/;

/** Placeholders left from `init` in CODEOWNERS and the workflows: a setup with them cannot work. */
export function placeholderProblems(files: Array<{ path: string; text: string }>): SetupProblem[] {
  const problems: SetupProblem[] = [];
  for (const file of files) {
    file.text.split("\n").forEach((line, i) => {
      if (/^\s*#/.test(line)) return;
      for (const p of PLACEHOLDERS)
        if (line.includes(p.text))
          problems.push({
            file: file.path,
            line: i + 1,
            message: `still has the placeholder \`${p.text}\` from \`breakglass init\`: ${p.fix}.`,
          });
    });
  }
  return problems;
}

/**
 * The environments the grant workflow's job can run in: any (the app passes the policy's as the
 * `environment` input), one literal name, or none.
 */
export function reachableEnvironments(workflowText: string): { any: true } | { any: false; names: string[] } {
  let doc: unknown;
  try {
    doc = parse(workflowText);
  } catch {
    return { any: false, names: [] };
  }
  const root = (doc ?? {}) as { on?: unknown; jobs?: Record<string, { environment?: unknown }> };
  const on = root.on as { workflow_dispatch?: { inputs?: Record<string, unknown> } } | undefined;
  const hasInput = Boolean(
    on &&
    typeof on === "object" &&
    on.workflow_dispatch?.inputs &&
    "environment" in on.workflow_dispatch.inputs,
  );
  const names: string[] = [];
  for (const job of Object.values(root.jobs ?? {})) {
    const env = job?.environment;
    const name =
      typeof env === "string"
        ? env
        : env && typeof env === "object"
          ? (env as { name?: unknown }).name
          : undefined;
    if (typeof name !== "string") continue;
    if (ENVIRONMENT_INPUT.test(name.trim()) && hasInput) return { any: true };
    names.push(name.trim());
  }
  return { any: false, names };
}

/** Every policy `environment` the grant workflow cannot run in: such a request is approved, then refused at the exchange. */
export function environmentProblems(policies: Iterable<Policy>, workflowText: string | null): SetupProblem[] {
  const needed = [...policies].filter((p) => p.environment);
  if (!needed.length) return [];
  if (workflowText === null)
    return [
      {
        file: GRANT_WORKFLOW,
        line: null,
        message: "is missing, so no request can be granted (see `breakglass init`).",
      },
    ];
  const reach = reachableEnvironments(workflowText);
  if (reach.any) return [];
  return needed
    .filter((p) => !reach.names.includes(p.environment!))
    .map((p) => ({
      file: p.path,
      line: null,
      message: `requires \`environment: ${p.environment}\`, which ${GRANT_WORKFLOW} never runs in, so every grant would be refused \`wrong_environment\`: give its job \`environment: \${{ inputs.environment }}\` and a workflow_dispatch input \`environment\` (as \`breakglass init\` writes it).`,
    }));
}

/** Files whose unreviewed change would change who approves, what is granted or who receives it. */
export function mustBeOwned(workflowPaths: string[], codeownersPath: string): string[] {
  return [codeownersPath, RECIPIENTS_PATH, ...workflowPaths];
}

export function ownershipProblems(
  rules: CodeownersRule[],
  paths: string[],
  codeownersPath: string,
): SetupProblem[] {
  return paths
    .filter((path) => findOwners(rules, path).owners.length === 0)
    .map((path) => ({
      file: codeownersPath,
      line: null,
      message: `does not cover ${path}: add \`/${path} @org/security\` so it cannot change without review.`,
    }));
}
