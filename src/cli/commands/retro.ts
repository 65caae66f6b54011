import { parseArgs } from "node:util";
import { UsageError, type CliIO } from "../io.ts";
import { usageErrorFrom } from "../usage-error.ts";
import { parseRepo, responderGitHub } from "../github-client.ts";
import { openRequestIssue } from "../open-request.ts";

const HELP = `Usage: breakglass retro --repo OWNER/REPO --resource R --role X --started TIME --ended TIME --reason "…"
                       [--severity critical] [--incident URL] [--api-url URL]

Records access that was taken outside Breakglass while GitHub or the app was down (see
docs/fallback-procedure.md). It opens a request issue marked retroactive, with the body the
repository's request form writes. Breakglass never issues credentials for it: it needs the policy's
approvals after the fact (\`/approve\` by the resource's owners, or \`/deny <reason>\`), then it is
closed and its post-event review opens.
  --repo OWNER/REPO   the repository that takes requests
  --resource R        the resource (a policy in policies/)
  --role X            the role that was used
  --started TIME      when the access started, with a zone: 2026-11-24T08:00Z
  --ended TIME        when it ended (credential revoked or rotated): 2026-11-24T09:30Z
  --reason TEXT       what happened and what was done (at least 20 characters)
  --severity S        low, medium, high or critical (default: critical)
  --incident URL      link to the incident
  --api-url URL       GitHub API (default: $GITHUB_API_URL or https://api.github.com)
The token comes from $GITHUB_TOKEN, $GH_TOKEN or \`gh auth token\`. Prints owner/repo#N.
`;

export async function run(args: string[], io: CliIO): Promise<number> {
  const options = {
    repo: { type: "string" },
    resource: { type: "string" },
    role: { type: "string" },
    started: { type: "string" },
    ended: { type: "string" },
    reason: { type: "string" },
    severity: { type: "string" },
    incident: { type: "string" },
    "api-url": { type: "string" },
    help: { type: "boolean", short: "h" },
  } as const;
  let values: { [K in keyof typeof options]?: K extends "help" ? boolean : string };
  try {
    ({ values } = parseArgs({ args, options, strict: true, allowPositionals: false }));
  } catch (error) {
    throw usageErrorFrom(error, [...Object.keys(options).map((o) => `--${o}`)]) ?? error;
  }
  if (values.help) {
    io.stdout(HELP);
    return 0;
  }
  for (const flag of ["repo", "resource", "role", "started", "ended", "reason"] as const)
    if (!values[flag]?.trim())
      throw new UsageError(`--${flag} is required to record access taken outside Breakglass (see --help).`);
  const { owner, repo } = parseRepo(values.repo!);
  const github = await responderGitHub(io, values["api-url"]);
  const created = await openRequestIssue(github.octokit, owner, repo, {
    resource: values.resource!.trim(),
    role: values.role!.trim(),
    severity: values.severity?.trim() || "critical",
    justification: values.reason!.trim(),
    incident: values.incident,
    drill: false,
    retroactive: { started: values.started!.trim(), ended: values.ended!.trim() },
  });
  io.stderr(
    `Recorded ${created.url} (retroactive: no credentials are issued for it). Its owners approve it after the fact; Breakglass then closes it and opens the post-event review.\n`,
  );
  io.stdout(`${owner}/${repo}#${created.number}\n`);
  return 0;
}
