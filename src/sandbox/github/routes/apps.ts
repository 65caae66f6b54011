import { githubTimestamp as ts } from "../../clock.ts";
import { appJson, installationJson, repositoryJson } from "../shapes.ts";
import { HttpError, notFound, objectBody, paginate, type Route } from "../router.ts";
import { findRepo, levelCovers, type AccessLevel, type RepoRecord } from "../state.ts";

const LEVELS = new Set(["read", "write", "admin"]);

/** GitHub App endpoints: the app itself (JWT), its installation, and installation tokens. */
export const appRoutes: Route[] = [
  {
    method: "GET",
    template: "/app",
    auth: "app",
    handle: ({ ctx }) => ({
      status: 200,
      body: appJson(ctx.urls, ctx.state.app, { installations_count: 1 }),
    }),
  },
  {
    method: "GET",
    template: "/app/installations",
    auth: "app",
    handle: ({ ctx, req }) => {
      const { page, headers } = paginate(
        [installationJson(ctx.urls, ctx.state, ctx.state.installation)],
        req,
        ctx.urls.api,
      );
      return { status: 200, body: page, headers };
    },
  },
  {
    method: "GET",
    template: "/app/installations/{installation_id}",
    auth: "app",
    handle: ({ ctx, params }) => {
      if (Number(params.installation_id) !== ctx.state.installation.id) throw notFound();
      return { status: 200, body: installationJson(ctx.urls, ctx.state, ctx.state.installation) };
    },
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/installation",
    auth: "app",
    handle: ({ ctx, params }) => {
      const repo = findRepo(ctx.state, params.owner!, params.repo!);
      if (!repo || !ctx.state.installation.repoIds.includes(repo.id)) throw notFound();
      return { status: 200, body: installationJson(ctx.urls, ctx.state, ctx.state.installation) };
    },
  },
  {
    method: "GET",
    template: "/orgs/{org}/installation",
    auth: "app",
    handle: ({ ctx, params }) => {
      if (params.org!.toLowerCase() !== ctx.state.org.login.toLowerCase()) throw notFound();
      return { status: 200, body: installationJson(ctx.urls, ctx.state, ctx.state.installation) };
    },
  },
  {
    method: "POST",
    template: "/app/installations/{installation_id}/access_tokens",
    auth: "app",
    handle: ({ ctx, params, req }) => {
      const installation = ctx.state.installation;
      if (Number(params.installation_id) !== installation.id) throw notFound();
      const body = objectBody(req);
      const installed = installation.repoIds.map((id) => ctx.state.repositories.get(id)!);
      const notAccessible = () =>
        new HttpError(
          422,
          "There is at least one repository that does not exist or is not accessible to the parent installation.",
        );
      let chosen: RepoRecord[] | null = null;
      if (body.repositories !== undefined) {
        if (!Array.isArray(body.repositories) || body.repositories.some((r) => typeof r !== "string"))
          throw new HttpError(
            422,
            "Invalid request.\n\nFor 'repositories', an array of repository names is expected.",
          );
        chosen = (body.repositories as string[]).map((name) => {
          // "owner/name" is accepted too, as long as the owner is the installation's.
          const [owner, repoName] = name.includes("/") ? name.split("/") : [installation.account.login, name];
          const repo = findRepo(ctx.state, owner ?? "", repoName ?? "");
          if (!repo || !installation.repoIds.includes(repo.id)) throw notAccessible();
          return repo;
        });
      }
      if (body.repository_ids !== undefined) {
        if (!Array.isArray(body.repository_ids) || body.repository_ids.some((r) => !Number.isInteger(r)))
          throw new HttpError(
            422,
            "Invalid request.\n\nFor 'repository_ids', an array of integers is expected.",
          );
        const byId = (body.repository_ids as number[]).map((id) => {
          if (!installation.repoIds.includes(id)) throw notAccessible();
          return ctx.state.repositories.get(id)!;
        });
        chosen = [...(chosen ?? []), ...byId.filter((r) => !(chosen ?? []).includes(r))];
      }
      let permissions: Record<string, AccessLevel> = { ...installation.permissions };
      if (body.permissions !== undefined) {
        if (
          typeof body.permissions !== "object" ||
          body.permissions === null ||
          Array.isArray(body.permissions)
        )
          throw new HttpError(422, "Invalid request.\n\nFor 'permissions', an object is expected.");
        permissions = {};
        for (const [name, level] of Object.entries(body.permissions as Record<string, unknown>)) {
          if (
            typeof level !== "string" ||
            !LEVELS.has(level) ||
            !levelCovers(installation.permissions[name], level as AccessLevel)
          ) {
            throw new HttpError(422, "The permissions requested are not granted to this installation.");
          }
          permissions[name] = level as AccessLevel;
        }
      }
      const repos = chosen ?? installed;
      const record = ctx.tokens.issueInstallationToken({
        actor: ctx.state.app.bot,
        app: ctx.state.app,
        repoIds: repos.map((r) => r.id),
        permissions,
      });
      return {
        status: 201,
        body: {
          token: record.token,
          expires_at: ts(record.expires_at!),
          permissions,
          repository_selection: installation.repository_selection,
          ...(chosen ? { repositories: chosen.map((r) => repositoryJson(ctx.urls, ctx.state, r)) } : {}),
        },
      };
    },
  },
  {
    method: "GET",
    template: "/installation/repositories",
    auth: "installation",
    handle: ({ ctx, caller, req }) => {
      if (caller.kind !== "installation") throw notFound();
      const ids = caller.token.repoIds === "all" ? ctx.state.installation.repoIds : caller.token.repoIds;
      const repos = ids
        .map((id) => ctx.state.repositories.get(id)!)
        .map((r) => repositoryJson(ctx.urls, ctx.state, r));
      const { page, headers } = paginate(repos, req, ctx.urls.api);
      return {
        status: 200,
        body: {
          total_count: repos.length,
          repository_selection: ctx.state.installation.repository_selection,
          repositories: page,
        },
        headers,
      };
    },
  },
  {
    method: "DELETE",
    template: "/installation/token",
    auth: "installation",
    handle: ({ ctx, caller }) => {
      if (caller.kind === "installation") ctx.tokens.revoke(caller.token.token);
      return { status: 204 };
    },
  },
];
