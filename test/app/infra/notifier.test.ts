import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { httpNotifier } from "../../../src/app/infra/notifier.ts";

const notification = {
  event: "granted" as const,
  repository: "acme/ops",
  issue: 3,
  url: "https://github.example/acme/ops/issues/3",
  summary: "read on prod-database granted to dave",
};

async function receiver(statuses: number[]) {
  const received: Array<{ headers: Record<string, string | string[] | undefined>; body: string }> = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      res.writeHead(statuses.shift() ?? 200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    close: () => new Promise((r) => server.close(r)),
  };
}

test("generic webhooks are signed with HMAC-SHA256 over the exact body", async () => {
  const hook = await receiver([]);
  const notifier = httpNotifier({ env: { HOOK: hook.url, SECRET: "s3cret" } });
  await notifier.notify([{ type: "webhook", url_env: "HOOK", secret_env: "SECRET" }], notification);
  assert.equal(hook.received.length, 1);
  const { headers, body } = hook.received[0]!;
  assert.equal(
    headers["x-breakglass-signature-256"],
    `sha256=${createHmac("sha256", "s3cret").update(body).digest("hex")}`,
  );
  assert.deepEqual(JSON.parse(body), notification);
  await hook.close();
});

test("Slack gets a text message with a link; a failing target is retried and never throws", async () => {
  const hook = await receiver([500, 503]);
  const logs: string[] = [];
  const notifier = httpNotifier({ env: { SLACK: hook.url }, log: (m) => logs.push(m) });
  await notifier.notify([{ type: "slack", url_env: "SLACK" }], notification);
  assert.equal(hook.received.length, 3);
  assert.match(JSON.parse(hook.received[2]!.body).text, /granted.*acme\/ops#3/);
  assert.deepEqual(logs, [], "the third attempt succeeded: nothing to report");
  await hook.close();
});

test("an unset URL variable or an unreachable target is logged, not thrown", async () => {
  const logs: string[] = [];
  const notifier = httpNotifier({
    env: { DEAD: "http://127.0.0.1:9/x" },
    log: (m) => logs.push(m),
    attempts: 1,
  });
  await notifier.notify(
    [
      { type: "slack", url_env: "MISSING" },
      { type: "webhook", url_env: "DEAD" },
    ],
    notification,
  );
  assert.ok(logs.some((l) => l.includes("MISSING is not set")));
  assert.ok(logs.some((l) => l.includes("failed")));
});

test("Slack text is escaped: a justification cannot ping a channel, mention someone or fake a link", async () => {
  const hook = await receiver([]);
  const notifier = httpNotifier({ env: { SLACK: hook.url } });
  await notifier.notify([{ type: "slack", url_env: "SLACK" }], {
    ...notification,
    event: "break_glass",
    summary: "mallory self-approved: <!channel> <@U0ADMIN> <https://evil.example|click> & more",
  });
  const text = JSON.parse(hook.received[0]!.body).text as string;
  assert.doesNotMatch(text, /<!channel>|<@U0ADMIN>|<https:\/\/evil/);
  assert.match(text, /&lt;!channel&gt; &lt;@U0ADMIN&gt; &lt;https:\/\/evil\.example\|click&gt; &amp; more/);
  assert.match(
    text,
    /<https:\/\/github\.example\/acme\/ops\/issues\/3\|acme\/ops#3>$/,
    "the one real link is the issue",
  );
  await hook.close();
});

test("Slack that keeps failing is logged once after the last attempt, and never throws", async () => {
  const hook = await receiver([500, 500, 500]);
  const logs: string[] = [];
  await httpNotifier({ env: { SLACK: hook.url }, log: (m) => logs.push(m) }).notify(
    [{ type: "slack", url_env: "SLACK" }],
    notification,
  );
  assert.equal(hook.received.length, 3);
  assert.equal(logs.length, 1);
  assert.match(logs[0]!, /slack failed after 3 attempt/);
  await hook.close();
});

test("each notification that does not arrive is reported once: unset URL, unset signing secret, a target that keeps failing", async () => {
  const hook = await receiver([500, 500]);
  const failures: Array<{ target: string; url_env: string; event: string; reason: string }> = [];
  const notifier = httpNotifier({
    env: { HOOK: hook.url, SIGNED: hook.url },
    attempts: 2,
    onFailure: (f) => void failures.push(f),
  });
  await notifier.notify(
    [
      { type: "slack", url_env: "MISSING" },
      { type: "webhook", url_env: "SIGNED", secret_env: "NO_SECRET" },
      { type: "webhook", url_env: "HOOK" },
    ],
    notification,
  );
  assert.deepEqual(
    failures
      .map(({ target, url_env, reason }) => ({ target, url_env, reason }))
      .sort((a, b) => a.url_env.localeCompare(b.url_env)),
    [
      { target: "webhook", url_env: "HOOK", reason: "failed after 2 attempt(s): answered 500" },
      { target: "slack", url_env: "MISSING", reason: "MISSING is not set in the app's environment" },
      { target: "webhook", url_env: "SIGNED", reason: "NO_SECRET is not set in the app's environment" },
    ],
  );
  assert.equal(hook.received.length, 2, "no unsigned POST went out for the signed target");
  assert.ok(
    failures.every((f) => f.event === "granted" && !JSON.stringify(f).includes(hook.url)),
    "no URL is kept",
  );
  await hook.close();
});

test("bidi and invisible characters reach neither Slack nor a webhook (the webhook's signature covers the cleaned body)", async () => {
  const slack = await receiver([]);
  const hook = await receiver([]);
  const notifier = httpNotifier({ env: { SLACK: slack.url, HOOK: hook.url, SECRET: "s" } });
  const summary =
    "ivan self-approved: users see \u202eegasu\u202c \u2066now\u2069\u200b\u200d\ufeff\u{e0041}";
  await notifier.notify(
    [
      { type: "slack", url_env: "SLACK" },
      { type: "webhook", url_env: "HOOK", secret_env: "SECRET" },
    ],
    { ...notification, event: "break_glass", summary },
  );
  const text = JSON.parse(slack.received[0]!.body).text as string;
  const { body, headers } = hook.received[0]!;
  for (const out of [text, body])
    assert.doesNotMatch(out, /[\u202a-\u202e\u2066-\u2069\u200b-\u200f\ufeff]|\\u202e|\u{e0041}/u);
  assert.match(text, /users see egasu now/);
  assert.equal(JSON.parse(body).summary, "ivan self-approved: users see egasu now");
  assert.equal(
    headers["x-breakglass-signature-256"],
    `sha256=${createHmac("sha256", "s").update(body).digest("hex")}`,
  );
  await slack.close();
  await hook.close();
});
