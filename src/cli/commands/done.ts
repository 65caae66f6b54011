import { parseArgs } from "node:util";
import { DEFAULT_APP_LOGIN } from "../../audit/app-records.ts";
import { LIVE } from "../../core/lifecycle.ts";
import { oneRequest, RESPONDER_OPTIONS, responderGitHub, withGitHub } from "../github-client.ts";
import { UserError, type CliIO } from "../io.ts";
import { readRequestRecords } from "../request-records.ts";

const HELP = `Usage: breakglass done OWNER/REPO#N [--reason TEXT] [--no-wait]

Ends your grant now: comments /revoke on the request, then waits until the app has revoked the
credential and verified it unusable (stderr shows the evidence).

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
    if (state.grant?.ended) {
      io.stderr(`${ref}: revoked and verified: ${state.grant.ended.evidence}\n`);
      return 0;
    }
    if (state.status === "revoke_failed")
      throw new UserError(
        `${ref}: revocation FAILED (${state.grant?.last_revocation_error ?? "see the issue"}); the app retries, and the approvers were alerted.`,
      );
    if (Date.now() >= deadline)
      throw new UserError(
        `${ref}: /revoke was posted but the app has not recorded the revocation yet; look at the issue.`,
      );
    await sleep(1000);
  }
}
