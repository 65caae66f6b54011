import { actorOf } from "../context.ts";
import { labelJson } from "../shapes.ts";
import { HttpError, notFound, objectBody, optionalString, paginate, type Route } from "../router.ts";
import {
  addLabels,
  callerHas,
  createLabel,
  issueFrom,
  issueLabelsJson,
  labelNames,
  removeLabel,
} from "./issue-helpers.ts";

const read = { name: "issues", level: "read" } as const;
const write = { name: "issues", level: "write" } as const;

/** Repository labels, and labels on issues (adding, replacing, removing; each change sends labeled/unlabeled). */
export const labelRoutes: Route[] = [
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/labels",
    auth: "repo",
    permission: read,
    handle: ({ ctx, repo, req }) => {
      const { page, headers } = paginate(
        [...repo.labels.values()].map((l) => labelJson(ctx.urls, repo, l)),
        req,
        ctx.urls.api,
      );
      return { status: 200, body: page, headers };
    },
  },
  {
    method: "POST",
    template: "/repos/{owner}/{repo}/labels",
    auth: "repo",
    permission: write,
    userRole: "write",
    handle: ({ ctx, repo, req }) => {
      const body = objectBody(req);
      const name = optionalString(body, "name", "Label");
      if (!name)
        throw new HttpError(422, "Validation Failed", {
          errors: [{ resource: "Label", field: "name", code: "missing_field" }],
        });
      if (repo.labels.has(name.toLowerCase()))
        throw new HttpError(422, "Validation Failed", {
          errors: [{ resource: "Label", field: "name", code: "already_exists" }],
        });
      const color = (optionalString(body, "color", "Label") ?? "ededed").replace(/^#/, "");
      const label = createLabel(ctx, repo, name, color, optionalString(body, "description", "Label") ?? null);
      return { status: 201, body: labelJson(ctx.urls, repo, label) };
    },
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/labels/{name}",
    auth: "repo",
    permission: read,
    handle: ({ ctx, repo, params }) => {
      const label = repo.labels.get(params.name!.toLowerCase());
      if (!label) throw notFound();
      return { status: 200, body: labelJson(ctx.urls, repo, label) };
    },
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/issues/{issue_number}/labels",
    auth: "repo",
    permission: read,
    handle: ({ ctx, repo, params, req }) => {
      const { page, headers } = paginate(
        issueLabelsJson(ctx, repo, issueFrom(repo, params.issue_number)),
        req,
        ctx.urls.api,
      );
      return { status: 200, body: page, headers };
    },
  },
  {
    method: "POST",
    template: "/repos/{owner}/{repo}/issues/{issue_number}/labels",
    auth: "repo",
    permission: write,
    userRole: "triage",
    handle: ({ ctx, repo, params, req, caller }) => {
      const issue = issueFrom(repo, params.issue_number);
      addLabels(ctx, repo, issue, labelNames(req.body), actorOf(caller));
      return { status: 200, body: issueLabelsJson(ctx, repo, issue) };
    },
  },
  {
    method: "PUT",
    template: "/repos/{owner}/{repo}/issues/{issue_number}/labels",
    auth: "repo",
    permission: write,
    userRole: "triage",
    handle: ({ ctx, repo, params, req, caller }) => {
      const issue = issueFrom(repo, params.issue_number);
      const names = labelNames(req.body ?? []);
      const actor = actorOf(caller);
      for (const name of [...issue.labels])
        if (!names.some((n) => n.toLowerCase() === name.toLowerCase()))
          removeLabel(ctx, repo, issue, name, actor);
      addLabels(ctx, repo, issue, names, actor);
      return { status: 200, body: issueLabelsJson(ctx, repo, issue) };
    },
  },
  {
    method: "DELETE",
    template: "/repos/{owner}/{repo}/issues/{issue_number}/labels",
    auth: "repo",
    permission: write,
    userRole: "triage",
    handle: ({ ctx, repo, params, caller }) => {
      const issue = issueFrom(repo, params.issue_number);
      for (const name of [...issue.labels]) removeLabel(ctx, repo, issue, name, actorOf(caller));
      return { status: 204 };
    },
  },
  {
    method: "DELETE",
    template: "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
    auth: "repo",
    permission: write,
    userRole: "triage",
    handle: ({ ctx, repo, params, caller }) => {
      const issue = issueFrom(repo, params.issue_number);
      if (!callerHas(ctx, caller, "triage") || !removeLabel(ctx, repo, issue, params.name!, actorOf(caller)))
        throw new HttpError(404, "Label does not exist");
      return { status: 200, body: issueLabelsJson(ctx, repo, issue) };
    },
  },
];
