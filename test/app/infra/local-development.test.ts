/**
 * Local development as in other Probot apps: WEBHOOK_PROXY_URL (a smee.io channel, forwarded with
 * smee-client as Probot's server does) and GH_ORG (the organization `npm run setup` registers the app
 * under). The relay test stands in for smee.io with a local Server-Sent Events channel speaking its
 * format: GitHub (the emulator) posts the delivery to the channel, smee-client replays it to the app.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ConfigError } from "../../../src/app/infra/config-error.ts";
import { serverConfigFromEnv } from "../../../src/app/infra/config-from-env.ts";
import { localDevelopmentFromEnv } from "../../../src/app/infra/local-development.ts";
import { generateSigningKeyPem } from "../../../src/app/infra/signing-keys.ts";
import { startSandbox } from "../../../src/sandbox/start-sandbox.ts";
import { sandboxHelpers } from "../../support/sandbox-helpers.ts";

test("WEBHOOK_PROXY_URL and GH_ORG are read and checked; unset means neither", () => {
  assert.deepEqual(localDevelopmentFromEnv({}), {});
  assert.deepEqual(
    localDevelopmentFromEnv({ WEBHOOK_PROXY_URL: " https://smee.io/AbC123/ ", GH_ORG: "acme-corp" }),
    { webhookProxyUrl: "https://smee.io/AbC123", org: "acme-corp" },
  );
  const refused: Array<[Record<string, string>, string, RegExp]> = [
    [
      { WEBHOOK_PROXY_URL: "smee.io/AbC" },
      "WEBHOOK_PROXY_URL",
      /must be the URL of a webhook relay channel, e\.g\. https:\/\/smee\.io\//,
    ],
    [{ WEBHOOK_PROXY_URL: "ftp://smee.io/AbC" }, "WEBHOOK_PROXY_URL", /relay channel/],
    [{ WEBHOOK_PROXY_URL: "https://me:secret@smee.io/AbC" }, "WEBHOOK_PROXY_URL", /user name or password/],
    [{ GH_ORG: "acme corp" }, "GH_ORG", /organization's login as in its URL/],
    [{ GH_ORG: "-acme" }, "GH_ORG", /login/],
    [{ GH_ORG: "a--b" }, "GH_ORG", /login/],
    [{ GH_ORG: "a".repeat(40) }, "GH_ORG", /login/],
  ];
  for (const [env, variable, message] of refused) {
    assert.throws(
      () => localDevelopmentFromEnv(env),
      (error: unknown) =>
        error instanceof ConfigError && error.variable === variable && message.test(error.message),
      JSON.stringify(env),
    );
  }
});

test("the server configuration carries WEBHOOK_PROXY_URL, and a bad one refuses to start naming it", async () => {
  const env = {
    APP_ID: "12",
    PRIVATE_KEY: generateKeyPairSync("rsa", {
      modulusLength: 2048,
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
      publicKeyEncoding: { type: "spki", format: "pem" },
    }).privateKey,
    WEBHOOK_SECRET: "s",
    BREAKGLASS_SIGNING_KEY: await generateSigningKeyPem(),
    BREAKGLASS_SEAL_KEY: randomBytes(32).toString("base64"),
    BREAKGLASS_PUBLIC_URL: "https://breakglass.example.com",
    BREAKGLASS_APP_SLUG: "breakglass",
  };
  assert.equal((await serverConfigFromEnv(env)).webhookProxyUrl, undefined);
  assert.equal(
    (await serverConfigFromEnv({ ...env, WEBHOOK_PROXY_URL: "https://smee.io/AbC123" })).webhookProxyUrl,
    "https://smee.io/AbC123",
  );
  await assert.rejects(
    serverConfigFromEnv({ ...env, WEBHOOK_PROXY_URL: "nope" }),
    (e: unknown) => e instanceof ConfigError && e.variable === "WEBHOOK_PROXY_URL",
  );
});

test(
  "with WEBHOOK_PROXY_URL the app receives GitHub's deliveries through the relay channel, signature checked as ever",
  { timeout: 120_000 },
  async () => {
    const listeners = new Set<ServerResponse>();
    let relayed = 0;
    const relay = createServer((req, res) => {
      if (req.method === "GET") {
        res.writeHead(200, {
          "content-type": "text/event-stream",
          "cache-control": "no-cache",
          connection: "keep-alive",
        });
        res.write("event: ready\ndata: {}\n\n");
        listeners.add(res);
        req.on("close", () => listeners.delete(res));
        return;
      }
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        // smee.io's message: the delivery's headers, its parsed body, its query, a timestamp.
        const message = { ...req.headers, body: JSON.parse(body), query: {}, timestamp: Date.now() };
        for (const l of listeners) l.write(`data: ${JSON.stringify(message)}\n\n`);
        relayed++;
        res.writeHead(200).end("ok");
      });
    });
    await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
    const channel = `http://127.0.0.1:${(relay.address() as AddressInfo).port}/AbC123`;
    const sb = await startSandbox({ webhookProxyUrl: channel });
    const { openRequest, appTexts, stateOf } = sandboxHelpers(() => sb);
    try {
      assert.equal(listeners.size, 1, "the app's smee-client is listening on the channel");
      sb.emulator.setWebhookUrl(channel); // the GitHub App's webhook URL is the channel, as `npm run setup` with WEBHOOK_PROXY_URL registers it
      const n = await openRequest("dave", {
        resource: "model-guardrail-override",
        role: "override",
        duration: "30m",
        severity: "critical",
      });
      let texts: string[] = [];
      for (let i = 0; i < 100 && !texts.some((t) => t.includes("requests `override`")); i++) {
        await new Promise((r) => setTimeout(r, 100));
        texts = await appTexts(n);
      }
      assert.ok(relayed >= 1, "the delivery went to the channel");
      assert.ok(
        texts.some((t) => t.includes("requests `override`")),
        `the app recorded the request it got through the relay: ${texts.join("\n")}`,
      );

      // A message on the channel that GitHub did not sign is refused by the app like any unsigned delivery.
      const forged = {
        "x-github-event": "issue_comment",
        "x-github-delivery": "forged-1",
        "x-hub-signature-256": `sha256=${"0".repeat(64)}`,
        body: {
          action: "created",
          issue: { number: n },
          comment: { id: 1, body: "/approve", user: { login: "grace", type: "User" } },
        },
        query: {},
      };
      for (const l of listeners) l.write(`data: ${JSON.stringify(forged)}\n\n`);
      await new Promise((r) => setTimeout(r, 1500));
      const state = await stateOf(n);
      assert.equal(state.status, "requested", "the forged /approve did not count");
      assert.deepEqual(state.approvals, []);
      assert.ok(!(await appTexts(n)).some((t) => t.includes("grace")), "and was not answered");
    } finally {
      await sb.close();
      for (const l of listeners) l.end();
      relay.closeAllConnections();
      relay.close();
    }
  },
);
