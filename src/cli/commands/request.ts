import { MAX_PARTS } from "../../core/request-pairs.ts";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { formatPolicyError, loadPolicies } from "../../core/policy.ts";
import { checkRequestBody } from "../../core/check-request.ts";
import { UsageError, UserError, type CliIO } from "../io.ts";
import { usageErrorFrom } from "../usage-error.ts";
import { ISSUE_FORM as ISSUE_FORM_PATH, readRepoFiles } from "../repo-files.ts";
import { parseRepo, responderGitHub } from "../github-client.ts";
import { openRequestIssue } from "../open-request.ts";

const HELP = `Usage: breakglass request --repo OWNER/REPO --resource R --role X --reason "…" [--duration 30m] [--more "R2 ROLE [30m]"]… [--severity high] [--incident URL] [--drill]
       breakglass request parse [--root DIR] < body.md

The first form opens a break-glass request issue on OWNER/REPO with exactly the body the
repository's request form (${ISSUE_FORM_PATH}) writes, its title and labels, and prints
owner/repo#N. Then \`breakglass credentials owner/repo#N\` waits for the grant.
  --repo OWNER/REPO   the repository that takes requests
  --resource R        the resource (a policy in policies/)
  --role X            the role to grant
  --reason TEXT       the justification (at least 20 characters)
  --duration D        how long, e.g. 30m (default: the policy's)
  --more "R ROLE [D]" another resource of the same request (repeat for each, up to 4 more);
                      each is approved by its own policy's owners and granted on its own
  --severity S        low, medium, high or critical (default: high)
  --incident URL      link to the incident
  --drill             this is a drill
  --api-url URL       GitHub API (default: $GITHUB_API_URL or https://api.github.com)
The token comes from $GITHUB_TOKEN, $GH_TOKEN or \`gh auth token\`.

The second form:

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
  const { subcommand, root, help, open } = parseCommandLine(args);
  if (help) {
    io.stdout(HELP);
    return 0;
  }
  if (open.repo !== undefined) {
    if (subcommand !== undefined)
      throw new UsageError(`unexpected argument "${subcommand}" with --repo (see --help).`);
    const { owner, repo } = parseRepo(open.repo);
    for (const flag of ["resource", "role", "reason"] as const)
      if (!open[flag]?.trim()) throw new UsageError(`--${flag} is required to open a request (see --help).`);
    checkMore(open.more ?? []);
    const github = await responderGitHub(io, open.apiUrl);
    const created = await openRequestIssue(github.octokit, owner, repo, {
      resource: open.resource!.trim(),
      role: open.role!.trim(),
      duration: open.duration,
      more: open.more,
      severity: open.severity?.trim() || "high",
      justification: open.reason!.trim(),
      incident: open.incident,
      drill: open.drill,
    });
    io.stderr(`Opened ${created.url}\nNext: breakglass credentials ${owner}/${repo}#${created.number}\n`);
    io.stdout(`${owner}/${repo}#${created.number}\n`);
    return 0;
  }
  if (subcommand !== "parse") {
    throw new UsageError(
      subcommand === undefined
        ? "say what to do: `breakglass request --repo owner/repo --resource R --role X --reason …`, or `breakglass request parse < body.md` (see --help)."
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
  const summary = (r: (typeof result.value)[number]) => ({
    resource: r.resource,
    role: r.role,
    duration_seconds: r.duration_seconds,
    severity: r.severity,
    justification: r.justification,
    incident: r.incident,
    drill: r.drill,
  });
  const request = summary(result.value[0]!);
  // A request naming several resources: every one, the form's own first (request is that one).
  const requests = result.value.length > 1 ? { requests: result.value.map(summary) } : {};
  io.stdout(`${JSON.stringify({ ok: true, request, ...requests })}\n`);
  return 0;
}

interface OpenOptions {
  repo?: string | undefined;
  resource?: string | undefined;
  role?: string | undefined;
  reason?: string | undefined;
  duration?: string | undefined;
  more?: string[] | undefined;
  severity?: string | undefined;
  incident?: string | undefined;
  drill: boolean;
  apiUrl?: string | undefined;
}

function parseCommandLine(args: string[]): {
  subcommand: string | undefined;
  root: string | undefined;
  help: boolean;
  open: OpenOptions;
} {
  try {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        root: { type: "string" },
        help: { type: "boolean", short: "h" },
        repo: { type: "string" },
        resource: { type: "string" },
        role: { type: "string" },
        reason: { type: "string" },
        duration: { type: "string" },
        more: { type: "string", multiple: true },
        severity: { type: "string" },
        incident: { type: "string" },
        drill: { type: "boolean" },
        "api-url": { type: "string" },
      },
    });
    const open: OpenOptions = {
      repo: values.repo,
      resource: values.resource,
      role: values.role,
      reason: values.reason,
      duration: values.duration,
      more: values.more,
      severity: values.severity,
      incident: values.incident,
      drill: values.drill ?? false,
      apiUrl: values["api-url"],
    };
    if (positionals.length > 1)
      throw new UsageError(
        `unexpected argument "${positionals[1]}"; the body is read from stdin (see --help).`,
      );
    return { subcommand: positionals[0], root: values.root, help: values.help ?? false, open };
  } catch (error) {
    throw (
      usageErrorFrom(error, [
        "--root",
        "--help",
        "--repo",
        "--resource",
        "--role",
        "--reason",
        "--duration",
        "--more",
        "--severity",
        "--incident",
        "--drill",
        "--api-url",
      ]) ?? error
    );
  }
}

/**
 * Each `--more` is one line of the form's More resources, `<resource> <role> [duration]`, and a request
 * names at most MAX_PARTS resources: anything else is refused here, before an issue is opened that the
 * app would only mark invalid (a newline or a `###` heading would even write other fields of the form).
 */
function checkMore(more: string[]): void {
  if (more.length + 1 > MAX_PARTS)
    throw new UsageError(
      `a request names at most ${MAX_PARTS} resources: --resource and up to ${MAX_PARTS - 1} --more (this names ${more.length + 1}).`,
    );
  for (const line of more) {
    const words = line.trim().split(/[ \t]+/);
    if (/[\r\n]/.test(line) || line.trim().startsWith("#") || words.length < 2 || words.length > 3)
      throw new UsageError(
        `--more "${line.replace(/[\r\n]+/g, "\\n")}" is not "RESOURCE ROLE [DURATION]" on one line (e.g. --more "github-admin admin 15m").`,
      );
  }
}
