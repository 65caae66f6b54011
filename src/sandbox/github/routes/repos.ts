import { blobSha, contentEntryJson, contentFileJson, repositoryJson, userJson } from "../shapes.ts";
import { HttpError, notFound, type Route, type RouteHandlerInput, type RouteResult } from "../router.ts";
import {
  filesAt,
  findUser,
  hasRole,
  permissionOf,
  type EmulatorState,
  type RepoPermission,
} from "../state.ts";
import type { Caller } from "../auth.ts";
import { getGitBlob } from "./git.ts";

function permissionsFor(state: EmulatorState, caller: Caller): Record<string, boolean> | undefined {
  if (caller.kind !== "user") return undefined;
  const login = caller.actor.login;
  return {
    admin: hasRole(state, login, "admin"),
    maintain: hasRole(state, login, "maintain"),
    push: hasRole(state, login, "write"),
    triage: hasRole(state, login, "triage"),
    pull: hasRole(state, login, "read"),
  };
}

function getRepository({ ctx, repo, caller }: RouteHandlerInput): RouteResult {
  const permissions = permissionsFor(ctx.state, caller);
  return { status: 200, body: repositoryJson(ctx.urls, ctx.state, repo, permissions ? { permissions } : {}) };
}

function getContent({ ctx, repo, params, req }: RouteHandlerInput): RouteResult {
  const ref = req.query.get("ref");
  const files = filesAt(repo, ref);
  if (!files) throw new HttpError(404, `No commit found for the ref ${ref}`);
  const path = (params.path ?? "").replace(/^\/+|\/+$/g, "");
  const refName = ref ?? repo.default_branch;
  const links = files === repo.files ? repo.symlinks : new Map<string, string>();
  const link = links.get(path);
  if (path && link !== undefined) {
    // GitHub: a link to a file of the repository answers with that file; any other link describes itself.
    const target = resolveLink(path, link);
    const text = target === null ? undefined : files[target];
    if (target !== null && text !== undefined)
      return { status: 200, body: contentFileJson(ctx.urls, repo, target, text, refName) };
    return {
      status: 200,
      body: {
        ...contentEntryJson(ctx.urls, repo, path, { type: "file", content: link }, refName),
        type: "symlink",
        target: link,
      },
    };
  }
  const content = files[path];
  if (path && content !== undefined) {
    // The raw media type answers with the file itself, whatever its size (the JSON leaves `content` empty over 1 MB).
    if (/application\/vnd\.github(\.v3)?\.raw/.test(String(req.headers.accept ?? "")))
      return {
        status: 200,
        raw: content,
        headers: { "content-type": "application/vnd.github.raw; charset=utf-8" },
      };
    return { status: 200, body: contentFileJson(ctx.urls, repo, path, content, refName) };
  }
  const prefix = path ? `${path}/` : "";
  const entries = new Map<string, { type: "file"; content: string } | { type: "dir" }>();
  for (const [filePath, text] of Object.entries(files)) {
    if (!filePath.startsWith(prefix)) continue;
    const rest = filePath.slice(prefix.length);
    const slash = rest.indexOf("/");
    if (slash === -1) entries.set(filePath, { type: "file", content: text });
    else entries.set(prefix + rest.slice(0, slash), { type: "dir" });
  }
  const linked = [...links.entries()].filter(
    ([p]) => p.startsWith(prefix) && !p.slice(prefix.length).includes("/"),
  );
  if (entries.size === 0 && linked.length === 0 && path) throw notFound();
  const listing = [
    ...[...entries.entries()].map(([p, entry]) => ({
      p,
      json: contentEntryJson(ctx.urls, repo, p, entry, refName) as Record<string, unknown>,
    })),
    ...linked.map(([p, target]) => ({
      p,
      json: {
        ...contentEntryJson(ctx.urls, repo, p, { type: "file", content: target }, refName),
        type: "symlink",
      },
    })),
  ]
    .sort((a, b) => a.p.localeCompare(b.p))
    .map((e) => e.json);
  return { status: 200, body: listing };
}

/** GitHub's legacy base role: maintain counts as write, triage as read. */
const BASE_ROLE: Record<RepoPermission, "admin" | "write" | "read" | "none"> = {
  admin: "admin",
  maintain: "write",
  write: "write",
  triage: "read",
  read: "read",
  none: "none",
};

function collaboratorPermission({ ctx, params, repo }: RouteHandlerInput): RouteResult {
  const user = findUser(ctx.state, params.username!);
  if (!user || user.type === "Organization") throw new HttpError(404, `${params.username} is not a user`);
  // The person's role on this repository (GitHub answers per repository): a ledger repository's
  // collaborators, a role on this repository only, else the owner-wide one. A GitHub App's bot user
  // is never a collaborator: GitHub answers "none" for it.
  const role = user.type === "Bot" ? "none" : permissionOf(ctx.state, user.login, repo);
  const has = (r: RepoPermission) => user.type !== "Bot" && hasRole(ctx.state, user.login, r, repo);
  return {
    status: 200,
    body: {
      permission: BASE_ROLE[role],
      role_name: role,
      user: {
        ...userJson(ctx.urls, user),
        permissions: {
          admin: has("admin"),
          maintain: has("maintain"),
          push: has("write"),
          triage: has("triage"),
          pull: has("read"),
        },
        role_name: role,
      },
    },
  };
}

/** A link's target as a repository path, or null when it leaves the repository. */
function resolveLink(path: string, target: string): string | null {
  const parts = target.startsWith("/") ? [] : path.split("/").slice(0, -1);
  for (const part of target.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (!parts.length) return null;
      parts.pop();
    } else parts.push(part);
  }
  return parts.join("/");
}

/** Git blobs by sha (up to 100 MB), as large files must be read. */
/**
 * One blob route for both stores: objects written through the Git Data API (the ledger), then the
 * files of the repository's branches (a CODEOWNERS over 1 MB is read by its blob sha).
 */
function getBlob(input: RouteHandlerInput): RouteResult {
  const { repo, params } = input;
  const sha = params.file_sha ?? "";
  if (repo.git.objects.get(sha)?.type === "blob") return getGitBlob(input);
  const trees = [repo.files, ...repo.refs.values()];
  for (const files of trees) {
    for (const text of Object.values(files)) {
      if (blobSha(text) !== sha) continue;
      const bytes = Buffer.from(text, "utf8");
      return {
        status: 200,
        body: {
          sha,
          node_id: `B_${sha.slice(0, 20)}`,
          size: bytes.length,
          url: "",
          content: `${bytes.toString("base64").replace(/(.{60})/g, "$1\n")}\n`,
          encoding: "base64",
        },
      };
    }
  }
  throw notFound();
}

export const repoRoutes: Route[] = [
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/git/blobs/{file_sha}",
    auth: "repo",
    permission: { name: "contents", level: "read" },
    handle: getBlob,
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}",
    auth: "repo",
    permission: { name: "metadata", level: "read" },
    handle: getRepository,
  },
  {
    method: "GET",
    template: "/repositories/{repository_id}",
    auth: "repo",
    permission: { name: "metadata", level: "read" },
    handle: getRepository,
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/contents",
    auth: "repo",
    permission: { name: "contents", level: "read" },
    handle: getContent,
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/contents/{path}",
    auth: "repo",
    permission: { name: "contents", level: "read" },
    handle: getContent,
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/collaborators/{username}/permission",
    auth: "repo",
    permission: { name: "metadata", level: "read" },
    handle: collaboratorPermission,
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/collaborators/{username}",
    auth: "repo",
    permission: { name: "metadata", level: "read" },
    handle: ({ ctx, params, repo }) => {
      const user = findUser(ctx.state, params.username!);
      return { status: user && hasRole(ctx.state, user.login, "read", repo) ? 204 : 404 };
    },
  },
];
