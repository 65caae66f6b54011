import { REQUEST_LABEL } from "../../core/labels.ts";
import { readFile } from "node:fs/promises";
import { chmodSync, copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import yaml from "js-yaml";
import { verifyChain } from "../../core/audit-chain.ts";
import { parseDuration } from "../../core/duration.ts";
import { parsePublicKeyLine } from "../../core/sshsig.ts";
import { requestFormBody, type RequestFormInput } from "../../sandbox/request-body.ts";
import { SANDBOX_TEAMS, SANDBOX_USERS, startSandbox } from "../../sandbox/start-sandbox.ts";
import { readHistory } from "../../github/issue-records.ts";
import { UsageError, type CliIO } from "../io.ts";

const HELP = `Usage: breakglass simulate <scenario.yml> [--root DIR]

Runs a scenario through the real Breakglass app in the local sandbox and prints what happened as JSON:
{"state","approvals","grants":[{"provider","expires_at","revoked"}],"comments":[{"author","body"}],"issues_opened":[…],"audit":{"entries","verified"}}

Scenario:
  teams: { acme/dba: [bob, carol] }          # optional
  permissions: { mallory: read }             # optional
  signing_keys: { grace: ["ssh-ed25519 AAAA…"] }   # optional: people's GitHub *signing* keys
  steps:
    - open: { author: dave, form: { resource: prod-database, role: read, duration: 1h, severity: high, justification: "…" } }
    - open: { author: dave, body: "…issue-form Markdown…" }
    - comment: { author: bob, body: "/approve" }
    - approve_signed: { author: grace, key: keys/grace }   # \`breakglass approve\` with that private key
                                              # (relative to the scenario file); without key, the
                                              # sandbox makes the author a signing key and adds it
    - edit: { author: dave, body: "…" }        # or form: {…}
    - edit_comment: { index: 1, body: "/approve" }   # 0-based index among the scenario's comments
    - delete_comment: { index: 1 }
    - run_grant: {}                           # the grant workflow runs (the app also dispatches it on approval)
    - advance: 2h                             # move the sandbox clock

Authors may be anyone: a login the sandbox does not know is added as a user with write access (or the
role \`permissions\` gives it); a login ending in [bot] is added as a bot (an app), e.g. renovate[bot].

Exit 0 when the scenario ran (whatever the outcome), 2 when the scenario file is invalid.
`;

type Step =
  | { open: { author: string; body?: string; form?: RequestFormInput; title?: string } }
  | { comment: { author: string; body: string } }
  | { approve_signed: { author: string; key?: string; note?: string } }
  | { edit: { author: string; body?: string; form?: RequestFormInput } }
  | { edit_comment: { index: number; body: string } }
  | { delete_comment: { index: number } }
  | { run_grant: Record<string, unknown> | null }
  | { advance: string };

interface Scenario {
  teams?: Record<string, string[]>;
  permissions?: Record<string, "admin" | "write" | "maintain" | "triage" | "read" | "none">;
  signing_keys?: Record<string, string[]>;
  steps: Step[];
}

// GitHub logins: letters, digits and single hyphens, up to 39 characters; apps act as <slug>[bot].
const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}(?:\[bot\])?$/;

const STEP_KINDS = [
  "open",
  "comment",
  "approve_signed",
  "edit",
  "edit_comment",
  "delete_comment",
  "run_grant",
  "advance",
];

/** Checks a scenario's shape and says exactly which step is wrong. */
export function parseScenario(text: string): Scenario {
  let doc: unknown;
  try {
    doc = yaml.load(text, { schema: yaml.CORE_SCHEMA });
  } catch (error) {
    throw new UsageError(`the scenario is not valid YAML: ${(error as Error).message.split("\n")[0]}`);
  }
  if (typeof doc !== "object" || doc === null || !Array.isArray((doc as Scenario).steps)) {
    throw new UsageError("the scenario needs a `steps:` list (see `breakglass simulate --help`).");
  }
  const scenario = doc as Scenario;
  const keys = scenario.signing_keys;
  if (keys !== undefined) {
    if (typeof keys !== "object" || keys === null || Array.isArray(keys))
      throw new UsageError(
        '`signing_keys` maps logins to lists of public key lines, e.g. { grace: ["ssh-ed25519 AAAA…"] }.',
      );
    for (const [login, lines] of Object.entries(keys)) {
      if (!LOGIN.test(login))
        throw new UsageError(`signing_keys: ${JSON.stringify(login)} is not a GitHub login.`);
      if (!Array.isArray(lines) || !lines.every((l) => typeof l === "string" && parsePublicKeyLine(l).ok)) {
        throw new UsageError(
          `signing_keys.${login} must be a list of SSH public key lines (the contents of a .pub file), e.g. ["ssh-ed25519 AAAA… ${login}@laptop"].`,
        );
      }
    }
  }
  scenario.steps.forEach((step, i) => {
    const keys = typeof step === "object" && step !== null ? Object.keys(step) : [];
    if (keys.length !== 1 || !STEP_KINDS.includes(keys[0]!)) {
      throw new UsageError(
        `step ${i + 1} must be exactly one of ${STEP_KINDS.join(", ")}; found ${keys.join(", ") || JSON.stringify(step)}.`,
      );
    }
    const [kind] = keys as [string];
    const value = (step as Record<string, unknown>)[kind] as Record<string, unknown> | string | null;
    const need = (field: string) => {
      if (typeof value !== "object" || value === null || value[field] === undefined)
        throw new UsageError(`step ${i + 1} (${kind}) needs \`${field}\`.`);
    };
    const author = typeof value === "object" && value !== null ? value.author : undefined;
    if (author !== undefined && (typeof author !== "string" || !LOGIN.test(author))) {
      throw new UsageError(
        `step ${i + 1} (${kind}): author ${JSON.stringify(author)} is not a GitHub login; write one like bob or renovate[bot].`,
      );
    }
    if (kind === "open" || kind === "edit") {
      need("author");
      if (typeof value === "object" && value && value.body === undefined && value.form === undefined)
        throw new UsageError(`step ${i + 1} (${kind}) needs \`body\` or \`form\`.`);
    }
    if (kind === "comment") for (const f of ["author", "body"]) need(f);
    if (kind === "approve_signed") {
      need("author");
      const key = (value as Record<string, unknown>).key;
      if (key !== undefined && typeof key !== "string")
        throw new UsageError(`step ${i + 1} (approve_signed): key must be the path of a private key file.`);
    }
    if (kind === "edit_comment") for (const f of ["index", "body"]) need(f);
    if (kind === "delete_comment") need("index");
    if (kind === "advance" && (typeof value !== "string" || !parseDuration(value).ok))
      throw new UsageError(`step ${i + 1} (advance) needs a duration like "2h".`);
  });
  if (!(scenario.steps[0] && "open" in scenario.steps[0]))
    throw new UsageError("the first step must `open` the request issue.");
  return scenario;
}

export async function run(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { root: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    io.stdout(HELP);
    return 0;
  }
  if (positionals.length !== 1)
    throw new UsageError("give one scenario file: breakglass simulate <scenario.yml>");
  const file = resolve(io.cwd, positionals[0]!);
  const text = await readFile(file, "utf8").catch(() => {
    throw new UsageError(`cannot read ${positionals[0]}`);
  });
  const scenario = parseScenario(text);
  io.stdout(
    `${JSON.stringify(await simulate(scenario, resolve(io.cwd, values.root ?? "."), dirname(file)))}\n`,
  );
  return 0;
}

export interface SimulationResult {
  state: string;
  approvals: string[];
  grants: Array<{ provider: string; credential_id: string; expires_at: string; revoked: boolean }>;
  comments: Array<{ author: string; body: string }>;
  issues_opened: Array<{ number: number; title: string; labels: string[] }>;
  audit: { entries: number; verified: boolean };
}

/** The sandbox's users plus everyone the scenario names (authors, team members, permissions); `name[bot]` is a bot. */
export function usersOf(scenario: Scenario): Array<{ login: string; type: "User" | "Bot" }> {
  const logins = new Set([...SANDBOX_USERS, "github-actions[bot]"]);
  for (const step of scenario.steps) {
    const author = (Object.values(step)[0] as { author?: unknown } | null)?.author;
    if (typeof author === "string") logins.add(author);
  }
  for (const members of Object.values(scenario.teams ?? {})) for (const m of members) logins.add(m);
  for (const login of Object.keys(scenario.permissions ?? {})) logins.add(login);
  return [...logins].map((login) => ({ login, type: login.endsWith("[bot]") ? "Bot" : "User" }));
}

/** Plays a scenario in a fresh sandbox and reports the outcome. */
export async function simulate(
  scenario: Scenario,
  root: string,
  scenarioDir = root,
): Promise<SimulationResult> {
  const sb = await startSandbox({
    root,
    users: usersOf(scenario),
    ...(scenario.teams ? { teams: { ...SANDBOX_TEAMS, ...scenario.teams } } : {}),
    ...(scenario.permissions ? { permissions: scenario.permissions } : {}),
    ...(scenario.signing_keys ? { signingKeys: scenario.signing_keys } : {}),
  });
  try {
    const [owner, repo] = sb.repository.split("/") as [string, string];
    let issueNumber = 0;
    const comments: number[] = [];
    const bodyOf = (s: { body?: string; form?: RequestFormInput }) => s.body ?? requestFormBody(s.form!);
    for (const step of scenario.steps) {
      if ("open" in step) {
        const { data } = await sb.as(step.open.author).rest.issues.create({
          owner,
          repo,
          title: step.open.title ?? `[breakglass] ${step.open.form?.resource ?? "request"}`,
          body: bodyOf(step.open),
          labels: [REQUEST_LABEL],
        });
        issueNumber = data.number;
      } else if ("comment" in step) {
        const { data } = await sb
          .as(step.comment.author)
          .rest.issues.createComment({ owner, repo, issue_number: issueNumber, body: step.comment.body });
        comments.push(data.id);
      } else if ("approve_signed" in step) {
        const { author, key, note } = step.approve_signed;
        const path = key === undefined ? undefined : resolve(scenarioDir, key);
        if (path !== undefined && !existsSync(path))
          throw new UsageError(
            `approve_signed: no private key at ${path} (paths are relative to the scenario file).`,
          );
        // ssh-keygen refuses a private key others can read, and a checkout gives the scenario's key 0644.
        const usable = path === undefined ? undefined : privateCopyOf(path);
        try {
          comments.push(
            await sb.approveSigned(author, issueNumber, {
              ...(usable ? { key: usable } : {}),
              ...(note ? { note } : {}),
            }),
          );
        } finally {
          if (usable) rmSync(dirname(usable), { recursive: true, force: true });
        }
      } else if ("edit" in step) {
        await sb
          .as(step.edit.author)
          .rest.issues.update({ owner, repo, issue_number: issueNumber, body: bodyOf(step.edit) });
      } else if ("edit_comment" in step) {
        const id = comments[step.edit_comment.index];
        if (id === undefined)
          throw new UsageError(`edit_comment: there is no comment ${step.edit_comment.index}`);
        const author = sb.emulator.state.comments.get(id)?.user.login ?? "ghost";
        await sb
          .as(author)
          .rest.issues.updateComment({ owner, repo, comment_id: id, body: step.edit_comment.body });
      } else if ("delete_comment" in step) {
        const id = comments[step.delete_comment.index];
        if (id === undefined)
          throw new UsageError(`delete_comment: there is no comment ${step.delete_comment.index}`);
        const author = sb.emulator.state.comments.get(id)?.user.login ?? "ghost";
        await sb.as(author).rest.issues.deleteComment({ owner, repo, comment_id: id });
      } else if ("run_grant" in step) {
        await sb.settle();
        await sb.runGrantWorkflow(issueNumber, step.run_grant ?? {});
      } else if ("advance" in step) {
        const d = parseDuration(step.advance);
        if (d.ok) await sb.advance(d.value * 1000);
      }
      await sb.settle();
    }
    const port = await sb.app.portFor(owner, repo);
    const history = await readHistory(port!, issueNumber, sb.app.deps.identity, sb.app.deps.jwks);
    const verified = await verifyChain(
      history.chain.map((e) => e.jws),
      sb.app.deps.jwks,
      { repo: sb.repository, issue: issueNumber },
    );
    const all = await sb.as("dave").paginate(sb.as("dave").rest.issues.listComments, {
      owner,
      repo,
      issue_number: issueNumber,
      per_page: 100,
    });
    const opened = await sb
      .as("dave")
      .paginate(sb.as("dave").rest.issues.listForRepo, { owner, repo, state: "all", per_page: 100 });
    const s = history.state;
    return {
      state: s.status,
      approvals: s.approvals.map((a) => a.actor),
      grants: s.grant
        ? [
            {
              provider: s.grant.provider,
              credential_id: s.grant.credential_id,
              expires_at: s.grant.expires_at,
              revoked: Boolean(s.grant.ended),
            },
          ]
        : [],
      comments: all.map((c) => ({ author: c.user?.login ?? "ghost", body: c.body ?? "" })),
      issues_opened: opened
        .filter((i) => i.number !== issueNumber)
        .map((i) => ({
          number: i.number,
          title: i.title,
          labels: i.labels.map((l) => (typeof l === "string" ? l : (l.name ?? ""))),
        })),
      audit: { entries: history.chain.length, verified: verified.ok && history.problems.length === 0 },
    };
  } finally {
    await sb.close();
  }
}

/** A copy of a private key file only its owner can read (what ssh-keygen requires), in a fresh temporary directory. */
function privateCopyOf(path: string): string {
  const copy = join(mkdtempSync(join(tmpdir(), "breakglass-key-")), basename(path));
  copyFileSync(path, copy);
  chmodSync(copy, 0o600);
  return copy;
}
