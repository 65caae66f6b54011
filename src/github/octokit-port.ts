import type { Permission } from "../core/approvers.ts";
import type {
  GitHubPort,
  IssueComment,
  IssueSummary,
  Reaction,
  RepositoryComment,
  RepositoryIdentity,
} from "./github-port.ts";
import { DEFAULT_LEDGER_REPO, gitLedger } from "./git-ledger.ts";

import type { PortOctokit } from "./port-octokit.ts";

export type { PortOctokit };

interface RawIssue {
  number: number;
  title: string;
  body?: string | null;
  state: string;
  labels: Array<string | { name?: string }>;
  user: { login: string; type: string } | null;
  created_at: string;
  closed_at: string | null;
  html_url: string;
  updated_at?: string;
  pull_request?: unknown;
}

interface RawComment {
  id: number;
  body?: string;
  user: { login: string; type: string } | null;
  performed_via_github_app?: { id: number; slug?: string } | null;
  created_at: string;
  updated_at?: string;
  html_url: string;
}

const toIssue = (i: RawIssue): IssueSummary => ({
  number: i.number,
  title: i.title,
  body: i.body ?? "",
  state: i.state === "closed" ? "closed" : "open",
  labels: i.labels.map((l) => (typeof l === "string" ? l : (l.name ?? ""))).filter(Boolean),
  user: { login: i.user?.login ?? "ghost", type: i.user?.type ?? "User" },
  created_at: i.created_at,
  closed_at: i.closed_at,
  html_url: i.html_url,
  ...(i.updated_at ? { updated_at: i.updated_at } : {}),
});

const toComment = (c: RawComment): IssueComment => ({
  id: c.id,
  body: c.body ?? "",
  user: { login: c.user?.login ?? "ghost", type: c.user?.type ?? "User" },
  app_id: c.performed_via_github_app?.id ?? null,
  app_slug: c.performed_via_github_app?.slug ?? null,
  created_at: c.created_at,
  ...(c.updated_at ? { updated_at: c.updated_at } : {}),
  html_url: c.html_url,
});

const ROLES: ReadonlySet<string> = new Set(["admin", "maintain", "write", "triage", "read", "none"]);

const isStatus = (error: unknown, status: number): boolean =>
  typeof error === "object" && error !== null && (error as { status?: number }).status === status;

/**
 * File contents by git blob sha. A blob sha is the hash of the content, so an entry can never be
 * stale and sharing it across requests, installations and repositories is safe; it only saves the
 * re-reading of unchanged policies on every webhook. Bounded; oldest entries go first.
 */
const blobCache = new Map<string, string>();
const BLOB_CACHE_ENTRIES = 2000;
function rememberBlob(sha: string, text: string): void {
  if (!/^[0-9a-f]{40,64}$/.test(sha)) return;
  blobCache.delete(sha);
  blobCache.set(sha, text);
  if (blobCache.size > BLOB_CACHE_ENTRIES) blobCache.delete(blobCache.keys().next().value!);
}

/**
 * Configuration files and directories read conditionally: the last answer's `etag` is sent back as
 * `If-None-Match`, and GitHub answers 304 when nothing changed, which "does not count against your
 * primary rate limit" (GitHub's "Best practices for using the REST API"). GitHub still decides every
 * time, so a changed policy is read at once; only the unchanged body is reused. Bounded.
 */
const conditionalCache = new Map<string, { etag: string; data: unknown }>();
const CONDITIONAL_CACHE_ENTRIES = 500;
async function getContentConditionally(
  octokit: PortOctokit,
  owner: string,
  repo: string,
  path: string,
): Promise<unknown> {
  const key = `${owner}/${repo}:${path}`.toLowerCase();
  const cached = conditionalCache.get(key);
  try {
    const response = await octokit.rest.repos.getContent({
      owner,
      repo,
      path,
      ...(cached ? { headers: { "if-none-match": cached.etag } } : {}),
    });
    const etag = (response.headers as Record<string, string> | undefined)?.etag;
    conditionalCache.delete(key);
    if (etag) {
      conditionalCache.set(key, { etag, data: response.data });
      if (conditionalCache.size > CONDITIONAL_CACHE_ENTRIES)
        conditionalCache.delete(conditionalCache.keys().next().value!);
    }
    return response.data;
  } catch (error) {
    if (cached && isStatus(error, 304)) return cached.data;
    conditionalCache.delete(key);
    throw error;
  }
}

/**
 * `ledgerRepo` names the repository of the same owner that holds the ledger (default
 * `breakglass-ledger`); the installation must cover it with contents: write.
 */
export function octokitPort(
  octokit: PortOctokit,
  owner: string,
  repo: string,
  ledgerRepo = DEFAULT_LEDGER_REPO,
): GitHubPort {
  const base = { owner, repo };
  let identity: Promise<RepositoryIdentity> | null = null;
  return {
    owner,
    repo,
    ledger: gitLedger(octokit, owner, ledgerRepo, owner, repo),
    sibling: (other) => octokitPort(octokit, owner, other, ledgerRepo),
    repository() {
      identity ??= octokit.rest.repos.get(base).then(({ data }) => ({
        id: data.id,
        owner_id: data.owner.id,
        full_name: data.full_name,
        default_branch: data.default_branch,
      }));
      return identity;
    },
    async readFile(path, sha) {
      const known = sha === undefined ? undefined : blobCache.get(sha);
      if (known !== undefined) return known;
      try {
        const data = (await getContentConditionally(octokit, owner, repo, path)) as
          { type: string; content?: string; encoding?: string; sha: string } | unknown[];
        if (Array.isArray(data) || data.type !== "file" || typeof data.content !== "string") return null;
        // Over 1 MB GitHub leaves `content` empty (encoding "none"): the blob has it (CODEOWNERS may be 3 MB).
        const inline = data.encoding !== "none";
        const base64 = inline
          ? data.content
          : (await octokit.rest.git.getBlob({ ...base, file_sha: data.sha })).data.content;
        const text = Buffer.from(base64, "base64").toString("utf8");
        rememberBlob(data.sha, text);
        return text;
      } catch (error) {
        if (isStatus(error, 404)) return null;
        throw error;
      }
    },
    async listDirectory(path) {
      try {
        const data = (await getContentConditionally(octokit, owner, repo, path)) as
          Array<{ type: string; name: string; sha: string }> | object;
        if (!Array.isArray(data)) return [];
        return data.flatMap((e): Array<{ name: string; sha?: string; symlink?: boolean }> =>
          e.type === "file"
            ? [{ name: e.name, sha: e.sha }]
            : e.type === "symlink"
              ? [{ name: e.name, symlink: true }]
              : [],
        );
      } catch (error) {
        if (isStatus(error, 404)) return [];
        throw error;
      }
    },
    async getIssue(issue) {
      const { data } = await octokit.rest.issues.get({ ...base, issue_number: issue });
      return toIssue(data as RawIssue);
    },
    async readIssueAnywhere(issueOwner, issueRepo, issue) {
      try {
        const { data } = await octokit.rest.issues.get({
          owner: issueOwner,
          repo: issueRepo,
          issue_number: issue,
        });
        return {
          state: data.state === "closed" ? "closed" : "open",
          is_pull_request: Boolean((data as RawIssue).pull_request),
        };
      } catch (error) {
        if (isStatus(error, 404) || isStatus(error, 403) || isStatus(error, 410)) return null;
        throw error;
      }
    },
    async listIssues(filter) {
      const issues = await octokit.paginate(octokit.rest.issues.listForRepo, {
        ...base,
        per_page: 100,
        state: filter.state ?? "open",
        ...(filter.labels ? { labels: filter.labels } : {}),
        ...(filter.creator ? { creator: filter.creator } : {}),
        ...(filter.since ? { since: filter.since } : {}),
      });
      return (issues as RawIssue[]).filter((i) => !i.pull_request).map(toIssue);
    },
    async createIssue(input) {
      const { data } = await octokit.rest.issues.create({ ...base, ...input });
      return toIssue(data as RawIssue);
    },
    async updateIssue(issue, change) {
      await octokit.rest.issues.update({ ...base, issue_number: issue, ...change });
    },
    async listComments(issue) {
      const comments = await octokit.paginate(octokit.rest.issues.listComments, {
        ...base,
        issue_number: issue,
        per_page: 100,
      });
      return (comments as RawComment[]).map(toComment);
    },
    async listRepositoryComments(since) {
      const comments = await octokit.paginate(octokit.rest.issues.listCommentsForRepo, {
        ...base,
        since,
        sort: "updated",
        direction: "asc",
        per_page: 100,
      });
      return (
        comments as Array<
          RawComment & {
            issue_url: string;
            updated_at: string;
            reactions?: { rocket?: number; "-1"?: number };
          }
        >
      ).map((c): RepositoryComment => ({
        ...toComment(c),
        issue_number: Number(c.issue_url.split("/").pop()),
        updated_at: c.updated_at,
        reactions: { rocket: c.reactions?.rocket ?? 0, "-1": c.reactions?.["-1"] ?? 0 },
      }));
    },
    async listCommentReactions(commentId) {
      const reactions = await octokit.paginate(octokit.rest.reactions.listForIssueComment, {
        ...base,
        comment_id: commentId,
        per_page: 100,
      });
      return reactions.map((r) => ({ content: r.content, user: r.user?.login ?? "ghost" }));
    },
    async createComment(issue, body) {
      const { data } = await octokit.rest.issues.createComment({ ...base, issue_number: issue, body });
      return toComment(data as RawComment);
    },
    async updateComment(commentId, body) {
      await octokit.rest.issues.updateComment({ ...base, comment_id: commentId, body });
    },
    async react(commentId, content: Reaction) {
      await octokit.rest.reactions.createForIssueComment({ ...base, comment_id: commentId, content });
    },
    async addLabels(issue, labels) {
      await octokit.rest.issues.addLabels({ ...base, issue_number: issue, labels });
    },
    async removeLabel(issue, name) {
      try {
        await octokit.rest.issues.removeLabel({ ...base, issue_number: issue, name });
      } catch (error) {
        if (!isStatus(error, 404)) throw error;
      }
    },
    async listLabels() {
      const labels = await octokit.paginate(octokit.rest.issues.listLabelsForRepo, {
        ...base,
        per_page: 100,
      });
      return labels.map((l) => l.name);
    },
    async createLabel(label) {
      try {
        await octokit.rest.issues.createLabel({ ...base, ...label });
        return true;
      } catch (error) {
        if (isStatus(error, 422)) return false;
        throw error;
      }
    },
    async teamMembers(team) {
      const [org, slug] = team.replace(/^@/, "").split("/");
      try {
        const members = await octokit.paginate(octokit.rest.teams.listMembersInOrg, {
          org: org ?? "",
          team_slug: slug ?? "",
          per_page: 100,
        });
        return members.map((m) => m.login);
      } catch (error) {
        if (isStatus(error, 404)) return [];
        throw error;
      }
    },
    async teamPermission(team) {
      const [org, slug] = team.replace(/^@/, "").split("/");
      try {
        const { data } = await octokit.rest.teams.checkPermissionsForRepoInOrg({
          org: org ?? "",
          team_slug: slug ?? "",
          owner,
          repo,
          headers: { accept: "application/vnd.github.v3.repository+json" },
        });
        const found = data as { role_name?: string; permissions?: Record<string, boolean> } | undefined;
        if (found?.role_name && ROLES.has(found.role_name)) return found.role_name as Permission;
        const p = found?.permissions ?? {};
        return p.admin
          ? "admin"
          : p.maintain
            ? "maintain"
            : p.push
              ? "write"
              : p.triage
                ? "triage"
                : p.pull
                  ? "read"
                  : "none";
      } catch (error) {
        if (isStatus(error, 404)) return "none";
        throw error;
      }
    },
    async permission(login) {
      try {
        const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({
          ...base,
          username: login,
        });
        // `permission` is the legacy base role (triage reads as read, maintain as write); `role_name`
        // is the real one unless it is a custom role.
        return (ROLES.has(data.role_name) ? data.role_name : data.permission) as Permission;
      } catch (error) {
        if (isStatus(error, 404)) return "none";
        throw error;
      }
    },
    async sshSigningKeys(login) {
      const keys = await octokit.paginate(octokit.rest.users.listSshSigningKeysForUser, {
        username: login,
        per_page: 100,
      });
      return keys.map((k) => k.key);
    },
    async dispatchWorkflow(workflow, ref, inputs) {
      // With return_run_details GitHub answers 200 with the new run's id (since 2026-02), so the app
      // knows exactly which run it started and hands credentials to that run only.
      const response = await octokit.rest.actions.createWorkflowDispatch({
        ...base,
        workflow_id: workflow,
        ref,
        inputs,
        return_run_details: true,
      });
      const data = response.data as { workflow_run_id?: unknown } | undefined;
      return { run_id: typeof data?.workflow_run_id === "number" ? data.workflow_run_id : null };
    },
    async getWorkflowRun(runId) {
      try {
        const { data } = await octokit.rest.actions.getWorkflowRun({ ...base, run_id: runId });
        return {
          id: data.id,
          display_title: data.display_title,
          path: data.path,
          event: data.event,
          actor: data.actor?.login ?? "",
          run_attempt: data.run_attempt ?? 1,
          triggering_actor: data.triggering_actor?.login ?? data.actor?.login ?? "",
          head_branch: data.head_branch ?? null,
          head_sha: data.head_sha,
        };
      } catch (error) {
        if (isStatus(error, 404)) return null;
        throw error;
      }
    },
    async reviewDeploymentProtection(runId, input) {
      await octokit.request("POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule", {
        ...base,
        run_id: runId,
        ...input,
      });
    },
  };
}
