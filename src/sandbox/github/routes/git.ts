import { createHash } from "node:crypto";
import { githubTimestamp } from "../../clock.ts";
import {
  HttpError,
  notFound,
  objectBody,
  paginate,
  validationFailed,
  type Route,
  type RouteHandlerInput,
  type RouteResult,
} from "../router.ts";
import { hasRole, nodeId, type GitDatabase, type GitObject, type RepoRecord } from "../state.ts";
import { forbidden } from "./issue-helpers.ts";

/**
 * GitHub's Git Data API (blobs, trees, commits, refs) over an in-memory object store whose ids are
 * computed exactly as git computes them, so a commit's id covers its tree and its parents: the
 * history is a hash chain. The rule the ledger relies on is GitHub's: updating a ref with
 * `force: false` (the default) to a commit that does not descend from the ref's current commit is
 * refused 422 "Update is not a fast forward", and creating a ref that exists is refused 422
 * "Reference already exists".
 */

const SHA = /^[0-9a-f]{40}$/;

function gitId(type: string, body: Buffer): string {
  return createHash("sha1")
    .update(Buffer.concat([Buffer.from(`${type} ${body.length}\0`), body]))
    .digest("hex");
}

function serialise(object: GitObject): Buffer {
  if (object.type === "blob") return object.content;
  if (object.type === "tree") {
    const sorted = [...object.entries].sort((a, b) =>
      (a.type === "tree" ? `${a.path}/` : a.path).localeCompare(b.type === "tree" ? `${b.path}/` : b.path),
    );
    return Buffer.concat(
      sorted.map((e) =>
        Buffer.concat([
          Buffer.from(`${e.mode === "040000" ? "40000" : e.mode} ${e.path}\0`),
          Buffer.from(e.sha, "hex"),
        ]),
      ),
    );
  }
  const person = (p: { name: string; email: string; date: string }) =>
    `${p.name} <${p.email}> ${Math.floor(Date.parse(p.date) / 1000)} +0000`;
  const lines = [
    `tree ${object.tree}`,
    ...object.parents.map((p) => `parent ${p}`),
    `author ${person(object.author)}`,
    `committer ${person(object.committer)}`,
  ];
  return Buffer.from(`${lines.join("\n")}\n\n${object.message}`);
}

/** Stores a git object under its git id (exported for benchmarks that seed a ledger without HTTP). */
export function store(db: GitDatabase, object: GitObject): string {
  const sha = gitId(object.type, serialise(object));
  db.objects.set(sha, object);
  return sha;
}

const emptyRepository = () => new HttpError(409, "Git Repository is empty.");

function writable(input: RouteHandlerInput): GitDatabase {
  if (
    input.caller.kind === "user" &&
    !hasRole(input.ctx.state, input.caller.actor.login, "write", input.repo)
  )
    throw forbidden("Must have push access to this repository.");
  return input.repo.git;
}

/** The first commit of a repository created with `auto_init` (a README on the default branch). */
export function seedGitRepository(repo: RepoRecord, now: number): string {
  const blob = store(repo.git, { type: "blob", content: Buffer.from(`# ${repo.name}\n`) });
  const tree = store(repo.git, {
    type: "tree",
    entries: [{ path: "README.md", mode: "100644", type: "blob", sha: blob }],
  });
  const who = {
    name: repo.owner.login,
    email: `${repo.owner.login}@users.noreply.github.com`,
    date: githubTimestamp(now),
  };
  const commit = store(repo.git, {
    type: "commit",
    tree,
    parents: [],
    message: "Initial commit",
    author: who,
    committer: who,
  });
  repo.git.refs.set(`refs/heads/${repo.default_branch}`, commit);
  return commit;
}

const apiOf = (input: RouteHandlerInput) => `${input.ctx.urls.api}/repos/${input.repo.full_name}`;

function createBlob(input: RouteHandlerInput): RouteResult {
  const db = writable(input);
  if (db.refs.size === 0) throw emptyRepository();
  const body = objectBody(input.req);
  if (typeof body.content !== "string") throw validationFailed("Blob", "content", "missing_field");
  const encoding = body.encoding ?? "utf-8";
  if (encoding !== "utf-8" && encoding !== "base64") throw validationFailed("Blob", "encoding", "invalid");
  const sha = store(db, {
    type: "blob",
    content: Buffer.from(body.content, encoding === "base64" ? "base64" : "utf8"),
  });
  return { status: 201, body: { sha, url: `${apiOf(input)}/git/blobs/${sha}` } };
}

/** The object a route's sha parameter names, of the type the route serves; 404 otherwise, as GitHub answers. */
function objectAt<T extends GitObject["type"]>(
  input: RouteHandlerInput,
  param: string,
  type: T,
): { sha: string; object: Extract<GitObject, { type: T }> } {
  const sha = input.params[param] ?? "";
  const object = input.repo.git.objects.get(sha);
  if (!object || object.type !== type) throw notFound();
  return { sha, object: object as Extract<GitObject, { type: T }> };
}

export function getGitBlob(input: RouteHandlerInput): RouteResult {
  const { sha, object } = objectAt(input, "file_sha", "blob");
  return {
    status: 200,
    body: {
      sha,
      node_id: nodeId("B", parseInt(sha.slice(0, 8), 16)),
      size: object.content.length,
      url: `${apiOf(input)}/git/blobs/${sha}`,
      content: object.content.toString("base64"),
      encoding: "base64",
    },
  };
}

function treeJson(input: RouteHandlerInput, sha: string, tree: Extract<GitObject, { type: "tree" }>) {
  return {
    sha,
    url: `${apiOf(input)}/git/trees/${sha}`,
    truncated: false,
    tree: tree.entries.map((e) => {
      const target = input.repo.git.objects.get(e.sha);
      return {
        path: e.path,
        mode: e.mode,
        type: e.type,
        sha: e.sha,
        ...(target?.type === "blob" ? { size: target.content.length } : {}),
        url: `${apiOf(input)}/git/${e.type}s/${e.sha}`,
      };
    }),
  };
}

function createTree(input: RouteHandlerInput): RouteResult {
  const db = writable(input);
  if (db.refs.size === 0) throw emptyRepository();
  const body = objectBody(input.req);
  if (!Array.isArray(body.tree)) throw validationFailed("Tree", "tree", "missing_field");
  const entries = new Map<string, { path: string; mode: string; type: "blob" | "tree"; sha: string }>();
  if (body.base_tree !== undefined) {
    const base = typeof body.base_tree === "string" ? db.objects.get(body.base_tree) : undefined;
    if (!base || base.type !== "tree")
      throw validationFailed("Tree", "base_tree", "invalid", "base_tree is not a valid tree oid");
    for (const e of base.entries) entries.set(e.path, e);
  }
  for (const raw of body.tree as Array<Record<string, unknown>>) {
    const path = raw.path;
    if (typeof path !== "string" || path === "" || path.includes("/") || path.startsWith("."))
      throw validationFailed("Tree", "tree.path", "invalid", "tree.path contains a malformed path component");
    const mode = raw.mode;
    if (mode !== "100644" && mode !== "100755" && mode !== "040000")
      throw validationFailed("Tree", "tree.mode", "invalid");
    const type = mode === "040000" ? "tree" : "blob";
    let sha = raw.sha;
    if (typeof raw.content === "string") {
      if (type !== "blob") throw validationFailed("Tree", "tree.content", "invalid");
      sha = store(db, { type: "blob", content: Buffer.from(raw.content, "utf8") });
    }
    if (sha === null) {
      entries.delete(path);
      continue;
    }
    if (typeof sha !== "string" || db.objects.get(sha)?.type !== type)
      throw validationFailed("Tree", "tree.sha", "invalid", `tree.sha ${String(sha)} is not a valid ${type}`);
    entries.set(path, { path, mode, type, sha });
  }
  const tree: GitObject = { type: "tree", entries: [...entries.values()] };
  const sha = store(db, tree);
  return { status: 201, body: treeJson(input, sha, tree) };
}

function getTree(input: RouteHandlerInput): RouteResult {
  const { sha, object } = objectAt(input, "tree_sha", "tree");
  return { status: 200, body: treeJson(input, sha, object) };
}

function commitJson(input: RouteHandlerInput, sha: string, c: Extract<GitObject, { type: "commit" }>) {
  return {
    sha,
    node_id: nodeId("C", parseInt(sha.slice(0, 8), 16)),
    url: `${apiOf(input)}/git/commits/${sha}`,
    html_url: `${input.ctx.urls.web}/${input.repo.full_name}/commit/${sha}`,
    author: c.author,
    committer: c.committer,
    message: c.message,
    tree: { sha: c.tree, url: `${apiOf(input)}/git/trees/${c.tree}` },
    parents: c.parents.map((p) => ({
      sha: p,
      url: `${apiOf(input)}/git/commits/${p}`,
      html_url: `${input.ctx.urls.web}/${input.repo.full_name}/commit/${p}`,
    })),
    verification: { verified: false, reason: "unsigned", signature: null, payload: null, verified_at: null },
  };
}

function createCommit(input: RouteHandlerInput): RouteResult {
  const db = writable(input);
  if (db.refs.size === 0) throw emptyRepository();
  const body = objectBody(input.req);
  if (typeof body.message !== "string") throw validationFailed("Commit", "message", "missing_field");
  if (typeof body.tree !== "string" || db.objects.get(body.tree)?.type !== "tree")
    throw validationFailed("Commit", "tree", "invalid", "Tree SHA does not exist");
  const parents = body.parents ?? [];
  if (
    !Array.isArray(parents) ||
    parents.some((p) => typeof p !== "string" || db.objects.get(p)?.type !== "commit")
  )
    throw validationFailed(
      "Commit",
      "parents",
      "invalid",
      "Parent SHA does not exist or is not a commit object",
    );
  const actor = input.caller.kind === "app" ? input.caller.app.bot : input.caller.actor;
  const who = {
    name: actor.login,
    email: `${actor.id}+${actor.login}@users.noreply.github.com`,
    date: githubTimestamp(input.ctx.clock.now()),
  };
  const commit: GitObject = {
    type: "commit",
    tree: body.tree,
    parents: parents as string[],
    message: body.message,
    author: who,
    committer: who,
  };
  const sha = store(db, commit);
  return { status: 201, body: commitJson(input, sha, commit) };
}

function getCommit(input: RouteHandlerInput): RouteResult {
  const { sha, object } = objectAt(input, "commit_sha", "commit");
  return { status: 200, body: commitJson(input, sha, object) };
}

function refJson(input: RouteHandlerInput, ref: string, sha: string) {
  return {
    ref,
    node_id: nodeId("REF", parseInt(sha.slice(0, 8), 16)),
    url: `${apiOf(input)}/git/${ref}`,
    object: { type: "commit", sha, url: `${apiOf(input)}/git/commits/${sha}` },
  };
}

/** `heads/x` in a path names `refs/heads/x`. */
const fullRef = (param: string | undefined) => `refs/${(param ?? "").replace(/^refs\//, "")}`;

function getRef(input: RouteHandlerInput): RouteResult {
  const ref = fullRef(input.params.ref);
  const sha = input.repo.git.refs.get(ref);
  if (input.repo.git.refs.size === 0) throw emptyRepository();
  if (!sha) throw notFound();
  return { status: 200, body: refJson(input, ref, sha) };
}

function matchingRefs(input: RouteHandlerInput): RouteResult {
  const prefix = fullRef(input.params.ref);
  if (input.repo.git.refs.size === 0) throw emptyRepository();
  const found = [...input.repo.git.refs.entries()]
    .filter(([ref]) => ref.startsWith(prefix))
    .sort(([a], [b]) => a.localeCompare(b));
  // Paged like GitHub's other listings (at most 100 a page): a client that reads one page sees at most 100.
  const { page, headers } = paginate(found, input.req, input.ctx.urls.api);
  return { status: 200, body: page.map(([ref, sha]) => refJson(input, ref, sha)), headers };
}

const VALID_REF = /^refs\/[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)+$/;

function createRef(input: RouteHandlerInput): RouteResult {
  const db = writable(input);
  const body = objectBody(input.req);
  const ref = body.ref;
  if (typeof ref !== "string" || !VALID_REF.test(ref) || ref.includes("..") || ref.endsWith(".lock"))
    throw new HttpError(422, `${String(ref)} is not a valid ref name.`);
  if (typeof body.sha !== "string" || !SHA.test(body.sha) || !db.objects.has(body.sha))
    throw new HttpError(422, "Object does not exist");
  if (db.refs.has(ref)) throw new HttpError(422, "Reference already exists");
  db.refs.set(ref, body.sha);
  return {
    status: 201,
    body: refJson(input, ref, body.sha),
    headers: { location: `${apiOf(input)}/git/${ref}` },
  };
}

function descends(db: GitDatabase, from: string, ancestor: string): boolean {
  const seen = new Set<string>();
  const queue = [from];
  while (queue.length) {
    const sha = queue.pop()!;
    if (sha === ancestor) return true;
    if (seen.has(sha)) continue;
    seen.add(sha);
    const object = db.objects.get(sha);
    if (object?.type === "commit") queue.push(...object.parents);
  }
  return false;
}

function updateRef(input: RouteHandlerInput): RouteResult {
  const db = writable(input);
  const ref = fullRef(input.params.ref);
  const current = db.refs.get(ref);
  if (!current) throw new HttpError(422, "Reference does not exist");
  const body = objectBody(input.req);
  if (typeof body.sha !== "string" || db.objects.get(body.sha)?.type !== "commit")
    throw new HttpError(422, "Object does not exist");
  if (body.force !== true && !descends(db, body.sha, current))
    throw new HttpError(422, "Update is not a fast forward");
  db.refs.set(ref, body.sha);
  return { status: 200, body: refJson(input, ref, body.sha) };
}

function deleteRef(input: RouteHandlerInput): RouteResult {
  const db = writable(input);
  const ref = fullRef(input.params.ref);
  if (!db.refs.delete(ref)) throw new HttpError(422, "Reference does not exist");
  return { status: 204 };
}

/**
 * `PUT /repos/{owner}/{repo}/contents/{path}` ("Create or update file contents") on a repository kept
 * as git objects (the ledger): one commit on top of the branch's head that replaces one top-level
 * file. GitHub's rules: a file that exists is replaced only when `sha` names its current blob (409
 * otherwise, so the write is a compare-and-swap on the file's content); without `sha` an existing
 * file is refused 422; a branch that does not exist is 404. The emulator is stricter in one place:
 * a `sha` for a file that does not exist is refused 409 too.
 */
function putContents(input: RouteHandlerInput): RouteResult {
  const db = writable(input);
  if (db.refs.size === 0) throw emptyRepository();
  const body = objectBody(input.req);
  const path = (input.params.path ?? "").replace(/^\/+|\/+$/g, "");
  if (path === "" || path.includes("/") || path.startsWith("."))
    throw new HttpError(422, `The emulator replaces top-level files only, not ${path || "the root"}.`);
  if (typeof body.message !== "string")
    throw new HttpError(422, 'Invalid request.\n\n"message" wasn\'t supplied.');
  if (typeof body.content !== "string")
    throw new HttpError(422, 'Invalid request.\n\n"content" wasn\'t supplied.');
  if (!/^[A-Za-z0-9+/=\r\n]*$/.test(body.content)) throw new HttpError(422, "content is not valid Base64");
  const branch = typeof body.branch === "string" ? body.branch : input.repo.default_branch;
  const ref = `refs/heads/${branch}`;
  const head = db.refs.get(ref);
  if (!head) throw new HttpError(404, `Branch ${branch} not found`);
  const headCommit = db.objects.get(head);
  if (headCommit?.type !== "commit") throw new HttpError(409, "The branch does not point at a commit.");
  const tree = db.objects.get(headCommit.tree);
  if (tree?.type !== "tree") throw new HttpError(409, "The branch's commit has no tree.");
  const existing = tree.entries.find((e) => e.path === path);
  if (existing && existing.type !== "blob") throw new HttpError(422, `${path} is a directory.`);
  if (existing && body.sha === undefined)
    throw new HttpError(422, 'Invalid request.\n\n"sha" wasn\'t supplied.');
  if (body.sha !== undefined && body.sha !== existing?.sha)
    throw new HttpError(409, `${path} does not match ${String(body.sha)}`);
  const content = Buffer.from(body.content, "base64");
  const blob = store(db, { type: "blob", content });
  const nextTree = store(db, {
    type: "tree",
    entries: [
      ...tree.entries.filter((e) => e.path !== path),
      { path, mode: existing?.mode ?? "100644", type: "blob", sha: blob },
    ],
  });
  const actor = input.caller.kind === "app" ? input.caller.app.bot : input.caller.actor;
  const who = {
    name: actor.login,
    email: `${actor.id}+${actor.login}@users.noreply.github.com`,
    date: githubTimestamp(input.ctx.clock.now()),
  };
  const commit: GitObject = {
    type: "commit",
    tree: nextTree,
    parents: [head],
    message: body.message,
    author: who,
    committer: who,
  };
  const sha = store(db, commit);
  db.refs.set(ref, sha);
  const url = `${apiOf(input)}/contents/${path}?ref=${encodeURIComponent(branch)}`;
  const html = `${input.ctx.urls.web}/${input.repo.full_name}/blob/${branch}/${path}`;
  const git = `${apiOf(input)}/git/blobs/${blob}`;
  return {
    status: existing ? 200 : 201,
    body: {
      content: {
        name: path,
        path,
        sha: blob,
        size: content.length,
        url,
        html_url: html,
        git_url: git,
        download_url: null,
        type: "file",
        _links: { self: url, git, html },
      },
      commit: commitJson(input, sha, commit),
    },
  };
}

const read = { name: "contents", level: "read" } as const;
const write = { name: "contents", level: "write" } as const;

export const gitRoutes: Route[] = [
  {
    method: "POST",
    template: "/repos/{owner}/{repo}/git/blobs",
    auth: "repo",
    permission: write,
    handle: createBlob,
  },
  {
    method: "POST",
    template: "/repos/{owner}/{repo}/git/trees",
    auth: "repo",
    permission: write,
    handle: createTree,
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/git/trees/{tree_sha}",
    auth: "repo",
    permission: read,
    handle: getTree,
  },
  {
    method: "POST",
    template: "/repos/{owner}/{repo}/git/commits",
    auth: "repo",
    permission: write,
    handle: createCommit,
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/git/commits/{commit_sha}",
    auth: "repo",
    permission: read,
    handle: getCommit,
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/git/ref/{ref}",
    auth: "repo",
    permission: read,
    handle: getRef,
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/git/matching-refs/{ref}",
    auth: "repo",
    permission: read,
    handle: matchingRefs,
  },
  {
    method: "POST",
    template: "/repos/{owner}/{repo}/git/refs",
    auth: "repo",
    permission: write,
    handle: createRef,
  },
  {
    method: "PATCH",
    template: "/repos/{owner}/{repo}/git/refs/{ref}",
    auth: "repo",
    permission: write,
    handle: updateRef,
  },
  {
    method: "DELETE",
    template: "/repos/{owner}/{repo}/git/refs/{ref}",
    auth: "repo",
    permission: write,
    handle: deleteRef,
  },
  {
    method: "PUT",
    template: "/repos/{owner}/{repo}/contents/{path}",
    auth: "repo",
    permission: write,
    handle: putContents,
  },
];
