import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs, promisify } from "node:util";
import { formatDuration } from "../../core/duration.ts";
import {
  signedLine,
  stepUpMessage,
  STEP_UP_NAMESPACE,
  type SignedPart,
  type SignedTarget,
  type StepUpKind,
} from "../../core/step-up.ts";
import type { RequestState } from "../../core/lifecycle.ts";
import { readRequest } from "../../audit/read-request.ts";
import { UsageError, UserError, type CliIO } from "../io.ts";
import { flagsIn, usageErrorFrom } from "../usage-error.ts";
import { connect, parseAppLogin, readKeys, withGitHubErrors, type AuditCommandDeps } from "./audit.ts";
import { RESPONDER_OPTIONS } from "../github-client.ts";

const run = promisify(execFile);

type CommandKind = Exclude<StepUpKind, "extend">;

const HELP = (kind: CommandKind) => `Usage: breakglass ${kind} <owner/repo#N> [options]

${kind === "approve" ? "Approves" : "Breaks the glass on"} a request with step-up proof: reads the request's current hash from the
app's records, shows you what you are about to ${kind === "approve" ? "approve" : "self-approve"}, signs exactly
  breakglass-${kind}\\n<owner>/<repo>#<N>\\n<request hash>\\n
with \`ssh-keygen -Y sign -n ${STEP_UP_NAMESPACE}\` (a FIDO2 key asks for a touch), and posts
\`/${kind}\` with the signature as your comment.${
  kind === "approve"
    ? `
When the request's grant is live and an extension is waiting, it approves the extension instead,
signing breakglass-extend\\n<owner>/<repo>#<N>\\n<extension hash>\\n.`
    : ""
}
On a request naming several resources, one signature covers each resource it approves, by name and
that resource's own hash (one line \`<resource> <hash>\` each instead of the request hash), so a
signature for one resource never counts for another.

Options:
  --key PATH        Signing key (default: the first of ~/.ssh/id_ed25519_sk, id_ecdsa_sk, id_ed25519, id_ecdsa, id_rsa)
  ${kind === "approve" ? "--note TEXT       A note for the approval" : "--reason TEXT     Why this cannot wait for an approver (required)"}
  --resource NAME   On a request naming several resources: sign for this resource only (default: every
                    resource still waiting for ${kind === "approve" ? "an approval or an extension's approval" : "a decision"}; the app takes each one whose policy you own)
  --jwks URL|FILE   Verify the app's records with its keys before signing (recommended: <app>/breakglass/jwks.json)
  --app-login NAME  The app's bot login (default: breakglass[bot])
  --api-url URL     GitHub API (default: $GITHUB_API_URL or https://api.github.com)
  --dry-run         Print the comment instead of posting it
  -h, --help        This help

The key must be on your GitHub account as a *signing* key (Settings → SSH and GPG keys → New SSH key →
Key type: Signing Key). The token comes from $GITHUB_TOKEN, $GH_TOKEN or \`gh auth token\`.
`;

const REF = /^([A-Za-z0-9-]{1,39})\/([A-Za-z0-9._-]{1,100})#(\d{1,9})$/;
const DEFAULT_KEYS = ["id_ed25519_sk", "id_ecdsa_sk", "id_ed25519", "id_ecdsa", "id_rsa"];

export interface ApproveDeps extends AuditCommandDeps {
  /** Runs ssh-keygen (tests pass the real one; the default is the one on PATH). */
  sshKeygen?: string;
}

export function command(kind: CommandKind) {
  return async function approve(args: string[], io: CliIO, deps: ApproveDeps = {}): Promise<number> {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        strict: true,
        allowPositionals: true,
        options: {
          key: { type: "string" },
          note: { type: "string" },
          reason: { type: "string" },
          jwks: { type: "string" },
          resource: { type: "string" },
          "dry-run": { type: "boolean" },
          ...RESPONDER_OPTIONS,
        },
      });
    } catch (error) {
      throw usageErrorFrom(error, flagsIn(HELP(kind))) ?? error;
    }
    const { values, positionals } = parsed;
    if (values.help) {
      io.stdout(HELP(kind));
      return 0;
    }
    if (positionals.length !== 1)
      throw new UsageError(
        `give exactly one request as owner/repo#N, e.g. breakglass ${kind} acme/ops#12 (see --help).`,
      );
    const ref = REF.exec(positionals[0]!.trim());
    if (!ref)
      throw new UsageError(
        `"${positionals[0]}" is not a request: write it as owner/repo#N, e.g. acme/ops#12.`,
      );
    const [, owner, repo, issueText] = ref as unknown as [string, string, string, string];
    const issue = Number(issueText);
    if (kind === "break-glass" && !values.reason?.trim())
      throw new UsageError("--reason is required: say why this cannot wait for an approver.");
    if (kind === "approve" && values.reason !== undefined)
      throw new UsageError("--reason is for break-glass; an approval takes --note.");
    if (kind === "break-glass" && values.note !== undefined)
      throw new UsageError("--note is for approve; break-glass takes --reason.");
    const key = findKey(values.key, io);

    const env = { ...io.env };
    if (!env.GITHUB_TOKEN?.trim() && !env.GH_TOKEN?.trim()) env.GITHUB_TOKEN = await ghToken();
    const repository = `${owner}/${repo}`;
    const port = connect(owner, repo, values["api-url"], { ...io, env }, deps);
    const jwks = values.jwks ? await readKeys(values.jwks, io, deps) : undefined;
    const reading = await withGitHubErrors(repository, () =>
      readRequest(port, issue, { appLogin: parseAppLogin(values["app-login"]), jwks }),
    );
    const { state } = reading;
    if (reading.chain.status === "broken")
      throw new UserError(
        `the app's records on ${repository}#${issue} do not verify (${reading.chain.problem}); do not sign them.`,
      );
    const verified =
      reading.chain.status === "verified"
        ? " (records verified)"
        : " (records not verified: pass --jwks to check them)";
    const chosen =
      state.parts === null
        ? oneResource(kind, state, repository, issue, values.resource)
        : severalResources(kind, state, repository, issue, values.resource);
    const { signing, target, lines } = chosen;
    io.stderr(
      [...lines(verified), `Signing with ${key} (touch your security key if it blinks)…`, ""].join("\n"),
    );
    const signature = await sign(
      deps.sshKeygen ?? "ssh-keygen",
      key,
      stepUpMessage(signing, repository, issue, target),
    );
    const text = kind === "approve" ? values.note?.trim() : values.reason!.trim();
    const body = [
      `/${kind}${text ? ` ${text.replace(/\s*\n\s*/g, " ")}` : ""}`,
      "",
      signedLine(signing, repository, issue, target),
      "",
      signature.trim(),
      "",
    ].join("\n");
    if (values["dry-run"]) {
      io.stdout(body);
      return 0;
    }
    const posted = await withGitHubErrors(repository, () => port.createComment(issue, body));
    io.stdout(`Posted ${posted.html_url}\n`);
    return 0;
  };
}

export function findKey(given: string | undefined, io: CliIO): string {
  if (given !== undefined) {
    const path = resolve(io.cwd, given.replace(/^~(?=\/)/, io.env.HOME ?? homedir()));
    if (!existsSync(path))
      throw new UserError(
        `no key at ${path}: give the private key file (not the .pub), e.g. --key ~/.ssh/id_ed25519_sk.`,
      );
    return path;
  }
  const dir = join(io.env.HOME ?? homedir(), ".ssh");
  const found = DEFAULT_KEYS.map((name) => join(dir, name)).find((p) => existsSync(p));
  if (!found)
    throw new UserError(
      `no signing key found in ${dir}: make one with \`ssh-keygen -t ed25519-sk\` (a security key) and add its .pub to GitHub as a signing key, or pass --key.`,
    );
  return found;
}

async function ghToken(): Promise<string> {
  try {
    const { stdout } = await run("gh", ["auth", "token"], { timeout: 10_000 });
    const token = stdout.trim();
    if (token) return token;
  } catch {
    /* fall through to the advice below */
  }
  throw new UserError("no GitHub token: set GITHUB_TOKEN (or GH_TOKEN), or log in with `gh auth login`.");
}

export async function sign(sshKeygen: string, key: string, message: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "breakglass-sign-"));
  try {
    const file = join(dir, "request");
    await writeFile(file, message, { mode: 0o600 });
    try {
      await run(sshKeygen, ["-Y", "sign", "-n", STEP_UP_NAMESPACE, "-f", key, file], { timeout: 120_000 });
    } catch (error) {
      const detail = ((error as { stderr?: string }).stderr ?? (error as Error).message)
        .trim()
        .split("\n")
        .pop();
      throw new UserError(
        `ssh-keygen could not sign with ${key}: ${detail}. Is it the private key, and is the security key plugged in?`,
      );
    }
    return await readFile(`${file}.sig`, "utf8");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** What is signed, and the summary shown before signing. */
interface Chosen {
  signing: StepUpKind;
  target: SignedTarget;
  lines: (verified: string) => string[];
}

function describe(r: NonNullable<RequestState["request"]>, indent = "  "): string[] {
  return [
    `${indent}resource   ${r.resource}`,
    `${indent}role       ${r.role}`,
    `${indent}duration   ${formatDuration(r.duration_seconds)}`,
  ];
}

/** A request for one resource: its hash, or the hash of the extension waiting on its live grant. */
function oneResource(
  kind: CommandKind,
  state: RequestState,
  repository: string,
  issue: number,
  resource: string | undefined,
): Chosen {
  if (!state.request || !state.hash)
    throw new UserError(
      `${repository}#${issue} has no valid request in the app's records (it is ${state.status}); nothing to sign.`,
    );
  if (resource !== undefined && resource !== state.request.resource)
    throw new UsageError(
      `${repository}#${issue} requests ${state.request.resource} only, not "${resource}": leave --resource out.`,
    );
  // A live grant with an extension waiting: the approval is of the extension, signed over its own hash.
  const extension = kind === "approve" && state.status === "active" ? state.extension : null;
  if (state.status !== "requested" && !extension) {
    throw new UserError(
      `${repository}#${issue} is ${state.status.replace(/_/g, " ")}, not waiting for approval${state.status === "active" ? " (no extension is waiting)" : ""}; nothing to sign.`,
    );
  }
  const r = state.request;
  const hash = extension ? extension.hash : state.hash;
  return {
    signing: extension ? "extend" : kind,
    target: hash,
    lines: (verified) => [
      extension
        ? `Approving the extension of the live grant on ${repository}#${issue}${verified}:`
        : `${kind === "approve" ? "Approving" : "Breaking the glass on"} ${repository}#${issue}${verified}:`,
      `  requester  @${state.requester}`,
      ...describe(r),
      `  severity   ${r.severity}`,
      `  reason     ${r.justification.replace(/\s+/g, " ").slice(0, 200)}`,
      ...(extension
        ? [
            `  grant ends ${state.grant?.expires_at ?? "?"}`,
            `  extend by  ${formatDuration(extension.seconds)} (asked by @${extension.actor})`,
            `  why        ${extension.reason.replace(/\s+/g, " ").slice(0, 200)}`,
            `  extension  ${extension.hash}`,
          ]
        : [`  hash       ${state.hash}`]),
    ],
  };
}

/**
 * A request naming several resources: the resources waiting for this kind of decision (or the one
 * `--resource` names), each bound by name and its own hash. Approvals of a request and of extensions
 * are signed apart (one kind per signature): without --resource, requests waiting come first.
 */
function severalResources(
  kind: CommandKind,
  state: RequestState,
  repository: string,
  issue: number,
  resource: string | undefined,
): Chosen {
  const parts = Object.entries(state.parts ?? {});
  const names = parts.map(([name]) => name).join(", ");
  const waiting = (s: RequestState): StepUpKind | null =>
    s.status === "requested" && s.hash
      ? kind
      : kind === "approve" && s.status === "active" && s.extension
        ? "extend"
        : null;
  let chosen: Array<[string, RequestState]>;
  if (resource !== undefined) {
    const part = parts.find(([name]) => name === resource);
    if (!part)
      throw new UsageError(`${repository}#${issue} names no resource "${resource}": it names ${names}.`);
    if (!waiting(part[1]))
      throw new UserError(
        `${resource} on ${repository}#${issue} is ${part[1].status.replace(/_/g, " ")}, not waiting for ${kind === "approve" ? "approval" : "a decision"}${part[1].status === "active" ? " (no extension is waiting)" : ""}; nothing to sign.`,
      );
    chosen = [part];
  } else {
    const open = parts.filter(([, s]) => waiting(s) !== null);
    const first = open.some(([, s]) => waiting(s) === kind) ? kind : "extend";
    chosen = open.filter(([, s]) => waiting(s) === first);
    if (!chosen.length)
      throw new UserError(
        `no resource of ${repository}#${issue} is waiting for ${kind === "approve" ? "approval" : "a decision"} (${parts.map(([n, s]) => `${n}: ${s.status.replace(/_/g, " ")}`).join(", ")}); nothing to sign.`,
      );
  }
  const signing = waiting(chosen[0]![1])!;
  const target: SignedPart[] = chosen.map(([name, s]) => ({
    resource: name,
    hash: signing === "extend" ? s.extension!.hash : s.hash!,
  }));
  const first = chosen[0]![1].request!;
  return {
    signing,
    target,
    lines: (verified) => [
      `${signing === "extend" ? "Approving the extension of" : kind === "approve" ? "Approving" : "Breaking the glass on"} ${chosen.length === 1 ? "one resource" : `${chosen.length} resources`} of ${repository}#${issue}${verified} (it names ${names}):`,
      ...(resource === undefined
        ? [`  (the app takes each one whose policy you own and refuses the others; --resource signs one)`]
        : []),
      `  requester  @${state.requester}`,
      `  severity   ${first.severity}`,
      `  reason     ${first.justification.replace(/\s+/g, " ").slice(0, 200)}`,
      ...chosen.flatMap(([name, s]) => [
        `  ${name}`,
        ...describe(s.request!, "    ").slice(1),
        ...(signing === "extend"
          ? [
              `    grant ends ${s.grant?.expires_at ?? "?"}`,
              `    extend by  ${formatDuration(s.extension!.seconds)} (asked by @${s.extension!.actor})`,
              `    why        ${s.extension!.reason.replace(/\s+/g, " ").slice(0, 200)}`,
              `    extension  ${s.extension!.hash}`,
            ]
          : [`    hash       ${s.hash}`]),
      ]),
    ],
  };
}
