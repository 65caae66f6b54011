import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { formatPolicyError, loadPolicies } from "../../core/policy.ts";
import { checkRequestBody } from "../../core/check-request.ts";
import { UsageError, UserError, type CliIO } from "../io.ts";
import { usageErrorFrom } from "../usage-error.ts";
import { ISSUE_FORM as ISSUE_FORM_PATH, readRepoFiles } from "../repo-files.ts";

const HELP = `Usage: breakglass request parse [--root DIR] < body.md

Parses a break-glass request issue body (the Markdown the request issue form writes) from stdin
and validates it against the policies in DIR/policies/ and the form in DIR/${ISSUE_FORM_PATH}.

Prints one JSON line:
  {"ok":true,"request":{"resource","role","duration_seconds","severity","justification","incident","drill"}}   exit 0
  {"ok":false,"errors":[{"field","message"}]}                                                                 exit 1

Options:
  --root DIR   repository root holding policies/ and .github/ (default: the current directory)
  -h, --help   show this help

Broken policies or a missing issue form are reported on stderr, exit 1.
`;

export async function run(args: string[], io: CliIO): Promise<number> {
  const { subcommand, root, help } = parseCommandLine(args);
  if (help) {
    io.stdout(HELP);
    return 0;
  }
  if (subcommand !== "parse") {
    throw new UsageError(
      subcommand === undefined
        ? "say what to do: `breakglass request parse < body.md` (see --help)."
        : `unknown subcommand "${subcommand}"; the only one is \`parse\` (see --help).`,
    );
  }
  const repoRoot = resolve(io.cwd, root ?? ".");
  const files = await readRepoFiles(repoRoot);
  const { policies, errors } = loadPolicies(files.policyFiles);
  if (errors.length) {
    const lines = errors.map((e) => `  ${formatPolicyError(e)}`);
    throw new UserError(`fix the policies first (run \`breakglass validate\`):\n${lines.join("\n")}`);
  }
  if (files.issueFormText === null) {
    throw new UserError(
      `there is no issue form at ${ISSUE_FORM_PATH} under ${repoRoot}; requests are parsed with its labels. Pass --root with the repository root.`,
    );
  }

  const body = await io.readStdin();
  const result = checkRequestBody(body, files.issueFormText, policies);
  if (!result.ok) {
    io.stdout(
      `${JSON.stringify({ ok: false, errors: result.error.map(({ field, message }) => ({ field, message })) })}\n`,
    );
    return 1;
  }
  const r = result.value;
  const request = {
    resource: r.resource,
    role: r.role,
    duration_seconds: r.duration_seconds,
    severity: r.severity,
    justification: r.justification,
    incident: r.incident,
    drill: r.drill,
  };
  io.stdout(`${JSON.stringify({ ok: true, request })}\n`);
  return 0;
}

function parseCommandLine(args: string[]): {
  subcommand: string | undefined;
  root: string | undefined;
  help: boolean;
} {
  try {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { root: { type: "string" }, help: { type: "boolean", short: "h" } },
    });
    if (positionals.length > 1)
      throw new UsageError(
        `unexpected argument "${positionals[1]}"; the body is read from stdin (see --help).`,
      );
    return { subcommand: positionals[0], root: values.root, help: values.help ?? false };
  } catch (error) {
    throw usageErrorFrom(error, ["--root", "--help"]) ?? error;
  }
}
