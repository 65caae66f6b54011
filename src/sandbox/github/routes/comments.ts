import { actorOf, appOf, type EmulatorContext } from "../context.ts";
import { commentJson, issueJson } from "../shapes.ts";
import {
  checkBodyLength,
  HttpError,
  notFound,
  objectBody,
  paginate,
  validationFailed,
  type Route,
  type RouteHandlerInput,
  type RouteResult,
} from "../router.ts";
import { nodeId, type CommentRecord, type RepoRecord } from "../state.ts";
import { callerHas, forbidden, issueFrom } from "./issue-helpers.ts";

export function commentFrom(
  ctx: EmulatorContext,
  repo: RepoRecord,
  idParam: string | undefined,
): CommentRecord {
  if (!idParam || !/^\d+$/.test(idParam)) throw notFound();
  const comment = ctx.state.comments.get(Number(idParam));
  if (!comment || comment.repoId !== repo.id) throw notFound();
  return comment;
}

function requiredBody(req: RouteHandlerInput["req"]): string {
  const body = objectBody(req).body;
  if (body === undefined || body === null)
    throw new HttpError(422, 'Invalid request.\n\n"body" wasn\'t supplied.');
  if (typeof body !== "string")
    throw new HttpError(422, `Invalid request.\n\nFor 'body', ${JSON.stringify(body)} is not a string.`);
  if (body.trim() === "") throw validationFailed("IssueComment", "body", "missing_field");
  checkBodyLength(body, "IssueComment");
  return body;
}

function emitComment(
  ctx: EmulatorContext,
  action: string,
  repo: RepoRecord,
  comment: CommentRecord,
  extra: Record<string, unknown>,
  sender = comment.user,
): void {
  const issue = repo.issues.get(comment.issueNumber)!;
  ctx.emit(
    "issue_comment",
    {
      action,
      issue: issueJson(ctx.urls, ctx.state, repo, issue),
      comment: commentJson(ctx.urls, ctx.state, repo, comment),
      ...extra,
    },
    repo,
    sender,
  );
}

function mayModify(ctx: EmulatorContext, input: RouteHandlerInput, comment: CommentRecord): void {
  const { caller } = input;
  const isAuthor = caller.kind === "user" && caller.actor.id === comment.user.id;
  if (!isAuthor && !callerHas(ctx, caller, "write"))
    throw forbidden("Must have push access to modify another user's comment.");
}

/** GitHub refuses new comments on an issue that already holds 2,500 (NOTES.md). */
export const MAX_ISSUE_COMMENTS = 2500;

function createComment(input: RouteHandlerInput): RouteResult {
  const { ctx, repo, caller, req, params } = input;
  const issue = issueFrom(repo, params.issue_number);
  const body = requiredBody(req);
  if (issue.commentIds.length >= MAX_ISSUE_COMMENTS)
    throw new HttpError(
      422,
      `Commenting is disabled on issues with more than ${MAX_ISSUE_COMMENTS} comments`,
    );
  const now = ctx.clock.now();
  const id = ctx.state.nextId("comment");
  const comment: CommentRecord = {
    id,
    node_id: nodeId("IC", id),
    repoId: repo.id,
    issueNumber: issue.number,
    body,
    user: actorOf(caller),
    created_at: now,
    updated_at: now,
    performed_via_github_app: appOf(caller),
    reactions: [],
  };
  ctx.state.comments.set(id, comment);
  issue.commentIds.push(id);
  issue.updated_at = now;
  emitComment(ctx, "created", repo, comment, {});
  return {
    status: 201,
    body: commentJson(ctx.urls, ctx.state, repo, comment),
    headers: { location: commentJson(ctx.urls, ctx.state, repo, comment).url },
  };
}

function listComments(
  comments: CommentRecord[],
  { ctx, repo, req }: RouteHandlerInput,
  sortable: boolean,
): RouteResult {
  const since = req.query.get("since");
  const sinceMs = since === null ? null : Date.parse(since);
  if (sinceMs !== null && Number.isNaN(sinceMs)) throw validationFailed("IssueComment", "since", "invalid");
  const sort = sortable ? (req.query.get("sort") ?? "created") : "created";
  const direction = sortable ? (req.query.get("direction") ?? "asc") : "asc";
  const key = (c: CommentRecord) => (sort === "updated" ? c.updated_at : c.created_at);
  const selected = comments
    .filter((c) => sinceMs === null || c.updated_at >= sinceMs)
    .sort((a, b) => (key(a) - key(b) || a.id - b.id) * (direction === "desc" ? -1 : 1));
  const { page, headers } = paginate(selected, req, ctx.urls.api);
  return { status: 200, body: page.map((c) => commentJson(ctx.urls, ctx.state, repo, c)), headers };
}

export const commentRoutes: Route[] = [
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/issues/comments",
    auth: "repo",
    permission: { name: "issues", level: "read" },
    handle: (input) =>
      listComments(
        [...input.ctx.state.comments.values()].filter((c) => c.repoId === input.repo.id),
        input,
        true,
      ),
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/issues/comments/{comment_id}",
    auth: "repo",
    permission: { name: "issues", level: "read" },
    handle: ({ ctx, repo, params }) => ({
      status: 200,
      body: commentJson(ctx.urls, ctx.state, repo, commentFrom(ctx, repo, params.comment_id)),
    }),
  },
  {
    method: "PATCH",
    template: "/repos/{owner}/{repo}/issues/comments/{comment_id}",
    auth: "repo",
    permission: { name: "issues", level: "write" },
    handle: (input) => {
      const { ctx, repo, params, req, caller } = input;
      const comment = commentFrom(ctx, repo, params.comment_id);
      mayModify(ctx, input, comment);
      const body = requiredBody(req);
      if (body !== comment.body) {
        const from = comment.body;
        comment.body = body;
        comment.updated_at = ctx.clock.now();
        emitComment(ctx, "edited", repo, comment, { changes: { body: { from } } }, actorOf(caller));
      }
      return { status: 200, body: commentJson(ctx.urls, ctx.state, repo, comment) };
    },
  },
  {
    method: "DELETE",
    template: "/repos/{owner}/{repo}/issues/comments/{comment_id}",
    auth: "repo",
    permission: { name: "issues", level: "write" },
    handle: (input) => {
      const { ctx, repo, params, caller } = input;
      const comment = commentFrom(ctx, repo, params.comment_id);
      mayModify(ctx, input, comment);
      // The payload shows the comment as it was; the issue no longer counts it.
      const snapshot = commentJson(ctx.urls, ctx.state, repo, comment);
      ctx.state.comments.delete(comment.id);
      const issue = repo.issues.get(comment.issueNumber)!;
      issue.commentIds = issue.commentIds.filter((id) => id !== comment.id);
      ctx.emit(
        "issue_comment",
        { action: "deleted", issue: issueJson(ctx.urls, ctx.state, repo, issue), comment: snapshot },
        repo,
        actorOf(caller),
      );
      return { status: 204 };
    },
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/issues/{issue_number}/comments",
    auth: "repo",
    permission: { name: "issues", level: "read" },
    handle: (input) => {
      const issue = issueFrom(input.repo, input.params.issue_number);
      const comments = issue.commentIds
        .map((id) => input.ctx.state.comments.get(id))
        .filter((c) => c !== undefined);
      return listComments(comments, input, false);
    },
  },
  {
    method: "POST",
    template: "/repos/{owner}/{repo}/issues/{issue_number}/comments",
    auth: "repo",
    permission: { name: "issues", level: "write" },
    handle: createComment,
  },
];
