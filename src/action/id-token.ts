import type { ActionCore } from "./action-core.ts";

/**
 * The job's OIDC token for `audience`. On a runner this is `core.getIDToken`. GitHub's
 * `@github/local-action` replaces @actions/core with stubs whose getIDToken only throws "Not
 * implemented"; there, and only there, the token is asked for the way the runner's toolkit asks
 * (GitHub's OIDC docs: GET ACTIONS_ID_TOKEN_REQUEST_URL&audience=…, bearer
 * ACTIONS_ID_TOKEN_REQUEST_TOKEN, answer {"value": jwt}), from the variables the .env file gives,
 * and masked like the toolkit masks it.
 */
export async function idToken(
  core: ActionCore,
  audience: string,
  env: Record<string, string | undefined> = process.env,
): Promise<string> {
  try {
    return await core.getIDToken(audience);
  } catch (error) {
    if ((error as Error).message !== "Not implemented") throw error;
    const url = env.ACTIONS_ID_TOKEN_REQUEST_URL;
    const bearer = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
    if (!url || !bearer)
      throw new Error(
        "This @actions/core cannot give an OIDC token, and ACTIONS_ID_TOKEN_REQUEST_URL / ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set: give the job `permissions: id-token: write`, or set both in the .env file for local-action.",
      );
    const request = new URL(url);
    request.searchParams.set("audience", audience);
    const res = await fetch(request, {
      headers: { authorization: `Bearer ${bearer}`, accept: "application/json" },
    });
    if (!res.ok) throw new Error(`Failed to get ID Token: the token service answered ${res.status}`);
    const value = ((await res.json().catch(() => ({}))) as { value?: unknown }).value;
    if (typeof value !== "string" || !value)
      throw new Error("Failed to get ID Token: the answer has no value");
    core.setSecret(value);
    return value;
  }
}
