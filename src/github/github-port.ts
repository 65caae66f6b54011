import type { Permission } from "../core/approvers.ts";
import type { Ledger } from "./ledger.ts";

/** A comment as the app needs it: who wrote it (and through which app) and what it says. */
export interface IssueComment {
  id: number;
  body: string;
  user: { login: string; type: string };
  app_id: number | null;
  /** Slug of the app a user's comment was posted through (`performed_via_github_app`), when known. */
  app_slug?: string | null;
  created_at: string;
  /** GitHub's last change of the comment (its body); equal to created_at for one never edited, at GitHub's 1-second grain. */
  updated_at?: string;
  html_url: string;
}

export interface IssueSummary {
  number: number;
  title: string;
  body: string;
  state: "open" | "closed";
  labels: string[];
  user: { login: string; type: string };
  created_at: string;
  closed_at: string | null;
  html_url: string;
  /** When anything about the issue last changed (listings and reads give it; webhook payloads too). */
  updated_at?: string;
}

/** What stands for an issue that is gone from the repository (deleted or transferred): its number and address only; its ledger entries remain. */
export const goneIssue = (port: Pick<GitHubPort, "owner" | "repo">, number: number): IssueSummary => ({
  number,
  title: "",
  body: "",
  state: "closed",
  labels: [],
  user: { login: "ghost", type: "User" },
  created_at: new Date(0).toISOString(),
  closed_at: null,
  html_url: `https://github.com/${port.owner}/${port.repo}/issues/${number}`,
});

export interface RepositoryIdentity {
  id: number;
  owner_id: number;
  full_name: string;
  default_branch: string;
}

/** A comment of any issue of the repository, as the repository-wide listing gives it (for the start-up catch-up). */
export interface RepositoryComment extends IssueComment {
  issue_number: number;
  updated_at: string;
  /** GitHub's reaction counts on the comment (who reacted needs `listCommentReactions`). */
  reactions: { rocket: number; "-1": number };
}

export type Reaction = "eyes" | "rocket" | "-1" | "+1" | "confused" | "hooray";

/**
 * Everything the app does on GitHub, for one repository. Narrow on purpose: handlers and tests deal
 * with this, not with Octokit, and the real implementation (octokit-port.ts) is the only place that
 * knows routes.
 */
export interface WorkflowRunSummary {
  id: number;
  display_title: string;
  /** The workflow file, e.g. `.github/workflows/breakglass-grant.yml`. */
  path: string;
  event: string;
  /** Login of the account whose action started the run (the app's bot for a grant it dispatched). */
  actor: string;
  /** Which attempt the run is at: 1, or more after someone re-ran it (same id, commit, ref and `actor`). */
  run_attempt: number;
  /** Who started the run's latest attempt: `actor` for the first, whoever re-ran it after. */
  triggering_actor: string;
  /** The branch the run used: on GitHub a dispatch on a branch runs that branch's copy of the workflow. */
  head_branch: string | null;
  head_sha: string;
}

export interface GitHubPort {
  readonly owner: string;
  readonly repo: string;
  /** This repository's requests in the app's ledger (the authoritative records; see ledger.ts). */
  readonly ledger: Ledger;
  repository(): Promise<RepositoryIdentity>;
  /** The same access to another repository of the owner (its `.github` defaults, say). */
  sibling(repo: string): GitHubPort;
  /**
   * A file of the default branch, or null. With the blob `sha` from a directory listing, content
   * already read under that sha is reused: a blob sha names its content, so this never goes stale.
   */
  readFile(path: string, sha?: string): Promise<string | null>;
  /**
   * Files directly in a directory of the default branch, with their blob shas; [] when it does not
   * exist. Symbolic links are listed too (`symlink: true`, no sha: the link's own blob names its
   * target's path, not the target's content).
   */
  listDirectory(path: string): Promise<Array<{ name: string; sha?: string; symlink?: boolean }>>;
  getIssue(issue: number): Promise<IssueSummary>;
  /**
   * An issue of any repository, as the app's installation can read it (for incident links): null when
   * GitHub answers 404 or 403 — it does not exist, or the app is not installed there.
   */
  readIssueAnywhere(
    owner: string,
    repo: string,
    issue: number,
  ): Promise<{ state: "open" | "closed"; is_pull_request: boolean } | null>;
  listIssues(filter: {
    labels?: string;
    state?: "open" | "closed" | "all";
    creator?: string;
    since?: string;
  }): Promise<IssueSummary[]>;
  createIssue(input: {
    title: string;
    body: string;
    labels?: string[];
    assignees?: string[];
  }): Promise<IssueSummary>;
  /** `labels` replaces the issue's whole label list (GitHub's "Update an issue"), in the same write as the rest. */
  updateIssue(
    issue: number,
    change: {
      state?: "open" | "closed";
      state_reason?: "completed" | "not_planned" | "reopened";
      body?: string;
      title?: string;
      labels?: string[];
    },
  ): Promise<void>;
  listComments(issue: number): Promise<IssueComment[]>;
  /** Comments on every issue of the repository updated at or after `since` (ISO time), oldest first. */
  listRepositoryComments?(since: string): Promise<RepositoryComment[]>;
  /** Who reacted how to a comment. */
  listCommentReactions?(commentId: number): Promise<Array<{ content: string; user: string }>>;
  createComment(issue: number, body: string): Promise<IssueComment>;
  updateComment(commentId: number, body: string): Promise<void>;
  react(commentId: number, reaction: Reaction): Promise<void>;
  addLabels(issue: number, labels: string[]): Promise<void>;
  removeLabel(issue: number, label: string): Promise<void>;
  /** The repository's label names. */
  listLabels(): Promise<string[]>;
  /** Creates a repository label; false when it already exists (another replica made it first). */
  createLabel(label: { name: string; color: string; description: string }): Promise<boolean>;
  teamMembers(team: string): Promise<string[]>;
  permission(login: string): Promise<Permission>;
  /** A person's SSH *signing* keys on GitHub, as key lines (`ssh-ed25519 AAAA…`); [] when they have none. */
  sshSigningKeys(login: string): Promise<string[]>;
  /** The team's own permission on this repository ("none" when it has no access): a CODEOWNERS team needs write. */
  teamPermission(team: string): Promise<Permission>;
  /** Dispatches a workflow and returns the id of the run GitHub created (`return_run_details`), or null if GitHub did not say. */
  dispatchWorkflow(
    workflow: string,
    ref: string,
    inputs: Record<string, string>,
  ): Promise<{ run_id: number | null }>;
  /** A workflow run: its title (the grant workflow's `run-name` names the issue), file and who started it. */
  getWorkflowRun(runId: number): Promise<WorkflowRunSummary | null>;
  reviewDeploymentProtection(
    runId: number,
    input: { environment_name: string; state: "approved" | "rejected"; comment: string },
  ): Promise<void>;
}
