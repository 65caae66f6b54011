import { chmod, open, readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_APP_LOGIN } from "../../audit/app-records.ts";
import { parseDuration } from "../../core/duration.ts";
import { parseRecipients, RECIPIENTS_PATH } from "../../core/recipients.ts";
import {
  downloadArtifact,
  findCredentialsArtifact,
  identityFrom,
  openBundle,
  recipientOfIdentity,
  shellLines,
} from "../fetch-credentials.ts";
import { oneRequest, RESPONDER_OPTIONS, responderGitHub, withGitHub } from "../github-client.ts";
import { UsageError, UserError, type CliIO } from "../io.ts";
import { readRequestRecords } from "../request-records.ts";
import { requestPart } from "../request-part.ts";

const HELP = `Usage: breakglass credentials OWNER/REPO#N [--resource R] [--identity FILE] [--env-file PATH] [--timeout 30m]

Waits for the request's grant (showing its progress on stderr), downloads the run's
breakglass-credentials artifact through the GitHub API, decrypts it with your age identity and
prints shell exports on stdout:  eval "$(breakglass credentials acme/ops#12)"
For roles with \`delivery: age\`: the app encrypted the credentials to your key in ${RECIPIENTS_PATH}.

Options:
  --resource R      on a request naming several resources: the one whose credentials to fetch
  --identity FILE   your age identity (default: $BREAKGLASS_AGE_IDENTITY or ~/.config/age/breakglass.key)
  --env-file PATH   write NAME='value' lines to PATH (mode 0600) instead of printing exports
  --timeout D       give up after D (default: 30m)
  --poll D          how often to look (default: 5s)
  --app-login L     the app's bot login (default: ${DEFAULT_APP_LOGIN})
  --api-url URL     GitHub API (default: $GITHUB_API_URL or https://api.github.com)
  -h, --help        show this help
The token comes from $GITHUB_TOKEN, $GH_TOKEN or \`gh auth token\`.
`;

const ENDED_WORDS: Record<string, string> = {
  denied: "was denied",
  cancelled: "was cancelled",
  timed_out: "timed out",
  revoked: "is already revoked",
  expired: "has already expired",
  invalid: "is invalid: fix the issue body as the app's comment says",
};

export async function run(
  args: string[],
  io: CliIO,
  deps: { sleep?: (ms: number) => Promise<void>; now?: () => number } = {},
): Promise<number> {
  // A wrong command line is explained by main (usageErrorFrom with this command's --help).
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      identity: { type: "string" },
      resource: { type: "string" },
      "env-file": { type: "string" },
      timeout: { type: "string" },
      poll: { type: "string" },
      ...RESPONDER_OPTIONS,
    },
  });
  if (values.help) {
    io.stdout(HELP);
    return 0;
  }
  const { owner, repo, issue, ref } = oneRequest(positionals, "credentials");
  const seconds = (text: string | undefined, fallback: number, flag: string) => {
    if (text === undefined) return fallback;
    const d = /^\d+ms$/.test(text)
      ? { ok: true as const, value: Number(text.slice(0, -2)) / 1000 }
      : parseDuration(text);
    if (!d.ok) throw new UsageError(`--${flag} "${text}" is not a duration, e.g. 30m or 5s.`);
    return d.value;
  };
  const timeoutMs = seconds(values.timeout, 1800, "timeout") * 1000;
  const pollMs = seconds(values.poll, 5, "poll") * 1000;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = deps.now ?? Date.now;
  const appLogin = values["app-login"] ?? io.env.BREAKGLASS_APP_LOGIN ?? DEFAULT_APP_LOGIN;

  const identityPath = resolve(
    io.cwd,
    (
      values.identity ??
      io.env.BREAKGLASS_AGE_IDENTITY ??
      join(io.env.HOME ?? homedir(), ".config/age/breakglass.key")
    ).replace(/^~(?=\/)/, io.env.HOME ?? homedir()),
  );
  const identityText = await readFile(identityPath, "utf8").catch(() => {
    throw new UserError(
      `no age identity at ${identityPath}: make one with \`age-keygen -o ${identityPath}\` and list its recipient for you in ${RECIPIENTS_PATH}, or pass --identity.`,
    );
  });
  const identity = identityFrom(identityText, identityPath);
  const recipient = await recipientOfIdentity(identity, identityPath);

  const github = await responderGitHub(io, values["api-url"]);
  const { octokit } = github;
  await withGitHub(ref, () => octokit.rest.issues.get({ owner, repo, issue_number: issue }));
  const me = (await withGitHub("your GitHub user", () => octokit.rest.users.getAuthenticated())).data.login;
  // Checked before waiting: without a listed key the app cannot encrypt to you, and a wrong key cannot open it.
  const listed = await readRecipientFile(octokit, owner, repo);
  const yours = parseRecipients(listed).byLogin.get(me.toLowerCase());
  if (!yours)
    throw new UserError(
      `${RECIPIENTS_PATH} in ${owner}/${repo} lists no age recipient for @${me}: add \`${me}: ${recipient}\` in a reviewed pull request, then ask again.`,
    );
  if (yours !== recipient)
    throw new UserError(
      `your age identity (${identityPath}) is ${recipient}, but ${RECIPIENTS_PATH} lists ${yours} for @${me}: use the identity of that key (--identity).`,
    );

  const deadline = now() + timeoutMs;
  let said = "";
  const say = (line: string) => {
    if (line !== said) io.stderr(`${ref}: ${line}\n`);
    said = line;
  };
  for (;;) {
    const records = await withGitHub(ref, () => readRequestRecords(octokit, owner, repo, issue, appLogin));
    const state = requestPart(records.state, values.resource, ref);
    if (state.requester && state.requester.toLowerCase() !== me.toLowerCase())
      throw new UserError(
        `${ref} was requested by @${state.requester}, not you (@${me}): only the requester's key opens its credentials.`,
      );
    const ended = ENDED_WORDS[state.status];
    if (ended) throw new UserError(`${ref} ${ended}; no credentials to fetch.`);
    if (state.status === "active" && state.grant) {
      const runId = Number(state.grant.run_id.split("/")[0]);
      say(
        `granted (${state.grant.provider} ${state.grant.credential_id}, until ${state.grant.expires_at}); waiting for run ${runId}'s artifact…`,
      );
      const artifact = await withGitHub(`run ${runId} of ${owner}/${repo}`, () =>
        findCredentialsArtifact(octokit, owner, repo, runId),
      );
      if (artifact?.expired)
        throw new UserError(
          "the credentials artifact has expired (they are kept one day): ask for access again.",
        );
      if (artifact) {
        const zip = await downloadArtifact(github.apiUrl, github.token, owner, repo, artifact.id);
        const bundle = await openBundle(zip, identity, identityPath, recipient);
        if (values["env-file"]) {
          const path = resolve(io.cwd, values["env-file"]);
          const file = await open(path, "w", 0o600);
          try {
            await file.writeFile(shellLines(bundle.secrets, false));
          } finally {
            await file.close();
          }
          await chmod(path, 0o600);
          io.stderr(
            `${ref}: wrote ${Object.keys(bundle.secrets).length} variable(s) to ${path} (mode 0600). When you are done: breakglass done ${ref}\n`,
          );
        } else {
          io.stdout(shellLines(bundle.secrets, true));
          io.stderr(`${ref}: credentials ready. When you are done: breakglass done ${ref}\n`);
        }
        return 0;
      }
    } else if (state.status === "requested") {
      say(`waiting for approval (${state.approvals.length} of ${state.required_approvals})…`);
    } else if (state.status === "approved") {
      say(
        `approved; waiting for the grant run${state.refused_exchanges ? ` (${state.refused_exchanges} run(s) refused so far, see the issue)` : ""}…`,
      );
    } else if (state.status === "revoke_failed") {
      throw new UserError(`${ref}: revocation failed and is being retried; no credentials are handed out.`);
    } else {
      say(`waiting for the app to read the request (${state.status})…`);
    }
    if (now() >= deadline)
      throw new UserError(
        `${ref}: still no credentials after ${Math.round(timeoutMs / 1000)}s (the request is ${state.status.replace("_", " ")}); run the command again to keep waiting.`,
      );
    await sleep(pollMs);
  }
}

async function readRecipientFile(
  octokit: Awaited<ReturnType<typeof responderGitHub>>["octokit"],
  owner: string,
  repo: string,
): Promise<string | null> {
  try {
    const { data } = await octokit.rest.repos.getContent({
      owner,
      repo,
      path: RECIPIENTS_PATH,
      mediaType: { format: "raw" },
    });
    return typeof data === "string"
      ? data
      : Buffer.from((data as { content?: string }).content ?? "", "base64").toString("utf8");
  } catch (error) {
    if ((error as { status?: number }).status === 404) return null;
    throw error;
  }
}
