import { createHash } from "node:crypto";
import { githubTimestamp as ts } from "../clock.ts";
import {
  authorAssociation,
  filesAt,
  type CheckAnnotationRecord,
  type CheckRunRecord,
  type FileTree,
  type PullRecord,
  REACTIONS,
  type AppRecord,
  type CommentRecord,
  type EmulatorState,
  type InstallationRecord,
  type IssueRecord,
  type LabelRecord,
  type ReactionRecord,
  type RepoRecord,
  type UserRecord,
  type WorkflowRun,
} from "./state.ts";

/**
 * The JSON GitHub returns for each kind of object, field for field (checked against @octokit/openapi
 * in the tests). Only this module knows response shapes; routes and webhooks both use it.
 */
export interface Urls {
  /** REST base, e.g. http://127.0.0.1:1234/api/v3 */
  api: string;
  /** "github.com" of the sandbox, e.g. http://127.0.0.1:1234 */
  web: string;
}

const enc = encodeURIComponent;

export function userJson(urls: Urls, user: UserRecord) {
  const api = `${urls.api}/users/${enc(user.login)}`;
  return {
    login: user.login,
    id: user.id,
    node_id: user.node_id,
    avatar_url: `${urls.web}/avatars/u/${user.id}?v=4`,
    gravatar_id: "",
    url: api,
    html_url:
      user.type === "Bot"
        ? `${urls.web}/apps/${enc(user.login.replace(/\[bot\]$/, ""))}`
        : `${urls.web}/${enc(user.login)}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type: user.type,
    user_view_type: "public",
    site_admin: false,
  };
}

export function publicUserJson(urls: Urls, user: UserRecord) {
  return {
    ...userJson(urls, user),
    name: user.type === "Bot" ? null : user.login,
    company: null,
    blog: "",
    location: null,
    email: null,
    hireable: null,
    bio: null,
    twitter_username: null,
    public_repos: 0,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: ts(user.created_at),
    updated_at: ts(user.created_at),
  };
}

export function organizationJson(urls: Urls, org: UserRecord) {
  const api = `${urls.api}/orgs/${enc(org.login)}`;
  return {
    login: org.login,
    id: org.id,
    node_id: org.node_id,
    url: api,
    repos_url: `${api}/repos`,
    events_url: `${api}/events`,
    hooks_url: `${api}/hooks`,
    issues_url: `${api}/issues`,
    members_url: `${api}/members{/member}`,
    public_members_url: `${api}/public_members{/member}`,
    avatar_url: `${urls.web}/avatars/u/${org.id}?v=4`,
    description: null,
  };
}

export function repositoryJson(
  urls: Urls,
  state: EmulatorState,
  repo: RepoRecord,
  extra: { permissions?: Record<string, boolean> } = {},
) {
  const api = `${urls.api}/repos/${repo.full_name}`;
  let openIssues = 0;
  let pushed = repo.created_at;
  for (const issue of repo.issues.values()) {
    if (issue.state === "open") openIssues++;
    if (issue.updated_at > pushed) pushed = issue.updated_at;
  }
  return {
    id: repo.id,
    node_id: repo.node_id,
    name: repo.name,
    full_name: repo.full_name,
    private: repo.private,
    owner: userJson(urls, repo.owner),
    html_url: `${urls.web}/${repo.full_name}`,
    description: null,
    fork: false,
    url: api,
    archive_url: `${api}/{archive_format}{/ref}`,
    assignees_url: `${api}/assignees{/user}`,
    blobs_url: `${api}/git/blobs{/sha}`,
    branches_url: `${api}/branches{/branch}`,
    collaborators_url: `${api}/collaborators{/collaborator}`,
    comments_url: `${api}/comments{/number}`,
    commits_url: `${api}/commits{/sha}`,
    compare_url: `${api}/compare/{base}...{head}`,
    contents_url: `${api}/contents/{+path}`,
    contributors_url: `${api}/contributors`,
    deployments_url: `${api}/deployments`,
    downloads_url: `${api}/downloads`,
    events_url: `${api}/events`,
    forks_url: `${api}/forks`,
    git_commits_url: `${api}/git/commits{/sha}`,
    git_refs_url: `${api}/git/refs{/sha}`,
    git_tags_url: `${api}/git/tags{/sha}`,
    git_url: `git://${new URL(urls.web).host}/${repo.full_name}.git`,
    issue_comment_url: `${api}/issues/comments{/number}`,
    issue_events_url: `${api}/issues/events{/number}`,
    issues_url: `${api}/issues{/number}`,
    keys_url: `${api}/keys{/key_id}`,
    labels_url: `${api}/labels{/name}`,
    languages_url: `${api}/languages`,
    merges_url: `${api}/merges`,
    milestones_url: `${api}/milestones{/number}`,
    notifications_url: `${api}/notifications{?since,all,participating}`,
    pulls_url: `${api}/pulls{/number}`,
    releases_url: `${api}/releases{/id}`,
    ssh_url: `git@${new URL(urls.web).hostname}:${repo.full_name}.git`,
    stargazers_url: `${api}/stargazers`,
    statuses_url: `${api}/statuses/{sha}`,
    subscribers_url: `${api}/subscribers`,
    subscription_url: `${api}/subscription`,
    tags_url: `${api}/tags`,
    teams_url: `${api}/teams`,
    trees_url: `${api}/git/trees{/sha}`,
    hooks_url: `${api}/hooks`,
    clone_url: `${urls.web}/${repo.full_name}.git`,
    mirror_url: null,
    svn_url: `${urls.web}/${repo.full_name}`,
    homepage: null,
    language: null,
    forks_count: 0,
    forks: 0,
    stargazers_count: 0,
    watchers_count: 0,
    watchers: 0,
    size: Object.values(repo.files).reduce((n, f) => n + Buffer.byteLength(f), 0) >> 10,
    default_branch: repo.default_branch,
    open_issues_count: openIssues,
    open_issues: openIssues,
    is_template: false,
    topics: [],
    has_issues: true,
    has_projects: false,
    has_wiki: false,
    has_pages: false,
    has_downloads: false,
    has_discussions: false,
    archived: false,
    disabled: false,
    visibility: repo.private ? "private" : "public",
    license: null,
    allow_forking: false,
    web_commit_signoff_required: false,
    pushed_at: ts(pushed),
    created_at: ts(repo.created_at),
    updated_at: ts(pushed),
    ...(extra.permissions ? { permissions: extra.permissions } : {}),
    // Only on the full repository (GET /repos/{owner}/{repo}); harmless elsewhere.
    network_count: 0,
    subscribers_count: 0,
    organization: userJson(urls, state.org),
  };
}

export function labelJson(urls: Urls, repo: RepoRecord, label: LabelRecord) {
  return {
    id: label.id,
    node_id: label.node_id,
    url: `${urls.api}/repos/${repo.full_name}/labels/${enc(label.name)}`,
    name: label.name,
    color: label.color,
    default: label.default,
    description: label.description,
  };
}

export function reactionRollup(url: string, reactions: ReactionRecord[]) {
  const counts = Object.fromEntries(
    REACTIONS.map((r) => [r, reactions.filter((x) => x.content === r).length]),
  ) as Record<string, number>;
  return { url, total_count: reactions.length, ...counts };
}

export function reactionJson(urls: Urls, reaction: ReactionRecord) {
  return {
    id: reaction.id,
    node_id: reaction.node_id,
    user: userJson(urls, reaction.user),
    content: reaction.content,
    created_at: ts(reaction.created_at),
  };
}

export function appJson(urls: Urls, app: AppRecord, extra: Record<string, unknown> = {}) {
  return {
    id: app.id,
    slug: app.slug,
    node_id: app.node_id,
    client_id: `Iv1.${app.id.toString(16).padStart(16, "0")}`,
    owner: userJson(urls, app.owner),
    name: app.name,
    description: "",
    external_url: `${urls.web}/apps/${app.slug}`,
    html_url: `${urls.web}/apps/${app.slug}`,
    created_at: ts(app.created_at),
    updated_at: ts(app.created_at),
    permissions: app.permissions,
    events: app.events,
    ...extra,
  };
}

export function installationJson(urls: Urls, state: EmulatorState, installation: InstallationRecord) {
  return {
    id: installation.id,
    client_id: appJson(urls, state.app).client_id,
    account: userJson(urls, installation.account),
    repository_selection: installation.repository_selection,
    access_tokens_url: `${urls.api}/app/installations/${installation.id}/access_tokens`,
    repositories_url: `${urls.api}/installation/repositories`,
    html_url: `${urls.web}/organizations/${installation.account.login}/settings/installations/${installation.id}`,
    app_id: state.app.id,
    app_slug: state.app.slug,
    target_id: installation.account.id,
    target_type: installation.account.type,
    permissions: installation.permissions,
    events: installation.events,
    created_at: ts(installation.created_at),
    updated_at: ts(installation.created_at),
    single_file_name: null,
    has_multiple_single_files: false,
    single_file_paths: [],
    suspended_by: null,
    suspended_at: null,
  };
}

export function issueJson(urls: Urls, state: EmulatorState, repo: RepoRecord, issue: IssueRecord) {
  const api = `${urls.api}/repos/${repo.full_name}/issues/${issue.number}`;
  const labels = issue.labels
    .map((name) => repo.labels.get(name.toLowerCase()))
    .filter((l): l is LabelRecord => Boolean(l));
  return {
    url: api,
    repository_url: `${urls.api}/repos/${repo.full_name}`,
    labels_url: `${api}/labels{/name}`,
    comments_url: `${api}/comments`,
    events_url: `${api}/events`,
    html_url: `${urls.web}/${repo.full_name}/issues/${issue.number}`,
    id: issue.id,
    node_id: issue.node_id,
    number: issue.number,
    title: issue.title,
    user: userJson(urls, issue.user),
    labels: labels.map((l) => labelJson(urls, repo, l)),
    state: issue.state,
    locked: issue.locked,
    assignee: issue.assignees[0] ? userJson(urls, issue.assignees[0]) : null,
    assignees: issue.assignees.map((u) => userJson(urls, u)),
    milestone: null,
    comments: issue.commentIds.length,
    created_at: ts(issue.created_at),
    updated_at: ts(issue.updated_at),
    closed_at: issue.closed_at === null ? null : ts(issue.closed_at),
    closed_by: issue.closed_by ? userJson(urls, issue.closed_by) : null,
    author_association: authorAssociation(state, issue.user),
    active_lock_reason: null,
    body: issue.body,
    reactions: reactionRollup(`${api}/reactions`, issue.reactions),
    timeline_url: `${api}/timeline`,
    performed_via_github_app: issue.performed_via_github_app
      ? appJson(urls, issue.performed_via_github_app)
      : null,
    state_reason: issue.state_reason,
  };
}

export function commentJson(urls: Urls, state: EmulatorState, repo: RepoRecord, comment: CommentRecord) {
  const api = `${urls.api}/repos/${repo.full_name}/issues/comments/${comment.id}`;
  return {
    id: comment.id,
    node_id: comment.node_id,
    url: api,
    html_url: `${urls.web}/${repo.full_name}/issues/${comment.issueNumber}#issuecomment-${comment.id}`,
    body: comment.body,
    user: userJson(urls, comment.user),
    created_at: ts(comment.created_at),
    updated_at: ts(comment.updated_at),
    issue_url: `${urls.api}/repos/${repo.full_name}/issues/${comment.issueNumber}`,
    author_association: authorAssociation(state, comment.user),
    performed_via_github_app: comment.performed_via_github_app
      ? appJson(urls, comment.performed_via_github_app)
      : null,
    reactions: reactionRollup(`${api}/reactions`, comment.reactions),
  };
}

/** Git's blob id of a file's content, so shas change exactly when the content does. */
export function blobSha(content: string): string {
  const bytes = Buffer.from(content, "utf8");
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

function contentLinks(
  urls: Urls,
  repo: RepoRecord,
  path: string,
  sha: string,
  type: "file" | "dir",
  ref: string,
) {
  const self = `${urls.api}/repos/${repo.full_name}/contents/${path.split("/").map(enc).join("/")}?ref=${enc(ref)}`;
  const git = `${urls.api}/repos/${repo.full_name}/git/${type === "file" ? "blobs" : "trees"}/${sha}`;
  const html = `${urls.web}/${repo.full_name}/${type === "file" ? "blob" : "tree"}/${enc(ref)}/${path}`;
  return { url: self, git_url: git, html_url: html, _links: { self, git, html } };
}

/** Above this the contents API leaves `content` empty (`encoding: "none"`): read the blob or ask for the raw media type. */
export const CONTENTS_INLINE_LIMIT_BYTES = 1024 * 1024;

export function contentFileJson(urls: Urls, repo: RepoRecord, path: string, content: string, ref: string) {
  const sha = blobSha(content);
  const size = Buffer.byteLength(content);
  const base64 = Buffer.from(content, "utf8").toString("base64");
  const inline = size <= CONTENTS_INLINE_LIMIT_BYTES;
  return {
    type: "file" as const,
    encoding: inline ? "base64" : "none",
    size,
    name: path.split("/").pop() ?? path,
    path,
    // GitHub wraps the base64 at 60 characters.
    content: inline ? `${base64.replace(/(.{60})/g, "$1\n")}\n` : "",
    sha,
    download_url: `${urls.web}/raw/${repo.full_name}/${enc(ref)}/${path}`,
    ...contentLinks(urls, repo, path, sha, "file", ref),
  };
}

export function contentEntryJson(
  urls: Urls,
  repo: RepoRecord,
  path: string,
  entry: { type: "file"; content: string } | { type: "dir" },
  ref: string,
) {
  const sha =
    entry.type === "file" ? blobSha(entry.content) : createHash("sha1").update(`tree ${path}`).digest("hex");
  return {
    type: entry.type,
    size: entry.type === "file" ? Buffer.byteLength(entry.content) : 0,
    name: path.split("/").pop() ?? path,
    path,
    sha,
    download_url: entry.type === "file" ? `${urls.web}/raw/${repo.full_name}/${enc(ref)}/${path}` : null,
    ...contentLinks(urls, repo, path, sha, entry.type, ref),
  };
}

export function workflowRunJson(
  urls: Urls,
  state: EmulatorState,
  repo: RepoRecord,
  run: WorkflowRun,
  displayTitle: string,
) {
  const api = `${urls.api}/repos/${repo.full_name}/actions/runs/${run.id}`;
  const repoJson = repositoryJson(urls, state, repo);
  const actor = userJson(urls, run.actor);
  return {
    id: run.id,
    name: run.name,
    node_id: run.node_id,
    check_suite_id: run.id + 1,
    check_suite_node_id: `CS_${run.node_id}`,
    head_branch: run.head_branch,
    head_sha: run.head_sha,
    path: run.path,
    run_number: run.run_number,
    run_attempt: run.run_attempt,
    referenced_workflows: [],
    event: run.event,
    status: run.status,
    conclusion: run.conclusion,
    workflow_id: run.workflow_numeric_id,
    url: api,
    html_url: `${urls.web}/${repo.full_name}/actions/runs/${run.id}`,
    pull_requests: [],
    created_at: ts(run.created_at),
    updated_at: ts(run.updated_at),
    actor,
    triggering_actor: userJson(urls, run.triggering_actor),
    run_started_at: ts(run.created_at),
    jobs_url: `${api}/jobs`,
    logs_url: `${api}/logs`,
    check_suite_url: `${urls.api}/repos/${repo.full_name}/check-suites/${run.id + 1}`,
    artifacts_url: `${api}/artifacts`,
    cancel_url: `${api}/cancel`,
    rerun_url: `${api}/rerun`,
    previous_attempt_url: run.run_attempt > 1 ? `${api}/attempts/${run.run_attempt - 1}` : null,
    workflow_url: `${urls.api}/repos/${repo.full_name}/actions/workflows/${run.workflow_numeric_id}`,
    head_commit: {
      id: run.head_sha,
      tree_id: run.head_sha.split("").reverse().join(""),
      message: "sandbox commit",
      timestamp: ts(repo.created_at),
      author: { name: repo.owner.login, email: `${repo.owner.login}@users.noreply.example` },
      committer: { name: "GitHub", email: "noreply@github.com" },
    },
    repository: repoJson,
    head_repository: repoJson,
    display_title: displayTitle,
  };
}

export function pullRequestJson(urls: Urls, state: EmulatorState, repo: RepoRecord, pull: PullRecord) {
  const api = `${urls.api}/repos/${repo.full_name}`;
  const html = `${urls.web}/${repo.full_name}/pull/${pull.number}`;
  const side = (s: { ref: string; sha: string }) => ({
    label: `${repo.owner.login}:${s.ref}`,
    ref: s.ref,
    sha: s.sha,
    user: userJson(urls, repo.owner),
    // A pull request's head and base repositories carry no `organization` (the full repository does).
    repo: (({ organization: _org, network_count: _n, subscribers_count: _s, ...rest }) => rest)(
      repositoryJson(urls, state, repo),
    ),
  });
  const changed = changedFiles(filesAt(repo, pull.base.sha) ?? {}, filesAt(repo, pull.head.sha) ?? {});
  return {
    url: `${api}/pulls/${pull.number}`,
    id: pull.id,
    node_id: pull.node_id,
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: `${api}/issues/${pull.number}`,
    commits_url: `${api}/pulls/${pull.number}/commits`,
    review_comments_url: `${api}/pulls/${pull.number}/comments`,
    review_comment_url: `${api}/pulls/comments{/number}`,
    comments_url: `${api}/issues/${pull.number}/comments`,
    statuses_url: `${api}/statuses/${pull.head.sha}`,
    number: pull.number,
    state: pull.state,
    locked: false,
    title: pull.title,
    user: userJson(urls, pull.user),
    body: pull.body,
    labels: [],
    milestone: null,
    active_lock_reason: null,
    created_at: ts(pull.created_at),
    updated_at: ts(pull.updated_at),
    closed_at: pull.closed_at === null ? null : ts(pull.closed_at),
    merged_at: null,
    merge_commit_sha: null,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    head: side(pull.head),
    base: side(pull.base),
    _links: {
      self: { href: `${api}/pulls/${pull.number}` },
      html: { href: html },
      issue: { href: `${api}/issues/${pull.number}` },
      comments: { href: `${api}/issues/${pull.number}/comments` },
      review_comments: { href: `${api}/pulls/${pull.number}/comments` },
      review_comment: { href: `${api}/pulls/comments{/number}` },
      commits: { href: `${api}/pulls/${pull.number}/commits` },
      statuses: { href: `${api}/statuses/${pull.head.sha}` },
    },
    author_association: authorAssociation(state, pull.user),
    auto_merge: null,
    draft: false,
    merged: false,
    mergeable: null,
    rebaseable: null,
    mergeable_state: "unknown",
    merged_by: null,
    comments: 0,
    review_comments: 0,
    maintainer_can_modify: false,
    commits: 1,
    additions: changed.reduce((n, f) => n + f.additions, 0),
    deletions: changed.reduce((n, f) => n + f.deletions, 0),
    changed_files: changed.length,
  };
}

/** What `GET /pulls/{n}/files` lists: each path that differs between two trees, with line counts. */
export function changedFiles(
  base: FileTree,
  head: FileTree,
): Array<{
  filename: string;
  status: "added" | "removed" | "modified";
  additions: number;
  deletions: number;
  content: string | null;
}> {
  const lines = (text: string) => (text === "" ? 0 : text.split("\n").length);
  const paths = [...new Set([...Object.keys(base), ...Object.keys(head)])].sort();
  const out: ReturnType<typeof changedFiles> = [];
  for (const filename of paths) {
    const before = base[filename];
    const after = head[filename];
    if (before === after) continue;
    if (before === undefined)
      out.push({ filename, status: "added", additions: lines(after!), deletions: 0, content: after! });
    else if (after === undefined)
      out.push({ filename, status: "removed", additions: 0, deletions: lines(before), content: null });
    else {
      const a = new Set(after.split("\n"));
      const b = new Set(before.split("\n"));
      out.push({
        filename,
        status: "modified",
        additions: [...a].filter((l) => !b.has(l)).length,
        deletions: [...b].filter((l) => !a.has(l)).length,
        content: after,
      });
    }
  }
  return out;
}

export function pullFileJson(
  urls: Urls,
  repo: RepoRecord,
  headSha: string,
  file: ReturnType<typeof changedFiles>[number],
) {
  const sha = file.content === null ? "0000000000000000000000000000000000000000" : blobSha(file.content);
  return {
    sha,
    filename: file.filename,
    status: file.status,
    additions: file.additions,
    deletions: file.deletions,
    changes: file.additions + file.deletions,
    blob_url: `${urls.web}/${repo.full_name}/blob/${headSha}/${file.filename}`,
    raw_url: `${urls.web}/${repo.full_name}/raw/${headSha}/${file.filename}`,
    contents_url: `${urls.api}/repos/${repo.full_name}/contents/${file.filename}?ref=${headSha}`,
  };
}

export function checkRunJson(urls: Urls, state: EmulatorState, repo: RepoRecord, run: CheckRunRecord) {
  const api = `${urls.api}/repos/${repo.full_name}/check-runs/${run.id}`;
  const pulls = [...repo.pulls.values()].filter((p) => p.state === "open" && p.head.sha === run.head_sha);
  return {
    id: run.id,
    head_sha: run.head_sha,
    node_id: run.node_id,
    external_id: run.external_id,
    url: api,
    html_url: `${urls.web}/${repo.full_name}/runs/${run.id}`,
    details_url: run.details_url ?? `${urls.web}/apps/${run.app.slug}`,
    status: run.status,
    conclusion: run.conclusion,
    started_at: ts(run.started_at),
    completed_at: run.completed_at === null ? null : ts(run.completed_at),
    output: {
      title: run.output.title,
      summary: run.output.summary,
      text: run.output.text,
      annotations_count: run.annotations.length,
      annotations_url: `${api}/annotations`,
    },
    name: run.name,
    check_suite: { id: run.check_suite_id },
    app: appJson(urls, run.app),
    pull_requests: pulls.map((p) => ({
      id: p.id,
      number: p.number,
      url: `${urls.api}/repos/${repo.full_name}/pulls/${p.number}`,
      head: {
        ref: p.head.ref,
        sha: p.head.sha,
        repo: { id: repo.id, url: `${urls.api}/repos/${repo.full_name}`, name: repo.name },
      },
      base: {
        ref: p.base.ref,
        sha: p.base.sha,
        repo: { id: repo.id, url: `${urls.api}/repos/${repo.full_name}`, name: repo.name },
      },
    })),
  };
}

export function checkAnnotationJson(
  urls: Urls,
  repo: RepoRecord,
  run: CheckRunRecord,
  a: CheckAnnotationRecord,
) {
  return {
    path: a.path,
    start_line: a.start_line,
    end_line: a.end_line,
    start_column: a.start_column ?? null,
    end_column: a.end_column ?? null,
    annotation_level: a.annotation_level,
    title: a.title ?? null,
    message: a.message,
    raw_details: a.raw_details ?? null,
    blob_href: `${urls.web}/${repo.full_name}/blob/${run.head_sha}/${a.path}`,
  };
}
