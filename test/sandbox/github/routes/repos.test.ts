import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { blobSha } from "../../../../src/sandbox/github/shapes.ts";
import { startTestEmulator, type TestEmulator } from "../helpers.ts";

describe("repository contents, teams, users and permissions", () => {
  let t: TestEmulator;
  let app: string;
  before(async () => {
    t = await startTestEmulator();
    app = t.emulator.installationToken();
  });
  after(() => t.emulator.close());

  it("serves files as base64 with git blob shas, directories as listings, 404 otherwise", async () => {
    const res = await t.api("GET", "/repos/acme/ops/contents/policies/prod-database.yml", app);
    const file = res.json as {
      type: string;
      encoding: string;
      content: string;
      sha: string;
      size: number;
      path: string;
      name: string;
    };
    assert.deepEqual(
      [file.type, file.encoding, file.path, file.name],
      ["file", "base64", "policies/prod-database.yml", "prod-database.yml"],
    );
    assert.equal(Buffer.from(file.content, "base64").toString("utf8"), "description: Production database\n");
    assert.equal(file.sha, blobSha("description: Production database\n"));
    assert.equal(blobSha(""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391", "git's id of the empty blob");
    const root = (await t.api("GET", "/repos/acme/ops/contents", app)).json as Array<{
      name: string;
      type: string;
    }>;
    assert.deepEqual(
      root.map((e) => [e.name, e.type]),
      [
        [".github", "dir"],
        ["policies", "dir"],
      ],
    );
    const github = (await t.api("GET", "/repos/acme/ops/contents/.github", app)).json as Array<{
      name: string;
      type: string;
    }>;
    assert.deepEqual(
      github.map((e) => [e.name, e.type]),
      [
        ["CODEOWNERS", "file"],
        ["workflows", "dir"],
      ],
    );
    assert.equal((await t.api("GET", "/repos/acme/ops/contents/CODEOWNERS", app)).status, 404);
    assert.equal(
      (await t.api("GET", "/repos/acme/ops/contents/polic", app)).status,
      404,
      "a prefix is not a directory",
    );
    assert.equal(
      (await t.api("GET", "/repos/acme/ops/contents/policies/prod-database.yml?ref=main", app)).status,
      200,
    );
    const unknownRef = await t.api(
      "GET",
      "/repos/acme/ops/contents/policies/prod-database.yml?ref=feature",
      app,
    );
    assert.equal(unknownRef.status, 404);
    assert.match((unknownRef.json as { message: string }).message, /No commit found for the ref feature/);
    t.emulator.state.repository.refs.set("feature", { "policies/prod-database.yml": "changed\n" });
    const onBranch = (
      await t.api("GET", "/repos/acme/ops/contents/policies/prod-database.yml?ref=refs/heads/feature", app)
    ).json as { content: string };
    assert.equal(Buffer.from(onBranch.content, "base64").toString("utf8"), "changed\n");
  });

  it("reflects file changes made through setFile, including non-ASCII content", async () => {
    t.emulator.setFile("policies/new.yml", "description: café ☕\n");
    const { data } = await t.emulator
      .octokitFor("dave")
      .rest.repos.getContent({ owner: "acme", repo: "ops", path: "policies/new.yml" });
    assert.ok(!Array.isArray(data) && data.type === "file");
    assert.equal(
      Buffer.from((data as { content: string }).content, "base64").toString("utf8"),
      "description: café ☕\n",
    );
    assert.equal((data as { size: number }).size, Buffer.byteLength("description: café ☕\n"));
    t.emulator.setFile("policies/new.yml", null);
    await assert.rejects(
      t.emulator
        .octokitFor("dave")
        .rest.repos.getContent({ owner: "acme", repo: "ops", path: "policies/new.yml" }),
      { status: 404 },
    );
  });

  it("describes the repository with ids the OIDC issuer also uses by default", async () => {
    const { data } = await t.emulator.octokitFor("dave").rest.repos.get({ owner: "ACME", repo: "OPS" });
    assert.equal(data.full_name, "acme/ops", "owner and name are case-insensitive");
    assert.equal(data.id, t.emulator.state.repository.id);
    assert.equal(data.owner.id, t.emulator.state.org.id);
    assert.equal(data.owner.type, "Organization");
    assert.equal(data.default_branch, "main");
    assert.equal(data.private, true);
    assert.deepEqual(data.permissions, {
      admin: false,
      maintain: false,
      push: true,
      triage: true,
      pull: true,
    });
  });

  it("answers team membership and member lists, and follows membership changes", async () => {
    const { data: members } = await t.emulator
      .octokitFor("dave")
      .rest.teams.listMembersInOrg({ org: "acme", team_slug: "dba" });
    assert.deepEqual(
      members.map((m) => m.login),
      ["bob", "carol"],
    );
    assert.equal((await t.api("GET", "/orgs/acme/teams/dba/memberships/bob", app)).status, 200);
    assert.equal(
      (await t.api("GET", "/orgs/acme/teams/dba/members", t.emulator.userToken("mallory"))).status,
      404,
      "outside collaborators cannot see the organisation's teams",
    );
    assert.equal((await t.api("GET", "/orgs/acme/teams/dba/memberships/dave", app)).status, 404);
    assert.equal((await t.api("GET", "/orgs/acme/teams/nope/members", app)).status, 404);
    assert.equal(
      (await t.api("GET", "/orgs/acme/teams/DBA/members", app)).status,
      200,
      "slugs are case-insensitive",
    );
    assert.equal((await t.api("GET", "/orgs/acme/members/bob", app)).status, 204);
    assert.equal((await t.api("GET", "/orgs/acme/members/mallory", app)).status, 404);
    t.emulator.setTeamMembers("acme/dba", ["carol"]);
    assert.equal(
      (await t.api("GET", "/orgs/acme/teams/dba/memberships/bob", app)).status,
      404,
      "a removed member is gone at once",
    );
    assert.throws(() => t.emulator.setTeamMembers("acme/ghosts", []), /no team/);
    assert.throws(() => t.emulator.setTeamMembers("acme/dba", ["stranger"]), /unknown user/);
    t.emulator.setTeamMembers("acme/dba", ["bob", "carol"]);
  });

  it("answers collaborator permission and user profiles", async () => {
    const level = async (login: string) =>
      (
        (await t.api("GET", `/repos/acme/ops/collaborators/${login}/permission`, app)).json as {
          permission: string;
        }
      ).permission;
    assert.equal(await level("dave"), "write");
    assert.equal(await level("mallory"), "read");
    assert.equal(await level("olivia"), "none");
    assert.equal((await t.api("GET", "/repos/acme/ops/collaborators/nobody/permission", app)).status, 404);
    assert.equal((await t.api("GET", "/repos/acme/ops/collaborators/dave", app)).status, 204);
    assert.equal((await t.api("GET", "/repos/acme/ops/collaborators/olivia", app)).status, 404);
    const bot = (await t.api("GET", "/users/breakglass%5Bbot%5D", app)).json as {
      login: string;
      type: string;
    };
    assert.deepEqual([bot.login, bot.type], ["breakglass[bot]", "Bot"]);
    assert.equal((await t.api("GET", "/users/nobody", app)).status, 404);
  });

  it("A237 answers collaborator permission per repository, as GitHub does (GET /repos/{owner}/{repo}/collaborators/{username}/permission)", async () => {
    const e = await startTestEmulator({ extraRepos: ["ops-ledger"] });
    after(() => e.emulator.close());
    e.emulator.initLedgerRepository("ops-ledger");
    const token = e.emulator.installationToken();
    const level = async (repo: string, login: string) =>
      (
        (await e.api("GET", `/repos/acme/${repo}/collaborators/${login}/permission`, token)).json as {
          permission: string;
        }
      ).permission;
    assert.equal(await level("ops", "dave"), "write");
    assert.equal(await level("ops-ledger", "dave"), "none", "a repository dave is no collaborator of");
    assert.equal((await e.api("GET", "/repos/acme/ops-ledger/collaborators/dave", token)).status, 404);
    e.emulator.setPermission("mallory", "write", "ops");
    assert.equal(await level("ops", "mallory"), "write", "a role on this repository only");
    assert.equal(await level("ops-ledger", "mallory"), "none");
  });

  it("answers unknown routes with 404 and GitHub's error body", async () => {
    const res = await t.api("GET", "/repos/acme/ops/pulls", app);
    assert.equal(res.status, 404);
    assert.deepEqual(res.json, {
      message: "Not Found",
      documentation_url: "https://docs.github.com/rest",
      status: "404",
    });
    assert.equal(
      (await fetch(`${t.emulator.url}/repos/acme/ops`)).status,
      404,
      "the API lives under /api/v3",
    );
  });
});
