import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { assertComponentSchema, assertResponseSchema } from "./openapi-schema.ts";
import { startTestEmulator, type TestEmulator } from "./helpers.ts";

/** Every response shape the app and the Action read, checked against GitHub's OpenAPI description. */
describe("emulator responses match GitHub's OpenAPI schema", () => {
  let t: TestEmulator;
  let token: string;
  let jwt: string;
  before(async () => {
    t = await startTestEmulator();
    jwt = await t.appJwt();
    const created = await t.api(
      "POST",
      `/app/installations/${t.emulator.state.installation.id}/access_tokens`,
      jwt,
      {
        repositories: ["ops"],
        permissions: {
          issues: "write",
          contents: "read",
          members: "read",
          actions: "write",
          deployments: "write",
        },
      },
    );
    assertResponseSchema("POST", "/app/installations/{installation_id}/access_tokens", 201, created.json);
    token = (created.json as { token: string }).token;
  });
  after(() => t.emulator.close());

  const check = async (
    method: string,
    path: string,
    template: string,
    status: number,
    body?: unknown,
    as?: "app" | "user",
  ) => {
    const auth = as === "app" ? jwt : as === "user" ? t.emulator.userToken("dave") : token;
    const res = await t.api(method, path, auth, body);
    assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.json)}`);
    assertResponseSchema(method, template, status, res.json);
    return res.json as Record<string, unknown> & Array<Record<string, unknown>>;
  };

  it("app and installation endpoints", async () => {
    await check("GET", "/app", "/app", 200, undefined, "app");
    // The spec inlines this list's `account` as allOf(user, enterprise), which no real account satisfies;
    // check the items against the installation component instead.
    const list = await t.api("GET", "/app/installations", jwt);
    assert.equal(list.status, 200);
    for (const item of list.json as unknown[]) assertComponentSchema("installation", item);
    await check(
      "GET",
      `/app/installations/${t.emulator.state.installation.id}`,
      "/app/installations/{installation_id}",
      200,
      undefined,
      "app",
    );
    await check(
      "GET",
      "/repos/acme/ops/installation",
      "/repos/{owner}/{repo}/installation",
      200,
      undefined,
      "app",
    );
    await check("GET", "/installation/repositories", "/installation/repositories", 200);
  });

  it("repository, contents, users, teams and permissions", async () => {
    await check("GET", "/repos/acme/ops", "/repos/{owner}/{repo}", 200);
    await check("GET", "/repos/acme/ops", "/repos/{owner}/{repo}", 200, undefined, "user");
    // Not in the OpenAPI description (undocumented on GitHub too): same body as GET /repos/{owner}/{repo}.
    await check("GET", `/repositories/${t.emulator.state.repository.id}`, "/repos/{owner}/{repo}", 200);
    const file = await check(
      "GET",
      "/repos/acme/ops/contents/.github/CODEOWNERS",
      "/repos/{owner}/{repo}/contents/{path}",
      200,
    );
    assert.equal(
      Buffer.from(file.content as string, "base64").toString("utf8"),
      "policies/prod-database.yml @acme/dba\n",
    );
    const dir = await check(
      "GET",
      "/repos/acme/ops/contents/policies",
      "/repos/{owner}/{repo}/contents/{path}",
      200,
    );
    assert.deepEqual(
      dir.map((e) => e.name),
      ["model.yml", "prod-database.yml"],
    );
    await check("GET", "/users/bob", "/users/{username}", 200);
    await check("GET", "/orgs/acme/teams/dba/members", "/orgs/{org}/teams/{team_slug}/members", 200);
    await check(
      "GET",
      "/orgs/acme/teams/dba/memberships/carol",
      "/orgs/{org}/teams/{team_slug}/memberships/{username}",
      200,
    );
    const perm = await check(
      "GET",
      "/repos/acme/ops/collaborators/mallory/permission",
      "/repos/{owner}/{repo}/collaborators/{username}/permission",
      200,
    );
    assert.equal(perm.permission, "read");
  });

  it("issues, comments, reactions and labels", async () => {
    const issue = await check("POST", "/repos/acme/ops/issues", "/repos/{owner}/{repo}/issues", 201, {
      title: "Request",
      body: "please",
      labels: ["breakglass"],
      assignees: ["bob"],
    });
    const n = issue.number as number;
    await check("GET", `/repos/acme/ops/issues/${n}`, "/repos/{owner}/{repo}/issues/{issue_number}", 200);
    await check("PATCH", `/repos/acme/ops/issues/${n}`, "/repos/{owner}/{repo}/issues/{issue_number}", 200, {
      state: "closed",
      state_reason: "not_planned",
    });
    await check("GET", "/repos/acme/ops/issues?state=all", "/repos/{owner}/{repo}/issues", 200);
    const comment = await check(
      "POST",
      `/repos/acme/ops/issues/${n}/comments`,
      "/repos/{owner}/{repo}/issues/{issue_number}/comments",
      201,
      { body: "status" },
    );
    await check(
      "GET",
      `/repos/acme/ops/issues/${n}/comments`,
      "/repos/{owner}/{repo}/issues/{issue_number}/comments",
      200,
    );
    await check(
      "GET",
      `/repos/acme/ops/issues/comments/${comment.id}`,
      "/repos/{owner}/{repo}/issues/comments/{comment_id}",
      200,
    );
    await check(
      "PATCH",
      `/repos/acme/ops/issues/comments/${comment.id}`,
      "/repos/{owner}/{repo}/issues/comments/{comment_id}",
      200,
      { body: "status 2" },
    );
    await check("GET", "/repos/acme/ops/issues/comments", "/repos/{owner}/{repo}/issues/comments", 200);
    await check(
      "POST",
      `/repos/acme/ops/issues/comments/${comment.id}/reactions`,
      "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
      201,
      { content: "eyes" },
    );
    await check(
      "POST",
      `/repos/acme/ops/issues/comments/${comment.id}/reactions`,
      "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
      200,
      { content: "eyes" },
    );
    await check(
      "GET",
      `/repos/acme/ops/issues/comments/${comment.id}/reactions`,
      "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
      200,
    );
    await check(
      "POST",
      `/repos/acme/ops/issues/${n}/reactions`,
      "/repos/{owner}/{repo}/issues/{issue_number}/reactions",
      201,
      { content: "rocket" },
    );
    await check(
      "GET",
      `/repos/acme/ops/issues/${n}/reactions`,
      "/repos/{owner}/{repo}/issues/{issue_number}/reactions",
      200,
    );
    await check("POST", "/repos/acme/ops/labels", "/repos/{owner}/{repo}/labels", 201, {
      name: "breakglass:audit",
      color: "d73a4a",
      description: "Post-event review",
    });
    await check(
      "GET",
      "/repos/acme/ops/labels/breakglass%3Aaudit",
      "/repos/{owner}/{repo}/labels/{name}",
      200,
    );
    await check(
      "POST",
      `/repos/acme/ops/issues/${n}/labels`,
      "/repos/{owner}/{repo}/issues/{issue_number}/labels",
      200,
      { labels: ["breakglass:audit"] },
    );
    await check(
      "PUT",
      `/repos/acme/ops/issues/${n}/labels`,
      "/repos/{owner}/{repo}/issues/{issue_number}/labels",
      200,
      { labels: ["breakglass"] },
    );
    await check(
      "DELETE",
      `/repos/acme/ops/issues/${n}/labels/breakglass`,
      "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
      200,
    );
    const withReaction = await check(
      "GET",
      `/repos/acme/ops/issues/comments/${comment.id}`,
      "/repos/{owner}/{repo}/issues/comments/{comment_id}",
      200,
    );
    assert.equal((withReaction.reactions as Record<string, number>).eyes, 1);
  });

  it("workflows and runs", async () => {
    await check("GET", "/repos/acme/ops/actions/workflows", "/repos/{owner}/{repo}/actions/workflows", 200);
    const details = await check(
      "POST",
      "/repos/acme/ops/actions/workflows/breakglass-grant.yml/dispatches",
      "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches",
      200,
      { ref: "main", inputs: { issue: "1" }, return_run_details: true },
    );
    const run = await check(
      "GET",
      `/repos/acme/ops/actions/runs/${details.workflow_run_id}`,
      "/repos/{owner}/{repo}/actions/runs/{run_id}",
      200,
    );
    assert.equal(run.display_title, "Break-glass grant for #1");
    await check("GET", "/repos/acme/ops/actions/runs", "/repos/{owner}/{repo}/actions/runs", 200);
    await t.emulator.waitForIdle();
  });

  it("errors carry GitHub's message and documentation_url", async () => {
    const res = await t.api("GET", "/repos/acme/ops/issues/999", token);
    assert.equal(res.status, 404);
    assertResponseSchema("GET", "/repos/{owner}/{repo}/issues/{issue_number}", 404, res.json);
    assert.equal((res.json as { message: string }).message, "Not Found");
  });
});
