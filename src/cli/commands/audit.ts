import { subcommandHelp } from "../subcommand.ts";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import type { JSONWebKeySet } from "jose";
import type { GitHubPort } from "../../github/github-port.ts";
import { octokitPort } from "../../github/octokit-port.ts";
import { DEFAULT_APP_LOGIN } from "../../audit/app-records.ts";
import { collectAudit } from "../../audit/collect.ts";
import { renderAccessReviewExport } from "../../audit/access-review-export.ts";
import {
  EXPORT_FORMATS,
  formatForPath,
  isExportFormat,
  renderExport,
  type ExportFormat,
} from "../../audit/formats.ts";
import { loadJwks } from "../../audit/load-jwks.ts";
import { parseChainRecords } from "../../audit/parse-jsonl.ts";
import { renderProgressBar } from "../../audit/progress-bar.ts";
import { verifyChainRecords, type VerifyReport } from "../../audit/verify-records.ts";
import { verifyRepository } from "../../audit/verify-repository.ts";
import { collectMetricsExport, renderMetricsExport } from "../../audit/metrics-export.ts";
import { UsageError, UserError, type CliIO } from "../io.ts";
import { usageErrorFrom } from "../usage-error.ts";

const HELP = `Usage: breakglass audit export --repo owner/name [options]
       breakglass audit verify (--repo owner/name | --file entries.jsonl) --jwks URL|FILE [options]

export: one row per break-glass request, read from the app's signed records.
  --repo owner/name      the repository whose request issues to read (required)
  --since DATE           only requests made on or after DATE (2026-01-01 or an ISO 8601 time)
  --until DATE           only requests made before DATE; a plain date includes that whole day (UTC)
  --resource NAME        only requests for this resource (policy name)
  --format FORMAT        json (default), jsonl, csv, md or html; guessed from --out's extension
  --out FILE             write to FILE instead of standard output
  --jwks URL|FILE        the app's public keys (https://<app>/breakglass/jwks.json); without them the
                         records are read but marked unverified
  --access-reviews       export the periodic access reviews instead (one row per resource of each
                         review started in the window; status confirmed, to_confirm or overdue);
                         md and html reports include them as a section anyway
  --metrics              export the monthly metrics instead, as the app posted them: the figures
                         from their signed ledger records (an edit of the issue changes nothing)
  --app-login LOGIN      the app's bot login (default ${DEFAULT_APP_LOGIN})
  --api-url URL          GitHub API (default: $GITHUB_API_URL or https://api.github.com)

  jsonl writes every record as {"repo","issue","jws"}, one per line: take it away and check it
  offline with \`breakglass audit verify --file\`.

verify: checks every hash chain and every signature, and names the first break (issue, entry, reason).
  --repo owner/name      verify the records as they are on GitHub now
  --file FILE            verify an export made with --format jsonl ("-" reads standard input)
  --jwks URL|FILE        the app's public keys (required)
  --app-login, --api-url as above
  Exit 0 when every chain verifies, 1 on any break. A file cut short after a whole entry still
  verifies: compare its entry counts with GitHub (verify --repo) to rule that out.

The token comes from $GITHUB_TOKEN (or $GH_TOKEN) and needs read access to the repository's issues.
`;

const REPO = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9_.-]{1,100})$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;
const DAY_MS = 86_400_000;

/** What tests replace: how to reach GitHub, whether stderr is a terminal, the clock and fetch. */
export interface AuditCommandDeps {
  portFor?: (input: { owner: string; repo: string; token: string; apiUrl: string }) => GitHubPort;
  isTTY?: boolean;
  now?: () => number;
  fetch?: typeof fetch;
}

export async function run(args: string[], io: CliIO, deps: AuditCommandDeps = {}): Promise<number> {
  const helped = subcommandHelp(args, io, HELP);
  if (helped !== null) return helped;
  const [sub, ...rest] = args as [string, ...string[]];
  if (sub === "export") return exportCommand(rest, io, deps);
  if (sub === "verify") return verifyCommand(rest, io, deps);
  throw new UsageError(
    `unknown subcommand "${sub}": use \`breakglass audit export\` or \`breakglass audit verify\` (see --help).`,
  );
}

async function exportCommand(args: string[], io: CliIO, deps: AuditCommandDeps): Promise<number> {
  const values = parse(args, {
    repo: { type: "string" },
    since: { type: "string" },
    until: { type: "string" },
    resource: { type: "string" },
    format: { type: "string" },
    out: { type: "string" },
    jwks: { type: "string" },
    "app-login": { type: "string" },
    "api-url": { type: "string" },
    "access-reviews": { type: "boolean" },
    metrics: { type: "boolean" },
  });
  const { owner, repo } = parseRepo(values.repo);
  const since = values.since === undefined ? undefined : parseDate(values.since, "since", "start");
  const until = values.until === undefined ? undefined : parseDate(values.until, "until", "end");
  if (since && until && Date.parse(since) >= Date.parse(until)) {
    throw new UserError(
      `--since ${values.since} is not before --until ${values.until}: give a --since earlier than --until.`,
    );
  }
  const format = chooseFormat(values.format, values.out);
  const resource = values.resource?.trim();
  if (resource === "")
    throw new UserError("--resource is empty: give a resource name such as prod-database.");
  const appLogin = parseAppLogin(values["app-login"]);
  const jwks = values.jwks === undefined ? undefined : await readKeys(values.jwks, io, deps);
  const port = connect(owner, repo, values["api-url"], io, deps);
  const progress = progressReporter(io, deps);
  const collection = await withGitHubErrors(`${owner}/${repo}`, () =>
    collectAudit(port, {
      ...(since ? { since } : {}),
      ...(until ? { until } : {}),
      ...(resource ? { resource } : {}),
      appLogin,
      ...(jwks ? { jwks } : {}),
      now: (deps.now ?? Date.now)(),
      onProgress: progress.update,
      accessReviews: true,
    }),
  );
  progress.done();
  const text =
    (values as Record<string, unknown>)["access-reviews"] === true
      ? renderAccessReviewExport(format, collection.repository, collection.access_reviews!)
      : (values as Record<string, unknown>).metrics === true
        ? renderMetricsExport(
            format,
            collection.repository,
            await withGitHubErrors(`${owner}/${repo}`, () =>
              collectMetricsExport(port, {
                jwks,
                since: since ? Date.parse(since) : null,
                until: until ? Date.parse(until) : null,
              }),
            ),
          )
        : await renderExport(format, collection);
  if (values.out) {
    const file = resolve(io.cwd, values.out);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text, "utf8");
    io.stderr(`Wrote ${collection.rows.length} request(s) as ${format} to ${values.out}.\n`);
  } else {
    io.stdout(text);
  }
  if (!jwks) {
    io.stderr(
      `Note: the records were not verified (no --jwks); every row says chain_status "unverified". Pass --jwks https://<app>/breakglass/jwks.json to check them.\n`,
    );
  }
  const broken = collection.rows.filter((r) => r.chain_status === "broken");
  if (broken.length > 0) {
    io.stderr(
      `Warning: ${broken.length} audit chain(s) are broken (${broken.map((r) => `#${r.issue}`).join(", ")}); run \`breakglass audit verify\` for details.\n`,
    );
  }
  return 0;
}

async function verifyCommand(args: string[], io: CliIO, deps: AuditCommandDeps): Promise<number> {
  const values = parse(args, {
    repo: { type: "string" },
    file: { type: "string" },
    jwks: { type: "string" },
    "app-login": { type: "string" },
    "api-url": { type: "string" },
  });
  if ((values.repo === undefined) === (values.file === undefined)) {
    throw new UserError(
      "give exactly one of --repo owner/name (verify on GitHub) or --file entries.jsonl (verify an export).",
    );
  }
  if (values.jwks === undefined) {
    throw new UserError(
      "verify needs the app's public keys: add --jwks https://<your app>/breakglass/jwks.json (or a file holding that JSON).",
    );
  }
  const jwks = await readKeys(values.jwks, io, deps);
  let report: VerifyReport;
  if (values.file !== undefined) {
    const text =
      values.file === "-"
        ? await io.readStdin()
        : await readFile(resolve(io.cwd, values.file), "utf8").catch(() => {
            throw new UserError(
              `cannot read ${values.file}: give the path of a file written by \`breakglass audit export --format jsonl\`.`,
            );
          });
    const records = parseChainRecords(text);
    if (!records.ok)
      throw new UserError(`${values.file === "-" ? "standard input" : values.file}: ${records.error}`);
    report = await verifyChainRecords(records.value, jwks);
  } else {
    const { owner, repo } = parseRepo(values.repo);
    const port = connect(owner, repo, values["api-url"], io, deps);
    const progress = progressReporter(io, deps);
    report = await withGitHubErrors(`${owner}/${repo}`, () =>
      verifyRepository(port, {
        appLogin: parseAppLogin(values["app-login"]),
        jwks,
        onProgress: progress.update,
      }),
    );
    progress.done();
  }
  io.stdout(describeReport(report));
  return report.ok ? 0 : 1;
}

/** One line per chain, then the verdict; the first break is repeated last so it cannot be missed. */
export function describeReport(report: VerifyReport): string {
  const lines: string[] = [];
  for (const chain of report.chains) {
    const name = `${chain.repository}#${chain.issue}`;
    lines.push(
      chain.ok
        ? `ok      ${name}: ${entries(chain.entries)} verified`
        : `BROKEN  ${name}: entry ${chain.break!.index}: ${stripEntryPrefix(chain.break!.reason, chain.break!.index)}`,
    );
    for (const note of chain.notes) lines.push(`        note: ${note}`);
  }
  if (report.chains.length === 0) lines.push("No request issues with records were found.");
  const broken = report.chains.filter((c) => !c.ok);
  lines.push("");
  if (report.firstBroken) {
    const first = report.firstBroken;
    lines.push(
      `FAILED: ${broken.length} of ${report.chains.length} chain(s) broken. First break: ${first.repository}#${first.issue}, entry ${first.break!.index}: ${stripEntryPrefix(first.break!.reason, first.break!.index)}`,
    );
  } else {
    lines.push(
      `OK: ${report.chains.length} chain(s), ${entries(report.entries)}, every hash link and signature verified.`,
    );
  }
  return `${lines.join("\n")}\n`;
}

const entries = (n: number): string => `${n} ${n === 1 ? "entry" : "entries"}`;

/** verifyChain's reasons start with "entry N: "; the report names the entry itself. */
const stripEntryPrefix = (reason: string, index: number): string =>
  reason.replace(new RegExp(`^entry ${index}: `), "");

function parse<T extends Record<string, { type: "string" | "boolean" }>>(
  args: string[],
  options: T,
): Record<keyof T, string | undefined> {
  try {
    const { values, positionals } = parseArgs({ args, options, strict: true, allowPositionals: true });
    if (positionals.length > 0)
      throw new UsageError(
        `unexpected argument "${positionals[0]}": every value needs its option, e.g. --repo owner/name (see --help).`,
      );
    return values as unknown as Record<keyof T, string | undefined>;
  } catch (error) {
    throw usageErrorFrom(error, [...Object.keys(options).map((o) => `--${o}`), "--help"]) ?? error;
  }
}

function parseRepo(value: string | undefined): { owner: string; repo: string } {
  if (value === undefined)
    throw new UserError("--repo is required: give the repository as owner/name, e.g. --repo acme/ops.");
  const match = REPO.exec(value.trim());
  if (!match || match[2] === "." || match[2] === "..") {
    throw new UserError(
      `--repo "${value}" is not a repository: write it as owner/name, e.g. --repo acme/ops.`,
    );
  }
  return { owner: match[1]!, repo: match[2]! };
}

/** A plain date means the start of that UTC day for --since and the end of it for --until. */
export function parseDate(value: string, name: string, edge: "start" | "end"): string {
  const text = value.trim();
  const hint = `write it as 2026-01-31 or 2026-01-31T12:00:00Z`;
  if (DATE_ONLY.test(text)) {
    const ms = Date.parse(`${text}T00:00:00Z`);
    if (!Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 10) !== text)
      throw new UserError(`--${name} ${value} is not a real date: ${hint}.`);
    return new Date(edge === "start" ? ms : ms + DAY_MS).toISOString();
  }
  if (DATE_TIME.test(text)) {
    const ms = Date.parse(text);
    if (!Number.isFinite(ms) || !sameCalendarDay(text))
      throw new UserError(`--${name} ${value} is not a real time: ${hint}.`);
    return new Date(ms).toISOString();
  }
  throw new UserError(`--${name} ${value} is not a date: ${hint}.`);
}

/** Date.parse rolls "02-30" over to March; a typo in an audit window must not widen it silently. */
function sameCalendarDay(text: string): boolean {
  const [y, m, d] = text.slice(0, 10).split("-").map(Number) as [number, number, number];
  const probe = new Date(Date.UTC(y, m - 1, d));
  return (
    probe.getUTCFullYear() === y &&
    probe.getUTCMonth() === m - 1 &&
    probe.getUTCDate() === d &&
    Number(text.slice(11, 13)) < 24 &&
    Number(text.slice(14, 16)) < 60
  );
}

function chooseFormat(format: string | undefined, out: string | undefined): ExportFormat {
  if (format !== undefined) {
    const name = format.trim().toLowerCase();
    if (!isExportFormat(name))
      throw new UserError(`unknown --format "${format}": use one of ${EXPORT_FORMATS.join(", ")}.`);
    return name;
  }
  return (out ? formatForPath(out) : null) ?? "json";
}

export function parseAppLogin(value: string | undefined): string {
  const login = (value ?? DEFAULT_APP_LOGIN).trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,38}\[bot\]$/.test(login)) {
    throw new UserError(
      `--app-login "${value}" is not an app's bot login: write it as <app-slug>[bot], e.g. ${DEFAULT_APP_LOGIN}.`,
    );
  }
  return login;
}

export async function readKeys(source: string, io: CliIO, deps: AuditCommandDeps): Promise<JSONWebKeySet> {
  const loaded = await loadJwks(source, { cwd: io.cwd, ...(deps.fetch ? { fetch: deps.fetch } : {}) });
  if (!loaded.ok) throw new UserError(loaded.error);
  return loaded.value;
}

export function connect(
  owner: string,
  repo: string,
  apiUrlOption: string | undefined,
  io: CliIO,
  deps: AuditCommandDeps,
): GitHubPort {
  const token = io.env.GITHUB_TOKEN?.trim() || io.env.GH_TOKEN?.trim();
  if (!token) {
    throw new UserError(
      "no GitHub token: set GITHUB_TOKEN (or GH_TOKEN) to a token that can read the repository's issues, e.g. GITHUB_TOKEN=$(gh auth token).",
    );
  }
  const apiUrl = (apiUrlOption ?? io.env.GITHUB_API_URL ?? "https://api.github.com")
    .trim()
    .replace(/\/+$/, "");
  let url: URL;
  try {
    url = new URL(apiUrl);
  } catch {
    throw new UserError(
      `the API URL "${apiUrl}" is not a URL: use https://api.github.com or https://<your GHES host>/api/v3.`,
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new UserError(`the API URL "${apiUrl}" must start with https:// (or http:// for a local sandbox).`);
  }
  if (deps.portFor) return deps.portFor({ owner, repo, token, apiUrl });
  const RetryingOctokit = Octokit.plugin(retry, throttling);
  const octokit = new RetryingOctokit({
    auth: token,
    baseUrl: apiUrl,
    userAgent: "breakglass-audit",
    // Each failed request would be logged as an error; the final failure is reported once, with advice.
    log: {
      debug: () => undefined,
      info: () => undefined,
      warn: (m: string) => io.stderr(`${m}\n`),
      error: () => undefined,
    },
    throttle: {
      onRateLimit: (after: number, _options: unknown, _o: unknown, retryCount: number) => {
        io.stderr(`GitHub rate limit reached; waiting ${after}s before retrying.\n`);
        return retryCount < 2;
      },
      onSecondaryRateLimit: (after: number, _options: unknown, _o: unknown, retryCount: number) => {
        io.stderr(`GitHub secondary rate limit; waiting ${after}s before retrying.\n`);
        return retryCount < 2;
      },
    },
  });
  return octokitPort(octokit, owner, repo);
}

/** Turns GitHub's refusals into what the person should do about them. */
export async function withGitHubErrors<T>(repository: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const status = (error as { status?: unknown }).status;
    const anyStatus = status ?? (error as { cause?: { status?: unknown } }).cause?.status;
    const detail = (error as Error).message;
    if (anyStatus === 401)
      throw new UserError(
        `GitHub refused the token (401): set GITHUB_TOKEN to a valid token that can read ${repository}.`,
      );
    if (anyStatus === 403)
      throw new UserError(
        `GitHub refused access to ${repository} (403: ${detail}): the token needs read access to its issues, or wait for the rate limit to reset.`,
      );
    if (status === 404)
      throw new UserError(
        `${repository} was not found (404): check --repo and --api-url, and that the token can see the repository.`,
      );
    const noResponse = status === 500 && (error as { response?: unknown }).response === undefined;
    if (noResponse || /fetch failed|ECONNREFUSED|ENOTFOUND|EAI_AGAIN/i.test(detail))
      throw new UserError(
        `cannot reach GitHub (${detail}): check --api-url or GITHUB_API_URL and your connection.`,
      );
    throw error;
  }
}

/** A progress bar on stderr when it is a terminal; nothing at all otherwise (logs stay clean). */
function progressReporter(
  io: CliIO,
  deps: AuditCommandDeps,
): { update: (done: number, total: number) => void; done: () => void } {
  const tty = deps.isTTY ?? process.stderr.isTTY === true;
  let drawn = false;
  return {
    update: (done, total) => {
      if (!tty) return;
      io.stderr(renderProgressBar(done, total));
      drawn = true;
    },
    done: () => {
      if (drawn) io.stderr("\n");
    },
  };
}
