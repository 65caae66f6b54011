import { actorOf } from "../context.ts";
import { reactionJson } from "../shapes.ts";
import {
  HttpError,
  notFound,
  objectBody,
  paginate,
  type Route,
  type RouteHandlerInput,
  type RouteResult,
} from "../router.ts";
import { nodeId, REACTIONS, type ReactionContent, type ReactionRecord } from "../state.ts";
import { commentFrom } from "./comments.ts";
import { issueFrom } from "./issue-helpers.ts";

type Target = (input: RouteHandlerInput) => { reactions: ReactionRecord[] };

const onComment: Target = ({ ctx, repo, params }) => commentFrom(ctx, repo, params.comment_id);
const onIssue: Target = ({ repo, params }) => issueFrom(repo, params.issue_number);

function contentOf(value: unknown): ReactionContent {
  if (typeof value !== "string" || !REACTIONS.includes(value as ReactionContent)) {
    throw new HttpError(422, "Validation Failed", {
      errors: [{ resource: "Reaction", field: "content", code: "invalid", value }],
    });
  }
  return value as ReactionContent;
}

/** Reacting twice with the same content returns the existing reaction with 200, as GitHub does. Reactions send no webhook. */
function create(target: Target) {
  return (input: RouteHandlerInput): RouteResult => {
    const subject = target(input);
    const content = contentOf(objectBody(input.req).content);
    const user = actorOf(input.caller);
    const existing = subject.reactions.find((r) => r.user.id === user.id && r.content === content);
    if (existing) return { status: 200, body: reactionJson(input.ctx.urls, existing) };
    const id = input.ctx.state.nextId("reaction");
    const reaction: ReactionRecord = {
      id,
      node_id: nodeId("REA", id),
      user,
      content,
      created_at: input.ctx.clock.now(),
    };
    subject.reactions.push(reaction);
    return { status: 201, body: reactionJson(input.ctx.urls, reaction) };
  };
}

function list(target: Target) {
  return (input: RouteHandlerInput): RouteResult => {
    const filter = input.req.query.get("content");
    if (filter !== null) contentOf(filter);
    const reactions = target(input).reactions.filter((r) => filter === null || r.content === filter);
    const { page, headers } = paginate(reactions, input.req, input.ctx.urls.api);
    return { status: 200, body: page.map((r) => reactionJson(input.ctx.urls, r)), headers };
  };
}

function remove(target: Target) {
  return (input: RouteHandlerInput): RouteResult => {
    const subject = target(input);
    const index = subject.reactions.findIndex((r) => String(r.id) === input.params.reaction_id);
    if (index === -1) throw notFound();
    const user = actorOf(input.caller);
    if (subject.reactions[index]!.user.id !== user.id) throw notFound();
    subject.reactions.splice(index, 1);
    return { status: 204 };
  };
}

const read = { name: "issues", level: "read" } as const;
const write = { name: "issues", level: "write" } as const;

export const reactionRoutes: Route[] = [
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
    auth: "repo",
    permission: read,
    handle: list(onComment),
  },
  {
    method: "POST",
    template: "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
    auth: "repo",
    permission: write,
    handle: create(onComment),
  },
  {
    method: "DELETE",
    template: "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions/{reaction_id}",
    auth: "repo",
    permission: write,
    handle: remove(onComment),
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/issues/{issue_number}/reactions",
    auth: "repo",
    permission: read,
    handle: list(onIssue),
  },
  {
    method: "POST",
    template: "/repos/{owner}/{repo}/issues/{issue_number}/reactions",
    auth: "repo",
    permission: write,
    handle: create(onIssue),
  },
  {
    method: "DELETE",
    template: "/repos/{owner}/{repo}/issues/{issue_number}/reactions/{reaction_id}",
    auth: "repo",
    permission: write,
    handle: remove(onIssue),
  },
];
