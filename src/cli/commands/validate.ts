import { parseArgs } from "node:util";
import { formatPolicyError } from "../../core/policy.ts";
import { validateRepository } from "../../core/validate-setup.ts";
import { readRepoFiles } from "../repo-files.ts";
import type { CliIO } from "../io.ts";

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

export { validateRepository, type Problem } from "../../core/validate-setup.ts";

export async function run(args: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { root: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    io.stdout(HELP);
    return 0;
  }
  const root = values.root ?? io.cwd;
  const problems = validateRepository(await readRepoFiles(root));
  for (const p of problems)
    io.stderr(`${formatPolicyError({ file: p.file, line: p.line, message: p.message })}\n`);
  if (problems.length === 0) io.stdout("✔ policies, CODEOWNERS and the request form are consistent.\n");
  return problems.length === 0 ? 0 : 1;
}
