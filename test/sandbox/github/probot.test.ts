import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { createNodeMiddleware, Probot, type ApplicationFunction } from "probot";
import { APP_ID, APP_PRIVATE_KEY, startTestEmulator, type TestEmulator } from "./helpers.ts";

/** The real Probot, as the Breakglass app uses it: app JWT, installation token, signed webhooks. */
describe("the emulator with a real Probot app", () => {
  let t: TestEmulator;
  let server: Server;
  let handled: string[];
  let probotUrl: string;

  const startProbot = async (secret: string): Promise<string> => {
    const probot = new Probot({
      appId: APP_ID,
      privateKey: APP_PRIVATE_KEY,
      secret,
      baseUrl: t.emulator.apiUrl,
      logLevel: "fatal",
    });
    const app: ApplicationFunction = (bot) => {
      bot.on("issue_comment.created", async (context) => {
        handled.push(context.payload.comment.body);
        const author = context.payload.comment.user;
        if (!author || author.type === "Bot") return;
        await context.octokit.rest.reactions.createForIssueComment(
          context.repo({ comment_id: context.payload.comment.id, content: "eyes" }),
        );
        await context.octokit.rest.issues.createComment(context.issue({ body: `pong to @${author.login}` }));
      });
    };
    const middleware = await createNodeMiddleware(app, { probot });
    server = createServer((req, res) => void middleware(req, res, () => res.writeHead(404).end()));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/github/webhooks`;
  };

  before(async () => {
    t = await startTestEmulator();
    handled = [];
    probotUrl = await startProbot(t.secret);
    t.emulator.setWebhookUrl(probotUrl);
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await t.emulator.close();
  });

  it("receives verified webhooks and answers through an installation token as <slug>[bot]", async () => {
    const dave = t.emulator.octokitFor("dave");
    const { data: issue } = await dave.rest.issues.create({ owner: "acme", repo: "ops", title: "ping" });
    const { data: ping } = await dave.rest.issues.createComment({
      owner: "acme",
      repo: "ops",
      issue_number: issue.number,
      body: "/ping",
    });
    await t.emulator.waitForIdle();
    assert.deepEqual(handled, ["/ping", "pong to @dave"], "Probot saw the user's comment and then its own");
    const { data: comments } = await dave.rest.issues.listComments({
      owner: "acme",
      repo: "ops",
      issue_number: issue.number,
    });
    const reply = comments[1]!;
    assert.equal(reply.user?.login, "breakglass[bot]");
    assert.equal(reply.performed_via_github_app?.id, APP_ID);
    const { data: reactions } = await dave.rest.reactions.listForIssueComment({
      owner: "acme",
      repo: "ops",
      comment_id: ping.id,
    });
    assert.deepEqual(
      reactions.map((r) => [r.user?.login, r.content]),
      [["breakglass[bot]", "eyes"]],
    );
    assert.ok(
      t.emulator.deliveries.every((d) => d.status === 200),
      JSON.stringify(t.emulator.deliveries.map((d) => [d.event, d.status, d.error])),
    );
    const byRoute = t.emulator.apiRequests.filter((r) => r.tokenKind === "app").map((r) => r.route);
    assert.deepEqual(
      byRoute,
      ["/app/installations/{installation_id}/access_tokens"],
      "one token, cached by Octokit for the later calls",
    );
  });

  it("is refused by Probot when the signature was made with another secret", async () => {
    const before = t.emulator.deliveries.length;
    const wrong = await startTestEmulator({ webhookSecret: "not-the-apps-secret" });
    try {
      wrong.emulator.setWebhookUrl(probotUrl);
      const dave = wrong.emulator.octokitFor("dave");
      const { data: issue } = await dave.rest.issues.create({ owner: "acme", repo: "ops", title: "forged" });
      await dave.rest.issues.createComment({
        owner: "acme",
        repo: "ops",
        issue_number: issue.number,
        body: "/ping",
      });
      await wrong.emulator.waitForIdle();
      assert.ok(wrong.emulator.deliveries.length >= 2);
      for (const d of wrong.emulator.deliveries)
        assert.ok(d.status !== null && d.status >= 400, `Probot refused ${d.event} (${d.status})`);
      assert.equal(
        handled.filter((b) => b === "/ping").length,
        1,
        "the forged comment never reached the handler",
      );
      assert.equal(t.emulator.deliveries.length, before);
    } finally {
      await wrong.emulator.close();
    }
  });
});
