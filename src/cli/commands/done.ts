import { parseArgs } from "node:util";
import { DEFAULT_APP_LOGIN } from "../../audit/app-records.ts";
import { LIVE, partsOf } from "../../core/lifecycle.ts";
import { oneRequest, RESPONDER_OPTIONS, responderGitHub, withGitHub } from "../github-client.ts";
import { UserError, type CliIO } from "../io.ts";
import { readRequestRecords } from "../request-records.ts";

const HELP = `Usage: breakglass done OWNER/REPO#N [--reason TEXT] [--no-wait]

Ends your grant now: comments /revoke on the request, then waits until the app has revoked the
credential and verified it unusable (stderr shows the evidence). On a request naming several
resources, /revoke ends every live one, and this waits for each.

Options:
  --reason TEXT     said with the /revoke (default: "done")
  --no-wait         post /revoke and return
  --timeout D       how long to wait for the revocation (default: 2m)
  --app-login L     the app's bot login (default: ${DEFAULT_APP_LOGIN})
  --api-url URL     GitHub API (default: $GITHUB_API_URL or https://api.github.com)
  -h, --help        show this help
The token comes from $GITHUB_TOKEN, $GH_TOKEN or \`gh auth token\`.
`;

export async function run(
  args: string[],
  io: CliIO,
  deps: { sleep?: (ms: number) => Promise<void> } = {},
): Promise<number> {
  // A wrong command line is explained by main (usageErrorFrom with this command's --help).
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      reason: { type: "string" },
      "no-wait": { type: "boolean" },
      timeout: { type: "string" },
      ...RESPONDER_OPTIONS,
    },
  });
  if (values.help) {
    io.stdout(HELP);
    return 0;
  }
  const { owner, repo, issue, ref } = oneRequest(positionals, "done");
  const appLogin = values["app-login"] ?? io.env.BREAKGLASS_APP_LOGIN ?? DEFAULT_APP_LOGIN;
  const { octokit } = await responderGitHub(io, values["api-url"]);
  await withGitHub(ref, () => octokit.rest.issues.get({ owner, repo, issue_number: issue }));
  const before = (await readRequestRecords(octokit, owner, repo, issue, appLogin)).state;
  if (!LIVE.has(before.status))
    throw new UserError(
      `${ref} has no live grant (it is ${before.status.replace("_", " ")}); nothing to revoke.`,
    );
  // The resources live now (one for a plain request): /revoke ends each of them.
  const live = partsOf(before)
    .filter((p) => LIVE.has(p.state.status))
    .map((p) => p.part);
  const reason = (values.reason ?? "done").replace(/\s*\n\s*/g, " ").trim();
  const posted = await withGitHub(ref, () =>
    octokit.rest.issues.createComment({ owner, repo, issue_number: issue, body: `/revoke ${reason}` }),
  );
  io.stderr(`${ref}: posted /revoke (${posted.data.html_url})\n`);
  if (values["no-wait"]) return 0;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const timeoutMs = Number(/^(\d+)m$/.exec(values.timeout ?? "2m")?.[1] ?? "2") * 60_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { state } = await readRequestRecords(octokit, owner, repo, issue, appLogin);
    const parts = partsOf(state).filter((p) => live.includes(p.part));
    const what = (part: string | null) => (part === null ? ref : `${ref} (${part})`);
    const failed = parts.find((p) => p.state.status === "revoke_failed");
    if (failed)
      throw new UserError(
        `${what(failed.part)}: revocation FAILED (${failed.state.grant?.last_revocation_error ?? "see the issue"}); the app retries, and the approvers were alerted.`,
      );
    if (parts.length && parts.every((p) => p.state.grant?.ended)) {
      for (const p of parts)
        io.stderr(`${what(p.part)}: revoked and verified: ${p.state.grant!.ended!.evidence}\n`);
      return 0;
    }
    if (Date.now() >= deadline)
      throw new UserError(
        `${ref}: /revoke was posted but the app has not recorded the revocation yet; look at the issue.`,
      );
    await sleep(1000);
  }
}
