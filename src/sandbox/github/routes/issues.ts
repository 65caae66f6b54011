import { actorOf, appOf, type EmulatorContext } from "../context.ts";
import { issueJson, labelJson, userJson } from "../shapes.ts";
import {
  checkBodyLength,
  HttpError,
  objectBody,
  optionalString,
  paginate,
  stringList,
  validationFailed,
  type Route,
  type RouteHandlerInput,
  type RouteResult,
} from "../router.ts";
import {
  findUser,
  hasRole,
  nodeId,
  type IssueRecord,
  type LabelRecord,
  type RepoRecord,
  type UserRecord,
} from "../state.ts";
import {
  addLabels,
  callerHas,
  emitIssueEvent,
  ensureLabel,
  forbidden,
  issueFrom,
  labelNames,
  removeLabel,
} from "./issue-helpers.ts";

const STATE_REASONS = new Set(["completed", "not_planned", "reopened", "duplicate"]);

/** People an issue can be assigned to: anyone who can see the repository. */
function assignable(ctx: EmulatorContext, logins: string[]): UserRecord[] {
  return logins.map((login) => {
    const user = findUser(ctx.state, login);
    if (!user || user.type === "Organization" || !hasRole(ctx.state, user.login, "read")) {
      throw new HttpError(422, "Validation Failed", {
        errors: [{ value: login, resource: "Issue", field: "assignees", code: "invalid" }],
      });
    }
    return user;
  });
}

function setAssignees(
  ctx: EmulatorContext,
  repo: RepoRecord,
  issue: IssueRecord,
  next: UserRecord[],
  sender: UserRecord,
): void {
  const removed = issue.assignees.filter((a) => !next.some((n) => n.id === a.id));
  const added = next.filter((n) => !issue.assignees.some((a) => a.id === n.id));
  if (!removed.length && !added.length) return;
  issue.assignees = [...issue.assignees.filter((a) => !removed.includes(a)), ...added];
  issue.updated_at = ctx.clock.now();
  for (const user of removed)
    emitIssueEvent(ctx, "unassigned", repo, issue, sender, { assignee: userJson(ctx.urls, user) });
  for (const user of added)
    emitIssueEvent(ctx, "assigned", repo, issue, sender, { assignee: userJson(ctx.urls, user) });
}

/**
 * Creates an issue with labels already on it, as GitHub does: the `opened` payload carries them,
 * and one `labeled` delivery follows for each.
 */
export function openIssue(
  ctx: EmulatorContext,
  repo: RepoRecord,
  input: {
    title: string;
    body: string | null;
    author: UserRecord;
    app: IssueRecord["performed_via_github_app"];
    labels: LabelRecord[];
    assignees?: UserRecord[];
  },
): IssueRecord {
  const now = ctx.clock.now();
  const id = ctx.state.nextId("issue");
  const labels = input.labels.filter(
    (l, i, all) => all.findIndex((o) => o.name.toLowerCase() === l.name.toLowerCase()) === i,
  );
  const issue: IssueRecord = {
    id,
    node_id: nodeId("I", id),
    number: repo.nextIssueNumber++,
    repoId: repo.id,
    title: input.title,
    body: input.body === "" ? null : input.body,
    user: input.author,
    labels: labels.map((l) => l.name),
    assignees: [],
    state: "open",
    state_reason: null,
    locked: false,
    created_at: now,
    updated_at: now,
    closed_at: null,
    closed_by: null,
    performed_via_github_app: input.app,
    reactions: [],
    commentIds: [],
  };
  repo.issues.set(issue.number, issue);
  emitIssueEvent(ctx, "opened", repo, issue, input.author);
  for (const label of labels)
    emitIssueEvent(ctx, "labeled", repo, issue, input.author, { label: labelJson(ctx.urls, repo, label) });
  if (input.assignees) setAssignees(ctx, repo, issue, input.assignees, input.author);
  return issue;
}

function createIssue({ ctx, repo, caller, req }: RouteHandlerInput): RouteResult {
  const body = objectBody(req);
  if (body.title === undefined || body.title === null || body.title === "")
    throw new HttpError(422, 'Invalid request.\n\n"title" wasn\'t supplied.');
  const title = typeof body.title === "number" ? String(body.title) : optionalString(body, "title", "Issue")!;
  const text = body.body === null ? null : (optionalString(body, "body", "Issue") ?? null);
  checkBodyLength(text, "Issue");
  const labels = body.labels === undefined ? [] : labelNames(body.labels);
  const assigneeLogins = [
    ...(stringList(body, "assignees", "Issue") ?? []),
    ...(typeof body.assignee === "string" ? [body.assignee] : []),
  ];
  // "Only users with push access can set labels/assignees for new issues. They are silently dropped otherwise."
  // With push access, a label the repository lacks is created (colour ededed, no description).
  const mayTriage = callerHas(ctx, caller, "write");
  const assignees = mayTriage ? assignable(ctx, assigneeLogins) : [];
  const issue = openIssue(ctx, repo, {
    title,
    body: text,
    author: actorOf(caller),
    app: appOf(caller),
    labels: mayTriage ? labels.map((name) => ensureLabel(ctx, repo, name)) : [],
    assignees,
  });
  return {
    status: 201,
    body: issueJson(ctx.urls, ctx.state, repo, issue),
    headers: { location: `${ctx.urls.api}/repos/${repo.full_name}/issues/${issue.number}` },
  };
}

function updateIssue({ ctx, repo, caller, req, params }: RouteHandlerInput): RouteResult {
  const issue = issueFrom(repo, params.issue_number);
  const body = objectBody(req);
  const actor = actorOf(caller);
  const isAuthor = caller.kind === "user" && issue.user.id === caller.actor.id;
  const title =
    body.title === undefined
      ? undefined
      : typeof body.title === "number"
        ? String(body.title)
        : body.title === null
          ? null
          : optionalString(body, "title", "Issue");
  if (title === null || title === "") throw validationFailed("Issue", "title", "missing_field");
  const text = body.body === null ? null : optionalString(body, "body", "Issue");
  checkBodyLength(text, "Issue");
  const state = optionalString(body, "state", "Issue");
  if (state !== undefined && state !== "open" && state !== "closed")
    throw validationFailed("Issue", "state", "invalid");
  const reason = body.state_reason === null ? null : optionalString(body, "state_reason", "Issue");
  if (reason !== undefined && reason !== null && !STATE_REASONS.has(reason))
    throw validationFailed("Issue", "state_reason", "invalid");
  const wantsContent = title !== undefined || text !== undefined;
  if (wantsContent && !isAuthor && !callerHas(ctx, caller, "write"))
    throw forbidden("Must have push access to update this issue.");
  if ((state !== undefined || reason !== undefined) && !isAuthor && !callerHas(ctx, caller, "triage"))
    throw forbidden("Must have triage access to close or reopen this issue.");
  const mayTriage = callerHas(ctx, caller, "triage");
  const labels = body.labels === undefined ? undefined : labelNames(body.labels);
  const assigneeLogins =
    body.assignees !== undefined
      ? (stringList(body, "assignees", "Issue") ?? [])
      : body.assignee !== undefined
        ? body.assignee === null
          ? []
          : [String(body.assignee)]
        : undefined;
  const assignees = mayTriage && assigneeLogins !== undefined ? assignable(ctx, assigneeLogins) : undefined;

  const now = ctx.clock.now();
  const changes: Record<string, { from: string }> = {};
  if (title !== undefined && title !== issue.title) {
    changes.title = { from: issue.title };
    issue.title = title;
  }
  if (text !== undefined && (text || null) !== issue.body) {
    changes.body = { from: issue.body ?? "" };
    issue.body = text || null;
  }
  if (Object.keys(changes).length) {
    issue.updated_at = now;
    emitIssueEvent(ctx, "edited", repo, issue, actor, { changes });
  }
  const nextState = state ?? issue.state;
  if (nextState === "closed" && issue.state === "open") {
    issue.state = "closed";
    issue.state_reason = (reason as IssueRecord["state_reason"]) ?? "completed";
    issue.closed_at = now;
    issue.closed_by = actor;
    issue.updated_at = now;
    emitIssueEvent(ctx, "closed", repo, issue, actor);
  } else if (nextState === "open" && issue.state === "closed") {
    issue.state = "open";
    issue.state_reason = "reopened";
    issue.closed_at = null;
    issue.closed_by = null;
    issue.updated_at = now;
    emitIssueEvent(ctx, "reopened", repo, issue, actor);
  } else if (reason !== undefined && issue.state === "closed" && reason !== issue.state_reason) {
    issue.state_reason = reason as IssueRecord["state_reason"];
    issue.updated_at = now;
  }
  if (mayTriage && labels !== undefined) {
    for (const name of [...issue.labels])
      if (!labels.some((l) => l.toLowerCase() === name.toLowerCase()))
        removeLabel(ctx, repo, issue, name, actor);
    addLabels(ctx, repo, issue, labels, actor);
  }
  if (assignees !== undefined) setAssignees(ctx, repo, issue, assignees, actor);
  return { status: 200, body: issueJson(ctx.urls, ctx.state, repo, issue) };
}

function listIssues({ ctx, repo, req }: RouteHandlerInput): RouteResult {
  const q = req.query;
  const state = q.get("state") ?? "open";
  if (!["open", "closed", "all"].includes(state)) throw validationFailed("Issue", "state", "invalid");
  const labels = (q.get("labels") ?? "")
    .split(",")
    .map((l) => l.trim().toLowerCase())
    .filter(Boolean);
  const creator = q.get("creator")?.toLowerCase();
  const assignee = q.get("assignee");
  const since = q.get("since");
  const sinceMs = since === null ? null : Date.parse(since);
  if (sinceMs !== null && Number.isNaN(sinceMs)) throw validationFailed("Issue", "since", "invalid");
  const sort = q.get("sort") ?? "created";
  const direction = q.get("direction") ?? "desc";
  if (!["created", "updated", "comments"].includes(sort)) throw validationFailed("Issue", "sort", "invalid");
  if (!["asc", "desc"].includes(direction)) throw validationFailed("Issue", "direction", "invalid");
  const key = (issue: IssueRecord) =>
    sort === "updated" ? issue.updated_at : sort === "comments" ? issue.commentIds.length : issue.created_at;
  const issues = [...repo.issues.values()]
    .filter((i) => state === "all" || i.state === state)
    .filter((i) => labels.every((l) => i.labels.some((name) => name.toLowerCase() === l)))
    .filter((i) => !creator || i.user.login.toLowerCase() === creator)
    .filter((i) => {
      if (assignee === null) return true;
      if (assignee === "none") return i.assignees.length === 0;
      if (assignee === "*") return i.assignees.length > 0;
      return i.assignees.some((a) => a.login.toLowerCase() === assignee.toLowerCase());
    })
    .filter((i) => sinceMs === null || i.updated_at >= sinceMs)
    .sort((a, b) => (key(a) - key(b) || a.number - b.number) * (direction === "asc" ? 1 : -1));
  const { page, headers } = paginate(issues, req, ctx.urls.api);
  return { status: 200, body: page.map((i) => issueJson(ctx.urls, ctx.state, repo, i)), headers };
}

export const issueRoutes: Route[] = [
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/issues",
    auth: "repo",
    permission: { name: "issues", level: "read" },
    handle: listIssues,
  },
  {
    method: "POST",
    template: "/repos/{owner}/{repo}/issues",
    auth: "repo",
    permission: { name: "issues", level: "write" },
    handle: createIssue,
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/issues/{issue_number}",
    auth: "repo",
    permission: { name: "issues", level: "read" },
    handle: ({ ctx, repo, params }) => ({
      status: 200,
      body: issueJson(ctx.urls, ctx.state, repo, issueFrom(repo, params.issue_number)),
    }),
  },
  {
    method: "PATCH",
    template: "/repos/{owner}/{repo}/issues/{issue_number}",
    auth: "repo",
    permission: { name: "issues", level: "write" },
    handle: updateIssue,
  },
  {
    method: "POST",
    template: "/repos/{owner}/{repo}/issues/{issue_number}/assignees",
    auth: "repo",
    permission: { name: "issues", level: "write" },
    userRole: "triage",
    handle: ({ ctx, repo, caller, req, params }) => {
      const issue = issueFrom(repo, params.issue_number);
      const add = assignable(ctx, stringList(objectBody(req), "assignees", "Issue") ?? []);
      setAssignees(
        ctx,
        repo,
        issue,
        [...issue.assignees, ...add.filter((u) => !issue.assignees.some((a) => a.id === u.id))],
        actorOf(caller),
      );
      return { status: 201, body: issueJson(ctx.urls, ctx.state, repo, issue) };
    },
  },
  {
    method: "DELETE",
    template: "/repos/{owner}/{repo}/issues/{issue_number}/assignees",
    auth: "repo",
    permission: { name: "issues", level: "write" },
    userRole: "triage",
    handle: ({ ctx, repo, caller, req, params }) => {
      const issue = issueFrom(repo, params.issue_number);
      const remove = (stringList(objectBody(req), "assignees", "Issue") ?? []).map((l) => l.toLowerCase());
      setAssignees(
        ctx,
        repo,
        issue,
        issue.assignees.filter((a) => !remove.includes(a.login.toLowerCase())),
        actorOf(caller),
      );
      return { status: 200, body: issueJson(ctx.urls, ctx.state, repo, issue) };
    },
  },
];
