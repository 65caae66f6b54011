import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { verify } from "@octokit/webhooks-methods";
import { assertWebhookSchema, exampleKeys } from "./openapi-schema.ts";
import { startReceiver, startTestEmulator, type ReceivedWebhook, type TestEmulator } from "./helpers.ts";

type Payload = Record<string, unknown> & { action: string };
const payloadOf = (hook: ReceivedWebhook) => JSON.parse(hook.body) as Payload;
const eventOf = (hook: ReceivedWebhook) => `${hook.headers["x-github-event"]}.${payloadOf(hook).action}`;

/**
 * Our top-level keys are those GitHub's examples show for the same event (installation/organization
 * are optional there). Returns false when the examples have none for this action (the schema still checks it).
 */
function assertExampleKeys(event: string, action: string, payload: Payload): boolean {
  const examples = exampleKeys(event, action);
  if (examples.length === 0) return false;
  const optional = new Set(["installation", "organization", "enterprise"]);
  const alwaysThere = [...examples[0]!].filter((k) => !optional.has(k) && examples.every((e) => e.has(k)));
  const seen = new Set(examples.flatMap((e) => [...e]));
  for (const key of alwaysThere)
    assert.ok(key in payload, `${event}.${action} lacks "${key}", which every GitHub example has`);
  for (const key of Object.keys(payload))
    assert.ok(
      seen.has(key) || optional.has(key),
      `${event}.${action} has "${key}", which no GitHub example has`,
    );
  return true;
}

describe("webhooks", () => {
  let t: TestEmulator;
  before(async () => {
    t = await startTestEmulator();
  });
  after(() => t.emulator.close());
  afterEach(() => t.emulator.faults.clear());

  it("signs every delivery, sends GitHub's headers, and shapes payloads like GitHub's", async () => {
    const receiver = await startReceiver();
    t.emulator.setWebhookUrl(receiver.url);
    try {
      const dave = t.emulator.octokitFor("dave");
      const bob = t.emulator.octokitFor("bob");
      const { data: issue } = await dave.rest.issues.create({
        owner: "acme",
        repo: "ops",
        title: "Need prod access",
        body: "v1",
        labels: ["breakglass"],
        assignees: ["bob"],
      });
      await dave.rest.issues.update({ owner: "acme", repo: "ops", issue_number: issue.number, body: "v2" });
      const { data: comment } = await bob.rest.issues.createComment({
        owner: "acme",
        repo: "ops",
        issue_number: issue.number,
        body: "/approve",
      });
      await bob.rest.issues.updateComment({
        owner: "acme",
        repo: "ops",
        comment_id: comment.id,
        body: "/deny",
      });
      await bob.rest.issues.deleteComment({ owner: "acme", repo: "ops", comment_id: comment.id });
      await bob.rest.issues.removeLabel({
        owner: "acme",
        repo: "ops",
        issue_number: issue.number,
        name: "breakglass",
      });
      await bob.rest.issues.update({
        owner: "acme",
        repo: "ops",
        issue_number: issue.number,
        state: "closed",
        state_reason: "completed",
      });
      await dave.rest.issues.update({
        owner: "acme",
        repo: "ops",
        issue_number: issue.number,
        state: "open",
      });
      await t.emulator.waitForIdle();

      assert.deepEqual(receiver.received.map(eventOf), [
        "issues.opened",
        "issues.labeled",
        "issues.assigned",
        "issues.edited",
        "issue_comment.created",
        "issue_comment.edited",
        "issue_comment.deleted",
        "issues.unlabeled",
        "issues.closed",
        "issues.reopened",
      ]);
      const guids = new Set<string>();
      let compared = 0;
      for (const hook of receiver.received) {
        const signature = String(hook.headers["x-hub-signature-256"]);
        assert.match(signature, /^sha256=[0-9a-f]{64}$/);
        assert.equal(
          await verify(t.secret, hook.body, signature),
          true,
          "signature verifies with the webhook secret",
        );
        assert.equal(await verify("wrong-secret", hook.body, signature), false);
        assert.match(
          String(hook.headers["x-github-delivery"]),
          /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
        );
        guids.add(String(hook.headers["x-github-delivery"]));
        assert.match(String(hook.headers["x-github-hook-id"]), /^\d+$/);
        assert.match(String(hook.headers["user-agent"]), /^GitHub-Hookshot\//);
        assert.equal(hook.headers["content-type"], "application/json");
        const payload = payloadOf(hook);
        const event = String(hook.headers["x-github-event"]);
        assertWebhookSchema(event, payload.action, payload);
        if (assertExampleKeys(event, payload.action, payload)) compared++;
        assert.deepEqual(Object.keys(payload.installation as object).sort(), ["id", "node_id"]);
      }
      assert.equal(guids.size, receiver.received.length, "each delivery has its own GUID");
      assert.ok(compared >= 8, `only ${compared} payloads had a GitHub example to compare with`);
      const edited = payloadOf(receiver.received[3]!);
      assert.deepEqual(edited.changes, { body: { from: "v1" } });
      assert.equal((edited.issue as { body: string }).body, "v2");
      const commentEdited = payloadOf(receiver.received[5]!);
      assert.deepEqual(commentEdited.changes, { body: { from: "/approve" } });
      assert.equal((commentEdited.sender as { login: string }).login, "bob");
      const closed = payloadOf(receiver.received[8]!);
      assert.equal((closed.issue as { state_reason: string }).state_reason, "completed");
      assert.equal(t.emulator.deliveries.filter((d) => d.status === 200).length, receiver.received.length);
    } finally {
      await receiver.close();
    }
  });

  it("attributes the app's writes to <slug>[bot] with performed_via_github_app", async () => {
    const receiver = await startReceiver();
    t.emulator.setWebhookUrl(receiver.url);
    try {
      const token = t.emulator.installationToken();
      const issue = await t.api("POST", "/repos/acme/ops/issues", token, {
        title: "audit",
        body: "checklist",
      });
      const n = (issue.json as { number: number }).number;
      await t.api("POST", `/repos/acme/ops/issues/${n}/comments`, token, { body: "status" });
      await t.emulator.waitForIdle();
      const created = receiver.received.map(payloadOf).find((p) => p.action === "created")!;
      const comment = created.comment as {
        user: { login: string; type: string };
        performed_via_github_app: { id: number; slug: string };
      };
      assert.equal(comment.user.login, "breakglass[bot]");
      assert.equal(comment.user.type, "Bot");
      assert.equal(comment.performed_via_github_app.id, t.emulator.state.app.id);
      assert.equal(comment.performed_via_github_app.slug, "breakglass");
      assert.equal((created.sender as { login: string }).login, "breakglass[bot]");
    } finally {
      await receiver.close();
    }
  });

  it("delivers one at a time, in order, and waitForIdle waits for deliveries the app's own calls cause", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const token = t.emulator.installationToken();
    const receiver = await startReceiver(async (hook) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const payload = payloadOf(hook);
      await new Promise((r) => setTimeout(r, 15));
      // Like an app answering a command: its comment causes another delivery while this one is in flight.
      if (payload.action === "created" && (payload.comment as { body: string }).body === "/ping") {
        const n = (payload.issue as { number: number }).number;
        await t.api("POST", `/repos/acme/ops/issues/${n}/comments`, token, { body: "pong" });
      }
      inFlight--;
      return 200;
    });
    t.emulator.setWebhookUrl(receiver.url);
    try {
      const dave = t.emulator.octokitFor("dave");
      const { data: issue } = await dave.rest.issues.create({ owner: "acme", repo: "ops", title: "ping" });
      await dave.rest.issues.createComment({
        owner: "acme",
        repo: "ops",
        issue_number: issue.number,
        body: "/ping",
      });
      await dave.rest.issues.createComment({
        owner: "acme",
        repo: "ops",
        issue_number: issue.number,
        body: "second",
      });
      await t.emulator.waitForIdle();
      const bodies = receiver.received
        .map(payloadOf)
        .filter((p) => p.comment)
        .map((p) => (p.comment as { body: string }).body);
      assert.deepEqual(bodies, ["/ping", "second", "pong"]);
      assert.equal(maxInFlight, 1);
    } finally {
      await receiver.close();
    }
  });

  it("records status, duration and failures, and redelivers with the same GUID", async () => {
    let status = 500;
    const receiver = await startReceiver(() => status);
    t.emulator.setWebhookUrl(receiver.url);
    try {
      await t.emulator
        .octokitFor("dave")
        .rest.issues.create({ owner: "acme", repo: "ops", title: "flaky app" });
      await t.emulator.waitForIdle();
      const failed = t.emulator.deliveries.at(-1)!;
      assert.equal(failed.status, 500);
      assert.equal(failed.event, "issues");
      assert.equal(failed.action, "opened");
      assert.ok(failed.durationMs !== null && failed.durationMs >= 0);
      status = 202;
      const again = await t.emulator.redeliver(failed.guid);
      assert.equal(again.status, 202);
      assert.equal(again.redelivery, true);
      assert.notEqual(again.id, failed.id);
      assert.equal(receiver.received.at(-1)!.headers["x-github-delivery"], failed.guid);
      assert.equal(receiver.received.at(-1)!.body, receiver.received.at(-2)!.body);
      await assert.rejects(t.emulator.redeliver("no-such-delivery"), /no delivery/);
    } finally {
      await receiver.close();
    }
    // Nobody listening: the attempt is recorded as failed and the queue still drains.
    await t.emulator.octokitFor("dave").rest.issues.create({ owner: "acme", repo: "ops", title: "app down" });
    await t.emulator.waitForIdle();
    assert.equal(t.emulator.deliveries.at(-1)!.status, null);
    assert.ok(t.emulator.deliveries.at(-1)!.error);
    t.emulator.setWebhookUrl(null);
    await t.emulator.octokitFor("dave").rest.issues.create({ owner: "acme", repo: "ops", title: "no hook" });
    await t.emulator.waitForIdle();
    assert.equal(t.emulator.deliveries.at(-1)!.error, "no webhook URL set");
  });

  it("sends installation.created shaped like GitHub's", async () => {
    const receiver = await startReceiver();
    t.emulator.setWebhookUrl(receiver.url);
    try {
      t.emulator.emitInstallationCreated();
      await t.emulator.waitForIdle();
      const payload = payloadOf(receiver.received[0]!);
      assert.equal(receiver.received[0]!.headers["x-github-event"], "installation");
      assertWebhookSchema("installation", "created", payload);
      assert.ok(assertExampleKeys("installation", "created", payload));
      assert.equal((payload.installation as { id: number }).id, t.emulator.state.installation.id);
      assert.deepEqual(
        (payload.repositories as Array<{ full_name: string }>).map((r) => r.full_name),
        ["acme/ops"],
      );
    } finally {
      await receiver.close();
    }
  });

  it("times a slow app out like GitHub (10 s there, configurable here)", async () => {
    const slow = await startTestEmulator({ webhookTimeoutMs: 50 });
    const receiver = await startReceiver(() => new Promise((r) => setTimeout(() => r(200), 300)));
    slow.emulator.setWebhookUrl(receiver.url);
    try {
      await slow.emulator
        .octokitFor("dave")
        .rest.issues.create({ owner: "acme", repo: "ops", title: "slow" });
      await slow.emulator.waitForIdle();
      assert.equal(slow.emulator.deliveries[0]!.status, null);
      assert.match(slow.emulator.deliveries[0]!.error!, /timed out after 50 ms/);
    } finally {
      await slow.emulator.close();
      await receiver.close();
    }
  });
});
