import { contentEntryJson, contentFileJson, repositoryJson, userJson } from "../shapes.ts";
import { HttpError, notFound, type Route, type RouteHandlerInput, type RouteResult } from "../router.ts";
import { filesAt, findUser, hasRole, permissionOf, type EmulatorState, type RepoPermission } from "../state.ts";
import type { Caller } from "../auth.ts";

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
  const content = files[path];
  if (path && content !== undefined) return { status: 200, body: contentFileJson(ctx.urls, repo, path, content, refName) };
  const prefix = path ? `${path}/` : "";
  const entries = new Map<string, { type: "file"; content: string } | { type: "dir" }>();
  for (const [filePath, text] of Object.entries(files)) {
    if (!filePath.startsWith(prefix)) continue;
    const rest = filePath.slice(prefix.length);
    const slash = rest.indexOf("/");
    if (slash === -1) entries.set(filePath, { type: "file", content: text });
    else entries.set(prefix + rest.slice(0, slash), { type: "dir" });
  }
  if (entries.size === 0 && path) throw notFound();
  const listing = [...entries.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([p, entry]) => contentEntryJson(ctx.urls, repo, p, entry, refName));
  return { status: 200, body: listing };
}

/** GitHub's legacy base role: maintain counts as write, triage as read. */
const BASE_ROLE: Record<RepoPermission, "admin" | "write" | "read" | "none"> = { admin: "admin", maintain: "write", write: "write", triage: "read", read: "read", none: "none" };

function collaboratorPermission({ ctx, params }: RouteHandlerInput): RouteResult {
  const user = findUser(ctx.state, params.username!);
  if (!user || user.type === "Organization") throw new HttpError(404, `${params.username} is not a user`);
  // A GitHub App's bot user is never a collaborator: GitHub answers "none" for it.
  const role = user.type === "Bot" ? "none" : permissionOf(ctx.state, user.login);
  const has = (r: RepoPermission) => user.type !== "Bot" && hasRole(ctx.state, user.login, r);
  return {
    status: 200,
    body: {
      permission: BASE_ROLE[role],
      role_name: role,
      user: {
        ...userJson(ctx.urls, user),
        permissions: { admin: has("admin"), maintain: has("maintain"), push: has("write"), triage: has("triage"), pull: has("read") },
        role_name: role,
      },
    },
  };
}

export const repoRoutes: Route[] = [
  { method: "GET", template: "/repos/{owner}/{repo}", auth: "repo", permission: { name: "metadata", level: "read" }, handle: getRepository },
  { method: "GET", template: "/repositories/{repository_id}", auth: "repo", permission: { name: "metadata", level: "read" }, handle: getRepository },
  { method: "GET", template: "/repos/{owner}/{repo}/contents", auth: "repo", permission: { name: "contents", level: "read" }, handle: getContent },
  { method: "GET", template: "/repos/{owner}/{repo}/contents/{path}", auth: "repo", permission: { name: "contents", level: "read" }, handle: getContent },
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
    handle: ({ ctx, params }) => {
      const user = findUser(ctx.state, params.username!);
      return { status: user && hasRole(ctx.state, user.login, "read") ? 204 : 404 };
    },
  },
];

