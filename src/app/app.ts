import type { ApplicationFunction, Context, Probot } from "probot";
import type { BreakglassDeps } from "./infra/deps.ts";
import type { GitHubPort, IssueComment, IssueSummary } from "../github/github-port.ts";
import { handleReviewClose } from "./webhooks/handle-review-close.ts";
import { handleCommand } from "./webhooks/handle-command.ts";
import { handleCommentChange } from "./webhooks/handle-comment-change.ts";
import { handleRecordTampering } from "./webhooks/handle-record-tampering.ts";
import { isAppComment } from "../github/issue-records.ts";
import { handleLabelChange } from "./webhooks/handle-label-change.ts";
import { sayWhenLedgerUnavailable } from "./infra/ledger-unavailable-notice.ts";
import { handleRequestIssue } from "./webhooks/handle-request-issue.ts";
import { handleRequestClosed } from "./webhooks/handle-request-closed.ts";
import { handleIncidentClosed } from "./webhooks/handle-incident-closed.ts";
import { handleDeploymentProtection } from "./webhooks/handle-deployment-protection.ts";
import { handleReviewComment, mayBeReviewCommand } from "./webhooks/handle-review-comment.ts";
import { handleReviewEdit } from "./webhooks/handle-review-edit.ts";
import { accessReviewLockKey, accessReviewPeriodOf } from "./webhooks/access-review-issue.ts";
import { handleAccessReviewClose } from "./webhooks/handle-access-review-close.ts";
import { handleAccessReviewEdit } from "./webhooks/handle-access-review-edit.ts";
import { handleMetricsEdit, metricsLockKey, metricsMonthOf } from "./webhooks/handle-metrics-edit.ts";
import {
  handleGovernanceCommentChange,
  isGovernanceIssue,
} from "./webhooks/handle-governance-comment-change.ts";
import {
  handleAccessReviewComment,
  mayBeAccessReviewCommand,
} from "./webhooks/handle-access-review-comment.ts";
import { reviewedRequestNumber } from "./webhooks/review-issue.ts";
import type { IssueLock } from "./infra/issue-lock.ts";
import { octokitPort, type PortOctokit } from "../github/octokit-port.ts";

import { ensureAppLabels } from "./webhooks/recognise-request.ts";
import { REQUEST_LABEL } from "../core/labels.ts";
import { handlePolicyPullRequest } from "./webhooks/handle-policy-pull-request.ts";
import { octokitPolicyCheckPort } from "./webhooks/policy-check-port.ts";

export interface RawIssuePayload {
  number: number;
  title: string;
  body?: string | null;
  state: string;
  labels?: Array<{ name?: string } | string>;
  user: { login: string; type: string } | null;
  created_at: string;
  closed_at: string | null;
  html_url: string;
}

export const issueFromPayload = (i: RawIssuePayload): IssueSummary => ({
  number: i.number,
  title: i.title,
  body: i.body ?? "",
  state: i.state === "closed" ? "closed" : "open",
  labels: (i.labels ?? []).map((l) => (typeof l === "string" ? l : (l.name ?? ""))).filter(Boolean),
  user: { login: i.user?.login ?? "ghost", type: i.user?.type ?? "User" },
  created_at: i.created_at,
  closed_at: i.closed_at,
  html_url: i.html_url,
});

export const commentFromPayload = (c: {
  id: number;
  body?: string | null;
  user: { login: string; type: string } | null;
  performed_via_github_app?: unknown;
  created_at: string;
  html_url: string;
}): IssueComment => ({
  id: c.id,
  body: c.body ?? "",
  user: { login: c.user?.login ?? "ghost", type: c.user?.type ?? "User" },
  app_id: (c.performed_via_github_app as { id?: number } | null | undefined)?.id ?? null,
  app_slug: (c.performed_via_github_app as { slug?: string } | null | undefined)?.slug ?? null,
  created_at: c.created_at,
  html_url: c.html_url,
});

/**
 * The Probot application: webhooks in, decisions from src/core, records and comments out. Every
 * handler works on one issue under that issue's lock.
 */
export function breakglassApp(deps: BreakglassDeps, lock: IssueLock): ApplicationFunction {
  return (app: Probot) => {
    const portOf = (context: Context): GitHubPort => {
      const { owner, repo } = context.repo();
      return octokitPort(context.octokit as unknown as PortOctokit, owner, repo, deps.ledgerRepo);
    };
    const key = (context: Context, issue: number) =>
      `${context.repo().owner}/${context.repo().repo}#${issue}`;

    app.on(["issues.opened", "issues.edited", "issues.reopened", "issues.labeled"], async (context) => {
      const issue = issueFromPayload(context.payload.issue as RawIssuePayload);
      if (
        context.payload.action === "labeled" &&
        (context.payload as { label?: { name: string } }).label?.name !== REQUEST_LABEL
      )
        return;
      const port = portOf(context);
      await lock(key(context, issue.number), () =>
        sayWhenLedgerUnavailable(port, issue.number, context.payload.sender.login, () =>
          handleRequestIssue(deps, port, issue, context.payload.sender.login, context.payload.action),
        ),
      );
    });

    app.on(["issues.labeled", "issues.unlabeled"], async (context) => {
      const issue = issueFromPayload(context.payload.issue as RawIssuePayload);
      const label = (context.payload as { label?: { name?: string } }).label?.name ?? "";
      // A `breakglass` label on an issue not recorded yet is a new request (above); the rest is display.
      if (
        context.payload.action === "labeled" &&
        label === REQUEST_LABEL &&
        issue.user.login !== deps.identity.login
      )
        return;
      await lock(key(context, issue.number), () =>
        handleLabelChange(deps, portOf(context), issue, label, context.payload.sender.login),
      );
    });

    // The request form's label must exist before anyone files it: GitHub does not create it.
    app.on(["installation.created", "installation_repositories.added"], async (context) => {
      const payload = context.payload as {
        repositories?: Array<{ full_name: string }>;
        repositories_added?: Array<{ full_name: string }>;
      };
      for (const { full_name } of payload.repositories_added ?? payload.repositories ?? []) {
        const [owner, repo] = full_name.split("/");
        if (owner && repo)
          await ensureAppLabels(
            octokitPort(context.octokit as unknown as PortOctokit, owner, repo, deps.ledgerRepo),
          );
      }
    });

    app.on("issues.closed", async (context) => {
      const issue = issueFromPayload(context.payload.issue as RawIssuePayload);

      const accessReview = accessReviewPeriodOf(deps, issue);
      if (accessReview !== null) {
        const port = portOf(context);
        await lock(accessReviewLockKey(port, accessReview), () =>
          handleAccessReviewClose(deps, port, issue, context.payload.sender.login),
        );
        return;
      }
      if (issue.user.login === deps.identity.login) {
        const review = reviewedRequestNumber(issue, deps.identity.login) ?? issue.number;
        await lock(key(context, review), () =>
          handleReviewClose(deps, portOf(context), issue, context.payload.sender.login),
        );
      }
      await lock(key(context, issue.number), () =>
        handleRequestClosed(deps, portOf(context), issue, context.payload.sender.login),
      );
      // Outside the closed issue's lock: each request tied to it is handled under its own.
      await handleIncidentClosed(
        deps,
        portOf(context),
        issue,
        context.payload.sender.login,
        lock,
        async (owner, repo) => (deps.portFor ? deps.portFor(owner, repo) : null),
      );
    });

    // A monthly metrics issue's figures are the app's, signed in the ledger: an edit is put back.
    app.on("issues.edited", async (context) => {
      const issue = issueFromPayload(context.payload.issue as RawIssuePayload);
      const formerTitle = (context.payload as { changes?: { title?: { from?: string } } }).changes?.title
        ?.from;
      const month = metricsMonthOf(deps, issue, formerTitle);
      if (month === null) return;
      const port = portOf(context);
      await lock(metricsLockKey(port, month), () =>
        handleMetricsEdit(deps, port, issue, context.payload.sender.login, formerTitle),
      );
    });

    app.on("issue_comment.created", async (context) => {
      const issue = issueFromPayload(context.payload.issue as RawIssuePayload);
      const comment = commentFromPayload(
        context.payload.comment as unknown as Parameters<typeof commentFromPayload>[0],
      );
      // The webhook's sender is who GitHub authenticated; the comment's user must be the same person.
      if (comment.user.login !== context.payload.sender.login) return;
      const port = portOf(context);
      await lock(key(context, issue.number), () =>
        sayWhenLedgerUnavailable(port, issue.number, comment.user.login, () =>
          handleCommand(deps, port, issue, comment),
        ),
      );
    });

    app.on(["issue_comment.edited", "issue_comment.deleted"], async (context) => {
      const issue = issueFromPayload(context.payload.issue as RawIssuePayload);
      const comment = commentFromPayload(
        context.payload.comment as unknown as Parameters<typeof commentFromPayload>[0],
      );
      const change = context.payload.action === "edited" ? "edited" : "deleted";
      const previousBody = (context.payload as { changes?: { body?: { from?: unknown } } }).changes?.body
        ?.from;
      if (isAppComment(comment, deps.identity) && isGovernanceIssue(deps, issue)) {
        await handleGovernanceCommentChange(
          deps,
          portOf(context),
          issue,
          change,
          context.payload.sender.login,
          {
            id: comment.id,
            body: comment.body,
            ...(typeof previousBody === "string" ? { previousBody } : {}),
          },
        );
        return;
      }
      if (isAppComment(comment, deps.identity)) {
        await lock(key(context, issue.number), () =>
          handleRecordTampering(deps, portOf(context), issue, change, context.payload.sender.login, {
            id: comment.id,
            ...(typeof (context.payload as { changes?: { body?: { from?: unknown } } }).changes?.body
              ?.from === "string"
              ? {
                  previousBody: (context.payload as { changes: { body: { from: string } } }).changes.body
                    .from,
                }
              : {}),
          }),
        );
        return;
      }
      await lock(key(context, issue.number), () =>
        handleCommentChange(deps, portOf(context), issue, comment, change),
      );
    });

    // Post-event reviews write to their request's records, so they run under the request's lock.
    app.on("issues.edited", async (context) => {
      const issue = issueFromPayload(context.payload.issue as RawIssuePayload);
      const request = reviewedRequestNumber(issue, deps.identity.login);
      if (request === null) return;
      const { sender, changes } = context.payload as {
        sender: { login: string; type: string };
        changes?: { body?: { from?: string } };
      };
      const edit = {
        sender: { login: sender.login, type: sender.type },
        before: changes?.body?.from,
        editKey: context.id,
      };
      await lock(key(context, request), () => handleReviewEdit(deps, portOf(context), issue, edit));
    });

    app.on("issue_comment.created", async (context) => {
      const issue = issueFromPayload(context.payload.issue as RawIssuePayload);
      const comment = commentFromPayload(
        context.payload.comment as unknown as Parameters<typeof commentFromPayload>[0],
      );
      if (comment.user.login !== context.payload.sender.login || !mayBeReviewCommand(deps, issue, comment))
        return;
      await lock(key(context, reviewedRequestNumber(issue, deps.identity.login)!), () =>
        handleReviewComment(deps, portOf(context), issue, comment),
      );
    });

    // Access reviews live in their own ledger chain, one per period: they run under that period's lock.
    app.on("issues.edited", async (context) => {
      const issue = issueFromPayload(context.payload.issue as RawIssuePayload);
      const formerTitle = (context.payload as { changes?: { title?: { from?: string } } }).changes?.title
        ?.from;
      const period = accessReviewPeriodOf(deps, issue, formerTitle);
      if (period === null) return;
      const port = portOf(context);
      await lock(accessReviewLockKey(port, period), () =>
        handleAccessReviewEdit(deps, port, issue, context.payload.sender.login, formerTitle),
      );
    });

    app.on("issue_comment.created", async (context) => {
      const issue = issueFromPayload(context.payload.issue as RawIssuePayload);
      const comment = commentFromPayload(
        context.payload.comment as unknown as Parameters<typeof commentFromPayload>[0],
      );
      if (
        comment.user.login !== context.payload.sender.login ||
        !mayBeAccessReviewCommand(deps, issue, comment)
      )
        return;
      const port = portOf(context);
      await lock(accessReviewLockKey(port, accessReviewPeriodOf(deps, issue)!), () =>
        handleAccessReviewComment(deps, port, issue, comment),
      );
    });

    app.on(["pull_request.opened", "pull_request.synchronize", "pull_request.reopened"], async (context) => {
      const pr = context.payload.pull_request;
      const { owner, repo } = context.repo();
      // Only pull requests within the repository: a fork's head is not ours to read by the repository's name.
      if (pr.head.repo?.full_name && pr.head.repo.full_name !== `${owner}/${repo}`) return;
      const port = octokitPolicyCheckPort(
        context.octokit as unknown as PortOctokit,
        owner,
        repo,
        portOf(context),
      );
      await handlePolicyPullRequest(
        port,
        {
          number: pr.number,
          head_sha: pr.head.sha,
          base_ref: pr.base.ref,
          default_branch: context.payload.repository.default_branch,
        },
        [deps.grantWorkflow, deps.sweepWorkflow, deps.drillWorkflow],
      );
    });

    app.on("deployment_protection_rule.requested", async (context) => {
      await handleDeploymentProtection(
        deps,
        portOf(context),
        context.payload as unknown as Parameters<typeof handleDeploymentProtection>[2],
      );
    });
  };
}
