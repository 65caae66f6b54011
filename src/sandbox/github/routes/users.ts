import { githubTimestamp as ts } from "../../clock.ts";
import { HttpError, notFound, paginate, type Route } from "../router.ts";
import { userJson } from "../shapes.ts";
import { findUser } from "../state.ts";

/**
 * People's public SSH signing keys, as GitHub lists them: anyone may read them (no token needed), and
 * they are the keys added as *signing* keys, not the authentication keys of `/users/{username}/keys`.
 */
export const userRoutes: Route[] = [
  {
    // The authenticated user: a person's token (their own, or a user-to-server token of an app acting
    // for them). An installation token or the app's JWT is no user: GitHub answers 403.
    method: "GET",
    template: "/user",
    auth: "any",
    handle: ({ ctx, caller }) => {
      if (caller.kind !== "user") throw new HttpError(403, "Resource not accessible by integration");
      return { status: 200, body: userJson(ctx.urls, caller.actor) };
    },
  },
  {
    method: "GET",
    template: "/users/{username}/ssh_signing_keys",
    auth: "any",
    handle: ({ ctx, params, req }) => {
      const user = findUser(ctx.state, params.username!);
      if (!user) throw notFound();
      const keys = (ctx.state.signingKeys.get(user.login.toLowerCase()) ?? []).map((k) => ({
        id: k.id,
        key: k.key,
        title: k.title,
        created_at: ts(k.created_at),
      }));
      const { page, headers } = paginate(keys, req, ctx.urls.api);
      return { status: 200, body: page, headers };
    },
  },
];
