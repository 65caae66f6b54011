import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Octokit } from "@octokit/rest";
import { UserError, UsageError, type CliIO } from "./io.ts";

const run = promisify(execFile);
const REF = /^([A-Za-z0-9-]{1,39})\/([A-Za-z0-9._-]{1,100})#(\d{1,9})$/;
const REPO = /^([A-Za-z0-9-]{1,39})\/([A-Za-z0-9._-]{1,100})$/;

/** The responder's GitHub: a token from $GITHUB_TOKEN, $GH_TOKEN or `gh auth token`, and the API URL. */
export interface ResponderGitHub {
  octokit: Octokit;
  token: string;
  apiUrl: string;
}

export async function responderGitHub(
  io: CliIO,
  apiUrlOption: string | undefined,
  gh: (args: string[]) => Promise<string> = ghCli,
): Promise<ResponderGitHub> {
  let token = io.env.GITHUB_TOKEN?.trim() || io.env.GH_TOKEN?.trim() || "";
  if (!token) token = (await gh(["auth", "token"]).catch(() => "")).trim();
  if (!token)
    throw new UserError("no GitHub token: set GITHUB_TOKEN (or GH_TOKEN), or log in with `gh auth login`.");
  const apiUrl = (apiUrlOption ?? io.env.GITHUB_API_URL ?? "https://api.github.com")
    .trim()
    .replace(/\/+$/, "");
  if (!/^https?:\/\//.test(apiUrl))
    throw new UserError(`the API URL "${apiUrl}" must start with https:// (or http:// for a local sandbox).`);
  const octokit = new Octokit({
    auth: token,
    baseUrl: apiUrl,
    userAgent: "breakglass-cli",
    log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
  });
  return { octokit, token, apiUrl };
}

async function ghCli(args: string[]): Promise<string> {
  return (await run("gh", args, { timeout: 10_000 })).stdout;
}

export function parseRequestRef(text: string | undefined): { owner: string; repo: string; issue: number } {
  const match = REF.exec((text ?? "").trim());
  if (!match)
    throw new UsageError(`"${text ?? ""}" is not a request: write it as owner/repo#N, e.g. acme/ops#12.`);
  return { owner: match[1]!, repo: match[2]!, issue: Number(match[3]) };
}

/** The options every responder command (approve, credentials, done) takes besides its own. */
export const RESPONDER_OPTIONS = {
  "app-login": { type: "string" },
  "api-url": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** The one request (owner/repo#N) a responder command takes as its argument. */
export function oneRequest(
  positionals: readonly string[],
  command: string,
): { owner: string; repo: string; issue: number; ref: string } {
  if (positionals.length !== 1)
    throw new UsageError(
      `give exactly one request as owner/repo#N, e.g. breakglass ${command} acme/ops#12 (see --help).`,
    );
  const { owner, repo, issue } = parseRequestRef(positionals[0]);
  return { owner, repo, issue, ref: `${owner}/${repo}#${issue}` };
}

export function parseRepo(text: string | undefined): { owner: string; repo: string } {
  const match = REPO.exec((text ?? "").trim());
  if (!match) throw new UsageError(`--repo "${text ?? ""}" is not a repository: write it as owner/repo.`);
  return { owner: match[1]!, repo: match[2]! };
}

/** GitHub's refusals as one line saying what to do. */
export async function withGitHub<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status === 404) throw new UserError(`${what} does not exist, or your token cannot see it.`);
    if (status === 401)
      throw new UserError(
        `GitHub refused the token (401) for ${what}: log in again (gh auth login) or set a valid GITHUB_TOKEN.`,
      );
    if (status === 403) throw new UserError(`GitHub refused ${what} (403): ${(error as Error).message}`);
    if (status === 410) throw new UserError(`${what} is gone (410): ${(error as Error).message}`);
    throw error;
  }
}
