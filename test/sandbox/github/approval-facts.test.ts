/**
 * Emulator features the approval re-checks rely on, held to GitHub's documented behaviour:
 * deliveries that arrive late, a team's own permission on a repository, and comments an app posts
 * on a person's behalf with a user-to-server token.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { Octokit } from "@octokit/rest";
import { startReceiver, startTestEmulator, type TestEmulator } from "./helpers.ts";

describe("emulator: late deliveries, team permissions, comments via apps", () => {
  let t: TestEmulator;
  before(async () => {
    t = await startTestEmulator();
  });
  after(() => t.emulator.close());
  afterEach(() => t.emulator.faults.clear());

  it("holds matching deliveries and sends them late, after the events queued meanwhile", async () => {
    const receiver = await startReceiver();
    t.emulator.setWebhookUrl(receiver.url);
    try {
      const dave = t.emulator.octokitFor("dave");
      const { data: issue } = await dave.rest.issues.create({
        owner: "acme",
        repo: "ops",
        title: "order",
        body: "v1",
      });
      await t.emulator.waitForIdle();
      t.emulator.faults.holdWebhooks(({ event }) => event === "issue_comment");
      await t.emulator.octokitFor("bob").rest.issues.createComment({
        owner: "acme",
        repo: "ops",
        issue_number: issue.number,
        body: "/approve",
      });
      await dave.rest.issues.update({ owner: "acme", repo: "ops", issue_number: issue.number, body: "v2" });
      await t.emulator.waitForIdle();
      const names = () =>
        receiver.received.map(
          (h) => `${h.headers["x-github-event"]}.${(JSON.parse(h.body) as { action: string }).action}`,
        );
      assert.deepEqual(
        names(),
        ["issues.opened", "issues.edited"],
        "the held comment is not sent, and idle does not wait for it",
      );
      const held = t.emulator.deliveries.filter((d) => d.held);
      assert.equal(held.length, 1);
      const released = await t.emulator.releaseHeldWebhooks();
      assert.deepEqual(
        released.map((d) => d.status),
        [200],
      );
      assert.deepEqual(names(), ["issues.opened", "issues.edited", "issue_comment.created"]);
      assert.deepEqual(await t.emulator.releaseHeldWebhooks(), [], "nothing is sent twice");
    } finally {
      t.emulator.setWebhookUrl(null);
      await receiver.close();
    }
  });

  it("answers a team's own permission on a repository: 204, the repository with permissions, or 404", async () => {
    const token = t.emulator.installationToken();
    const path = "/orgs/acme/teams/dba/repos/acme/ops";
    const plain = await fetch(`${t.emulator.apiUrl}${path}`, {
      headers: { authorization: `Bearer ${token}`, accept: "application/vnd.github+json" },
    });
    assert.equal(plain.status, 204);
    const detailed = await fetch(`${t.emulator.apiUrl}${path}`, {
      headers: { authorization: `Bearer ${token}`, accept: "application/vnd.github.v3.repository+json" },
    });
    assert.equal(detailed.status, 200);
    const body = (await detailed.json()) as {
      full_name: string;
      role_name: string;
      permissions: Record<string, boolean>;
    };
    assert.equal(body.full_name, "acme/ops");
    assert.equal(body.role_name, "write");
    assert.deepEqual(body.permissions, {
      admin: false,
      maintain: false,
      push: true,
      triage: true,
      pull: true,
    });
    t.emulator.setTeamPermission("acme/dba", "read");
    const read = (await (
      await fetch(`${t.emulator.apiUrl}${path}`, {
        headers: { authorization: `Bearer ${token}`, accept: "application/vnd.github.v3.repository+json" },
      })
    ).json()) as { permissions: Record<string, boolean> };
    assert.equal(read.permissions.push, false);
    t.emulator.setTeamPermission("acme/dba", null);
    assert.equal((await t.api("GET", path, token)).status, 404, "a team without access to the repository");
    t.emulator.setTeamPermission("acme/dba", "write");
    const withoutMembers = t.emulator.installationToken({ permissions: { issues: "write" } });
    assert.equal((await t.api("GET", path, withoutMembers)).status, 403, "needs the members permission");
  });

  it("reports a GitHub App's bot user as no collaborator, as GitHub does", async () => {
    const app = t.emulator.installationToken();
    const bot = await t.api("GET", "/repos/acme/ops/collaborators/github-actions%5Bbot%5D/permission", app);
    assert.equal(bot.status, 200);
    assert.equal((bot.json as { permission: string }).permission, "none");
  });

  it("attributes a user-to-server token's comment to the person and names the app in REST and webhooks", async () => {
    const receiver = await startReceiver();
    t.emulator.setWebhookUrl(receiver.url);
    try {
      const { data: issue } = await t.emulator
        .octokitFor("dave")
        .rest.issues.create({ owner: "acme", repo: "ops", title: "via app" });
      const token = t.emulator.userToServerToken("bob", "chatops");
      assert.match(token, /^ghu_/);
      const chatops = new Octokit({ auth: token, baseUrl: t.emulator.apiUrl });
      const { data: comment } = await chatops.rest.issues.createComment({
        owner: "acme",
        repo: "ops",
        issue_number: issue.number,
        body: "/approve",
      });
      assert.equal(comment.user?.login, "bob");
      assert.equal(comment.performed_via_github_app?.slug, "chatops");
      const listed = await t.emulator
        .octokitFor("dave")
        .rest.issues.listComments({ owner: "acme", repo: "ops", issue_number: issue.number });
      assert.equal(listed.data[0]?.performed_via_github_app?.slug, "chatops");
      await t.emulator.waitForIdle();
      const hook = receiver.received
        .map(
          (h) =>
            JSON.parse(h.body) as {
              action: string;
              comment?: { user: { login: string }; performed_via_github_app: { slug: string } | null };
              sender: { login: string };
            },
        )
        .find((p) => p.comment);
      assert.equal(hook?.comment?.user.login, "bob");
      assert.equal(hook?.sender.login, "bob");
      assert.equal(hook?.comment?.performed_via_github_app?.slug, "chatops");
      const own = await t.emulator.octokitFor("bob").rest.issues.createComment({
        owner: "acme",
        repo: "ops",
        issue_number: issue.number,
        body: "myself",
      });
      assert.equal(own.data.performed_via_github_app, null, "bob's own token is not the app's");
    } finally {
      t.emulator.setWebhookUrl(null);
      await receiver.close();
    }
  });
});
