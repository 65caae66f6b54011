import type { Caller } from "../auth.ts";
import type { EmulatorContext } from "../context.ts";
import { publicUserJson, repositoryJson, userJson } from "../shapes.ts";
import { HttpError, notFound, paginate, type Route } from "../router.ts";
import { findRepo, findUser, isOrgMember, type TeamRecord } from "../state.ts";

/** A team as seen by the caller: people outside the organisation cannot see its teams. */
function visibleTeam(ctx: EmulatorContext, caller: Caller, org: string, slug: string): TeamRecord {
  const team = ctx.state.teams.get(`${org}/${slug}`.toLowerCase());
  if (!team) throw notFound();
  if (caller.kind === "user" && !isOrgMember(ctx.state, caller.actor.login)) throw notFound();
  return team;
}

/** Teams and membership (the `members` organisation permission for apps), and user profiles. */
export const orgRoutes: Route[] = [
  {
    method: "GET",
    template: "/orgs/{org}/teams/{team_slug}/members",
    auth: "any",
    permission: { name: "members", level: "read" },
    handle: ({ ctx, caller, params, req }) => {
      const team = visibleTeam(ctx, caller, params.org!, params.team_slug!);
      const role = req.query.get("role") ?? "all";
      if (!["all", "member", "maintainer"].includes(role))
        throw new HttpError(422, "Validation Failed", {
          errors: [{ resource: "Team", field: "role", code: "invalid" }],
        });
      const members =
        role === "maintainer"
          ? []
          : team.members.map((login) => findUser(ctx.state, login)).filter((u) => u !== undefined);
      const { page, headers } = paginate(
        members.map((u) => userJson(ctx.urls, u)),
        req,
        ctx.urls.api,
      );
      return { status: 200, body: page, headers };
    },
  },
  {
    method: "GET",
    template: "/orgs/{org}/teams/{team_slug}/memberships/{username}",
    auth: "any",
    permission: { name: "members", level: "read" },
    handle: ({ ctx, caller, params }) => {
      const team = visibleTeam(ctx, caller, params.org!, params.team_slug!);
      const username = params.username!.toLowerCase();
      if (!team.members.some((m) => m.toLowerCase() === username)) throw notFound();
      return {
        status: 200,
        body: {
          url: `${ctx.urls.api}/teams/${team.id}/memberships/${encodeURIComponent(params.username!)}`,
          role: "member",
          state: "active",
        },
      };
    },
  },
  {
    // "Check team permissions for a repository": 404 when the team has no role; 204, or 200 with the
    // repository and the team's `permissions` under the repository media type.
    method: "GET",
    template: "/orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}",
    auth: "any",
    permission: { name: "members", level: "read" },
    handle: ({ ctx, caller, params, req }) => {
      const team = visibleTeam(ctx, caller, params.org!, params.team_slug!);
      const repo = findRepo(ctx.state, params.owner!, params.repo!);
      if (
        !repo ||
        repo.owner.login.toLowerCase() !== team.org.toLowerCase() ||
        team.repoPermission === null ||
        team.repoPermission === "none"
      )
        throw notFound();
      const accept = String(req.headers.accept ?? "");
      if (!accept.includes("application/vnd.github.v3.repository+json")) return { status: 204 };
      const rank = ["none", "read", "triage", "write", "maintain", "admin"];
      const has = (r: string) => rank.indexOf(team.repoPermission!) >= rank.indexOf(r);
      return {
        status: 200,
        body: {
          ...repositoryJson(ctx.urls, ctx.state, repo, {
            permissions: {
              admin: has("admin"),
              maintain: has("maintain"),
              push: has("write"),
              triage: has("triage"),
              pull: has("read"),
            },
          }),
          role_name: team.repoPermission,
        },
      };
    },
  },
  {
    method: "GET",
    template: "/orgs/{org}/members/{username}",
    auth: "any",
    permission: { name: "members", level: "read" },
    handle: ({ ctx, params }) => {
      if (params.org!.toLowerCase() !== ctx.state.org.login.toLowerCase()) throw notFound();
      return { status: isOrgMember(ctx.state, params.username!) ? 204 : 404 };
    },
  },
  {
    method: "GET",
    template: "/users/{username}",
    auth: "any",
    handle: ({ ctx, params }) => {
      const user = findUser(ctx.state, params.username!);
      if (!user) throw notFound();
      return { status: 200, body: publicUserJson(ctx.urls, user) };
    },
  },
];
