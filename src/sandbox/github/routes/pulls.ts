import type { EmulatorContext } from "../context.ts";
import { changedFiles, pullFileJson, pullRequestJson } from "../shapes.ts";
import { notFound, paginate, type Route, type RouteHandlerInput, type RouteResult } from "../router.ts";
import { commitShaOf, filesAt, nodeId, type PullRecord, type RepoRecord, type UserRecord } from "../state.ts";

function pullOf({ repo, params }: RouteHandlerInput): PullRecord {
  const pull = /^\d+$/.test(params.pull_number ?? "")
    ? repo.pulls.get(Number(params.pull_number))
    : undefined;
  if (!pull) throw notFound();
  return pull;
}

/** Remembers the files of a commit a pull request points at, so it can still be read by SHA after the branch moves. */
function snapshot(repo: RepoRecord, ref: string): string {
  const files = filesAt(repo, ref);
  if (!files) throw new Error(`no branch "${ref}" in ${repo.full_name}`);
  const copy = { ...files };
  const sha = commitShaOf(copy);
  repo.snapshots.set(sha, copy);
  return sha;
}

function emitPull(
  ctx: EmulatorContext,
  repo: RepoRecord,
  pull: PullRecord,
  action: string,
  sender: UserRecord,
  extra: Record<string, unknown> = {},
): void {
  ctx.emit(
    "pull_request",
    { action, number: pull.number, ...extra, pull_request: pullRequestJson(ctx.urls, ctx.state, repo, pull) },
    repo,
    sender,
  );
}

/** A person opens a pull request from `head` into the default branch (`pull_request.opened`). */
export function openPull(
  ctx: EmulatorContext,
  repo: RepoRecord,
  user: UserRecord,
  options: { head: string; title: string; body?: string },
): PullRecord {
  const now = ctx.clock.now();
  const id = ctx.state.nextId("pull");
  const pull: PullRecord = {
    id,
    node_id: nodeId("PR", id),
    number: repo.nextIssueNumber++,
    title: options.title,
    body: options.body ?? null,
    user,
    state: "open",
    head: { ref: options.head, sha: snapshot(repo, options.head) },
    base: { ref: repo.default_branch, sha: snapshot(repo, repo.default_branch) },
    created_at: now,
    updated_at: now,
    closed_at: null,
  };
  repo.pulls.set(pull.number, pull);
  emitPull(ctx, repo, pull, "opened", user);
  return pull;
}

/** A push to the head branch of open pull requests (`pull_request.synchronize`, with before/after). */
export function synchronizePulls(
  ctx: EmulatorContext,
  repo: RepoRecord,
  branch: string,
  sender: UserRecord,
): void {
  for (const pull of repo.pulls.values()) {
    if (pull.state !== "open" || pull.head.ref !== branch) continue;
    const before = pull.head.sha;
    const after = snapshot(repo, branch);
    if (before === after) continue;
    pull.head.sha = after;
    pull.base.sha = snapshot(repo, repo.default_branch);
    pull.updated_at = ctx.clock.now();
    emitPull(ctx, repo, pull, "synchronize", sender, { before, after });
  }
}

export function setPullState(
  ctx: EmulatorContext,
  repo: RepoRecord,
  number: number,
  state: "open" | "closed",
  sender: UserRecord,
): PullRecord {
  const pull = repo.pulls.get(number);
  if (!pull) throw new Error(`no pull request #${number}`);
  if (pull.state === state) return pull;
  pull.state = state;
  pull.updated_at = ctx.clock.now();
  pull.closed_at = state === "closed" ? pull.updated_at : null;
  emitPull(ctx, repo, pull, state === "closed" ? "closed" : "reopened", sender);
  return pull;
}

function listFiles(input: RouteHandlerInput): RouteResult {
  const pull = pullOf(input);
  const { ctx, repo, req } = input;
  const files = changedFiles(filesAt(repo, pull.base.sha) ?? {}, filesAt(repo, pull.head.sha) ?? {});
  const { page, headers } = paginate(files, req, ctx.urls.api);
  return { status: 200, body: page.map((f) => pullFileJson(ctx.urls, repo, pull.head.sha, f)), headers };
}

export const pullRoutes: Route[] = [
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/pulls/{pull_number}",
    auth: "repo",
    permission: { name: "pull_requests", level: "read" },
    handle: (input) => ({
      status: 200,
      body: pullRequestJson(input.ctx.urls, input.ctx.state, input.repo, pullOf(input)),
    }),
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/pulls/{pull_number}/files",
    auth: "repo",
    permission: { name: "pull_requests", level: "read" },
    handle: listFiles,
  },
];
