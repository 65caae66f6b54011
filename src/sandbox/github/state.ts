import { createHash } from "node:crypto";
import { DEFAULT_BRANCH, DEFAULT_OWNER_ID, DEFAULT_REPO_ID } from "../sandbox-identity.ts";

export type RepoPermission = "admin" | "maintain" | "write" | "triage" | "read" | "none";
export type AccessLevel = "read" | "write" | "admin";
export type ReactionContent = "+1" | "-1" | "laugh" | "confused" | "heart" | "hooray" | "rocket" | "eyes";
export const REACTIONS: readonly ReactionContent[] = [
  "+1",
  "-1",
  "laugh",
  "confused",
  "heart",
  "hooray",
  "rocket",
  "eyes",
];

export interface UserRecord {
  login: string;
  id: number;
  node_id: string;
  type: "User" | "Bot" | "Organization";
  created_at: number;
}

/** A GitHub App as it appears on what it authored (`performed_via_github_app`). */
export interface AppRecord {
  id: number;
  slug: string;
  node_id: string;
  name: string;
  owner: UserRecord;
  permissions: Record<string, AccessLevel>;
  events: string[];
  created_at: number;
  /** Its `<slug>[bot]` user. */
  bot: UserRecord;
}

export interface LabelRecord {
  id: number;
  node_id: string;
  name: string;
  color: string;
  description: string | null;
  default: boolean;
}

export interface ReactionRecord {
  id: number;
  node_id: string;
  user: UserRecord;
  content: ReactionContent;
  created_at: number;
}

export interface IssueRecord {
  id: number;
  node_id: string;
  number: number;
  repoId: number;
  title: string;
  body: string | null;
  user: UserRecord;
  /** Label names, in the order they were added. */
  labels: string[];
  assignees: UserRecord[];
  state: "open" | "closed";
  state_reason: "completed" | "not_planned" | "reopened" | "duplicate" | null;
  locked: boolean;
  created_at: number;
  updated_at: number;
  closed_at: number | null;
  closed_by: UserRecord | null;
  performed_via_github_app: AppRecord | null;
  reactions: ReactionRecord[];
  /** Its comments' ids, oldest first (the comments themselves live in EmulatorState.comments). */
  commentIds: number[];
}

export interface CommentRecord {
  id: number;
  node_id: string;
  repoId: number;
  issueNumber: number;
  body: string;
  user: UserRecord;
  created_at: number;
  updated_at: number;
  performed_via_github_app: AppRecord | null;
  reactions: ReactionRecord[];
}

export interface WorkflowRun {
  id: number;
  node_id: string;
  repoId: number;
  /** The workflow's file name (e.g. `breakglass-grant.yml`), whichever way the dispatch named it. */
  workflow_id: string;
  /** GitHub's numeric id of the workflow. */
  workflow_numeric_id: number;
  path: string;
  name: string;
  event: "workflow_dispatch" | "push" | "schedule" | "pull_request" | "issues" | "issue_comment";
  ref: string;
  head_branch: string;
  head_sha: string;
  inputs: Record<string, string>;
  actor: UserRecord;
  /** Who started the latest attempt: `actor` for the first, whoever re-ran it after (GitHub keeps `actor`, and its privileges, on a re-run). */
  triggering_actor: UserRecord;
  run_number: number;
  run_attempt: number;
  /** `pending`: held by its concurrency group behind a run in progress. */
  status: "queued" | "in_progress" | "waiting" | "pending" | "completed";
  conclusion:
    "success" | "failure" | "cancelled" | "skipped" | "timed_out" | "action_required" | "neutral" | null;
  created_at: number;
  updated_at: number;
  /** The workflow's `concurrency.group`, evaluated and lower-cased (GitHub compares them case-insensitively); null without one. */
  concurrency_group: string | null;
  /** The event's payload, for runs an event started (what the job reads from GITHUB_EVENT_PATH). */
  payload: Record<string, unknown> | null;
  /** Environments waiting for a deployment protection rule review, and the reviews received. */
  pendingProtection: string[];
  protectionReviews: Array<{
    environment_name: string;
    state: "approved" | "rejected" | null;
    comment: string | null;
    by: string;
    at: number;
  }>;
}

export interface FileTree {
  [path: string]: string;
}

export interface RepoRecord {
  id: number;
  node_id: string;
  name: string;
  owner: UserRecord;
  full_name: string;
  default_branch: string;
  private: boolean;
  created_at: number;
  /** Files on the default branch, by path. Mutable: tests change policies here. */
  files: FileTree;
  /** Other refs (branch or tag names, or SHAs) and their files. */
  refs: Map<string, FileTree>;
  /** The Git database of the Git Data API (blobs, trees, commits, refs), empty until something is pushed. */
  git: GitDatabase;
  /**
   * Who may reach this repository, when it is not the owner's default (`permissions` applies to every
   * repository of the owner otherwise). A ledger repository has no human collaborators.
   */
  collaborators: Map<string, RepoPermission> | null;
  /** One person's role on this repository only, over the owner-wide one (a repository invitation, a team on it alone). */
  permissionOverrides: Map<string, RepoPermission>;
  /** Symbolic links on the default branch: path → target as written in the link (relative to its folder). */
  symlinks: Map<string, string>;
  issues: Map<number, IssueRecord>;
  labels: Map<string, LabelRecord>;
  runs: Map<number, WorkflowRun>;
  /** GitHub's numeric workflow ids, by file path. */
  workflowIds: Map<string, number>;
  nextIssueNumber: number;
  /** Pull requests, by number (they share the issues' numbering, as on GitHub). */
  pulls: Map<number, PullRecord>;
  /** Commit SHA to the files of that commit, for every head and base a pull request pointed at. */
  snapshots: Map<string, FileTree>;
  checkRuns: Map<number, CheckRunRecord>;
}

export interface PullRecord {
  id: number;
  node_id: string;
  number: number;
  title: string;
  body: string | null;
  user: UserRecord;
  state: "open" | "closed";
  head: { ref: string; sha: string };
  base: { ref: string; sha: string };
  created_at: number;
  updated_at: number;
  closed_at: number | null;
}

export interface CheckAnnotationRecord {
  path: string;
  start_line: number;
  end_line: number;
  start_column?: number;
  end_column?: number;
  annotation_level: "notice" | "warning" | "failure";
  message: string;
  title?: string;
  raw_details?: string;
}

export interface CheckRunRecord {
  id: number;
  node_id: string;
  repoId: number;
  app: AppRecord;
  name: string;
  head_sha: string;
  details_url: string | null;
  external_id: string;
  status: "queued" | "in_progress" | "completed";
  conclusion:
    | "action_required"
    | "cancelled"
    | "failure"
    | "neutral"
    | "success"
    | "skipped"
    | "stale"
    | "timed_out"
    | null;
  started_at: number;
  completed_at: number | null;
  output: { title: string | null; summary: string | null; text: string | null };
  annotations: CheckAnnotationRecord[];
  check_suite_id: number;
}

/** The commit SHA the emulator gives a tree of files (stable: the same files give the same SHA). */
export function commitShaOf(files: FileTree): string {
  return createHash("sha1")
    .update(JSON.stringify(Object.entries(files).sort()))
    .digest("hex");
}

export type GitObject =
  | { type: "blob"; content: Buffer }
  | { type: "tree"; entries: Array<{ path: string; mode: string; type: "blob" | "tree"; sha: string }> }
  | {
      type: "commit";
      tree: string;
      parents: string[];
      message: string;
      author: { name: string; email: string; date: string };
      committer: { name: string; email: string; date: string };
    };

export interface GitDatabase {
  /** By SHA-1, computed as git computes object ids. */
  objects: Map<string, GitObject>;
  /** Full ref name (`refs/heads/x`) to commit SHA. */
  refs: Map<string, string>;
}

export interface TeamRecord {
  id: number;
  node_id: string;
  org: string;
  slug: string;
  name: string;
  /** Logins. Mutable: tests remove people from teams here. */
  members: string[];
  /** The team's own role on the owner's repositories (GitHub: a CODEOWNERS team needs write); null = no access. */
  repoPermission: RepoPermission | null;
}

export interface InstallationRecord {
  id: number;
  node_id: string;
  account: UserRecord;
  repository_selection: "all" | "selected";
  repoIds: number[];
  permissions: Record<string, AccessLevel>;
  events: string[];
  created_at: number;
}

export interface EmulatorState {
  org: UserRecord;
  app: AppRecord;
  /** The GITHUB_TOKEN's app, author of what workflows post with it. */
  actionsApp: AppRecord;
  installation: InstallationRecord;
  /** The repository named in the options; others (`extraRepos`) live in `repositories` too. */
  repository: RepoRecord;
  repositories: Map<number, RepoRecord>;
  /** The main repository's default-branch files (the same object as `repository.files`). */
  files: FileTree;
  /** The main repository's issues (the same map as `repository.issues`). */
  issues: Map<number, IssueRecord>;
  /** Every issue comment, by id (ids are global on GitHub). */
  comments: Map<number, CommentRecord>;
  /** By lower-case login. */
  users: Map<string, UserRecord>;
  /** Repository role per lower-case login (the same for every repository of the owner). */
  permissions: Map<string, RepoPermission>;
  /** Organisation members, by lower-case login; everyone else with a role is an outside collaborator. */
  members: Set<string>;
  /** By lower-case "org/slug". */
  teams: Map<string, TeamRecord>;
  workflowRuns: Map<number, WorkflowRun>;
  /** SSH *signing* keys people added on GitHub (not their authentication keys), by lower-case login. */
  signingKeys: Map<string, SigningKeyRecord[]>;
  nextId(kind: IdKind): number;
}

/** One entry of `GET /users/{username}/ssh_signing_keys`. */
export interface SigningKeyRecord {
  id: number;
  key: string;
  title: string;
  created_at: number;
}

type IdKind =
  | "user"
  | "issue"
  | "comment"
  | "label"
  | "reaction"
  | "run"
  | "team"
  | "repo"
  | "workflow"
  | "signing_key"
  | "pull"
  | "check_run"
  | "check_suite";

const ID_BASES: Record<IdKind, number> = {
  user: 500_001,
  issue: 3_000_001,
  comment: 4_000_001,
  label: 5_000_001,
  reaction: 6_000_001,
  run: 9_000_001,
  team: 700_001,
  repo: DEFAULT_REPO_ID + 1,
  workflow: 8_000_001,
  signing_key: 2_300_001,
  pull: 1_200_001,
  check_run: 11_000_001,
  check_suite: 12_000_001,
};

export function nodeId(prefix: string, id: number): string {
  return `${prefix}_kwDO${Buffer.from(`${prefix}:${id}`).toString("base64url")}`;
}

export interface StateOptions {
  now: number;
  appId: number;
  appSlug: string;
  owner: string;
  repo: string;
  extraRepos: string[];
  files: FileTree;
  users: Array<{ login: string; type?: "User" | "Bot" }>;
  teams: Record<string, string[]>;
  permissions: Record<string, RepoPermission>;
  installationPermissions: Record<string, AccessLevel>;
  installationId: number;
  /** Organisation members; default: team members and everyone with write access or more. */
  members?: string[];
}

export function createState(options: StateOptions): EmulatorState {
  const counters = new Map<IdKind, number>();
  const nextId = (kind: IdKind) => {
    const id = counters.get(kind) ?? ID_BASES[kind];
    counters.set(kind, id + 1);
    return id;
  };
  const users = new Map<string, UserRecord>();
  const addUser = (login: string, type: UserRecord["type"], id = nextId("user")): UserRecord => {
    const existing = users.get(login.toLowerCase());
    if (existing) return existing;
    const user: UserRecord = {
      login,
      id,
      node_id: nodeId(type === "Bot" ? "BOT" : type === "Organization" ? "O" : "U", id),
      type,
      created_at: options.now,
    };
    users.set(login.toLowerCase(), user);
    return user;
  };
  const org = addUser(options.owner, "Organization", DEFAULT_OWNER_ID);
  const events = ["issues", "issue_comment", "deployment_protection_rule", "workflow_run", "pull_request"];
  const appBot = addUser(`${options.appSlug}[bot]`, "Bot");
  const app: AppRecord = {
    id: options.appId,
    slug: options.appSlug,
    node_id: nodeId("A", options.appId),
    name: options.appSlug,
    owner: org,
    permissions: options.installationPermissions,
    events,
    created_at: options.now,
    bot: appBot,
  };
  // github-actions[bot] has this id on github.com.
  const actionsBot = addUser("github-actions[bot]", "Bot", 41_898_282);
  const actionsApp: AppRecord = {
    id: 15_368,
    slug: "github-actions",
    node_id: nodeId("A", 15_368),
    name: "GitHub Actions",
    owner: addUser("github", "Organization", 9_919),
    permissions: {
      actions: "write",
      checks: "write",
      contents: "write",
      issues: "write",
      metadata: "read",
      deployments: "write",
      pull_requests: "write",
    },
    events: [],
    created_at: options.now,
    bot: actionsBot,
  };
  const permissions = new Map<string, RepoPermission>();
  for (const u of options.users) {
    addUser(u.login, u.type ?? (u.login.endsWith("[bot]") ? "Bot" : "User"));
    permissions.set(u.login.toLowerCase(), "write");
  }
  for (const [login, level] of Object.entries(options.permissions)) {
    addUser(login, login.endsWith("[bot]") ? "Bot" : "User");
    permissions.set(login.toLowerCase(), level);
  }
  const teams = new Map<string, TeamRecord>();
  for (const [key, members] of Object.entries(options.teams)) {
    const [teamOrg, slug] = key.replace(/^@/, "").split("/");
    if (!teamOrg || !slug)
      throw new Error(`team "${key}" must be written "org/slug", e.g. "${options.owner}/dba"`);
    for (const m of members) {
      addUser(m, "User");
      if (!permissions.has(m.toLowerCase())) permissions.set(m.toLowerCase(), "write");
    }
    const id = nextId("team");
    teams.set(key.toLowerCase().replace(/^@/, ""), {
      id,
      node_id: nodeId("T", id),
      org: teamOrg,
      slug,
      name: slug,
      members: [...members],
      repoPermission: "write",
    });
  }
  const repositories = new Map<number, RepoRecord>();
  const makeRepo = (name: string, id: number, files: FileTree): RepoRecord => {
    const repo: RepoRecord = {
      id,
      node_id: nodeId("R", id),
      name,
      owner: org,
      full_name: `${org.login}/${name}`,
      default_branch: DEFAULT_BRANCH,
      private: true,
      created_at: options.now,
      files,
      refs: new Map(),
      git: { objects: new Map(), refs: new Map() },
      collaborators: null,
      permissionOverrides: new Map(),
      symlinks: new Map(),
      issues: new Map(),
      labels: new Map(),
      runs: new Map(),
      workflowIds: new Map(),
      nextIssueNumber: 1,
      pulls: new Map(),
      snapshots: new Map(),
      checkRuns: new Map(),
    };
    repositories.set(id, repo);
    return repo;
  };
  const repository = makeRepo(options.repo, DEFAULT_REPO_ID, options.files);
  for (const name of options.extraRepos) makeRepo(name, nextId("repo"), {});
  const installation: InstallationRecord = {
    id: options.installationId,
    node_id: nodeId("MDIz", options.installationId),
    account: org,
    repository_selection: "selected",
    repoIds: [...repositories.keys()],
    permissions: options.installationPermissions,
    events,
    created_at: options.now,
  };
  const members = new Set<string>();
  if (options.members) for (const login of options.members) members.add(login.toLowerCase());
  else {
    for (const team of teams.values()) for (const m of team.members) members.add(m.toLowerCase());
    for (const [login, role] of permissions)
      if (ROLE_RANK[role] >= ROLE_RANK.write && users.get(login)?.type === "User") members.add(login);
  }
  return {
    org,
    app,
    actionsApp,
    installation,
    repository,
    repositories,
    files: repository.files,
    issues: repository.issues,
    comments: new Map(),
    users,
    permissions,
    members,
    teams,
    workflowRuns: new Map(),
    signingKeys: new Map(),
    nextId,
  };
}

export function findRepo(state: EmulatorState, owner: string, name: string): RepoRecord | undefined {
  const full = `${owner}/${name}`.toLowerCase();
  for (const repo of state.repositories.values()) if (repo.full_name.toLowerCase() === full) return repo;
  return undefined;
}

export function findUser(state: EmulatorState, login: string): UserRecord | undefined {
  return state.users.get(login.toLowerCase());
}

export function permissionOf(state: EmulatorState, login: string, repo?: RepoRecord): RepoPermission {
  const own = repo?.permissionOverrides?.get(login.toLowerCase());
  if (own) return own;
  if (repo?.collaborators) return repo.collaborators.get(login.toLowerCase()) ?? "none";
  return state.permissions.get(login.toLowerCase()) ?? "none";
}

const ROLE_RANK: Record<RepoPermission, number> = {
  none: 0,
  read: 1,
  triage: 2,
  write: 3,
  maintain: 4,
  admin: 5,
};

export function hasRole(
  state: EmulatorState,
  login: string,
  needed: RepoPermission,
  repo?: RepoRecord,
): boolean {
  return ROLE_RANK[permissionOf(state, login, repo)] >= ROLE_RANK[needed];
}

const LEVEL_RANK: Record<AccessLevel, number> = { read: 1, write: 2, admin: 3 };

export function levelCovers(granted: AccessLevel | undefined, needed: AccessLevel): boolean {
  return granted !== undefined && LEVEL_RANK[granted] >= LEVEL_RANK[needed];
}

export function isOrgMember(state: EmulatorState, login: string): boolean {
  return state.members.has(login.toLowerCase());
}

/** GitHub's author_association for someone writing in the owner's repositories. */
export function authorAssociation(
  state: EmulatorState,
  user: UserRecord,
): "OWNER" | "MEMBER" | "COLLABORATOR" | "NONE" {
  if (user.type === "Bot") return "NONE";
  if (user.id === state.org.id) return "OWNER";
  if (isOrgMember(state, user.login)) return "MEMBER";
  return hasRole(state, user.login, "read") ? "COLLABORATOR" : "NONE";
}

export function filesAt(repo: RepoRecord, ref: string | null): FileTree | undefined {
  if (
    ref === null ||
    ref === "" ||
    ref === repo.default_branch ||
    ref === `refs/heads/${repo.default_branch}`
  )
    return repo.files;
  if (/^[0-9a-f]{40}$/.test(ref)) {
    const known = repo.snapshots.get(ref);
    if (known) return known;
    for (const files of [repo.files, ...repo.refs.values()]) if (commitShaOf(files) === ref) return files;
  }
  return repo.refs.get(ref.replace(/^refs\/(heads|tags)\//, ""));
}
