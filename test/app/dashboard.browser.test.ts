/**
 * The /breakglass dashboard in a real headless Chromium against the sandbox: the active grant and a
 * pending request are shown, a /revoke moves the grant to the ended list, and a screenshot is kept.
 * Also: the route refuses when it is off (404 from a real server) and behind a proxy without the secret (401).
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, mkdir } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Socket } from "node:net";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import type { BreakglassDeps } from "../../src/app/infra/deps.ts";
import { dashboardRoute, type DashboardAuth } from "../../src/app/http/dashboard/dashboard-route.ts";
import { startBreakglassServer } from "../../src/app/server.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import { sandboxHelpers } from "../support/sandbox-helpers.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const MISSING = "install chromium (apt-get install chromium)";
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) throw new Error(`${MISSING}: nothing at ${CHROMIUM}`);

describe("dashboard in a real browser", { skip: haveChromium ? false : MISSING }, () => {
  let sb: Sandbox;
  let browser: Browser;
  let page: Page;
  let granted: number;
  let pending: number;
  let second: number;

  const { openRequest, say } = sandboxHelpers(() => sb);
  const sectionText = (id: string) => page.locator(`section#${id}`).innerText();
  const rowOf = (id: string, n: number) =>
    page.locator(`section#${id} tr`, { has: page.locator(`a[href$="/issues/${n}"]`) });

  before(async () => {
    sb = await startSandbox();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    page = await browser.newPage({ viewport: { width: 1200, height: 800 } });

    granted = await openRequest("dave", {
      resource: "model-guardrail-override",
      role: "override",
      duration: "30m",
      severity: "critical",
      justification: "The safety classifier blocks every answer since the 09:00 model push.",
      incident: "https://status.example.com/incidents/42",
    });
    await sb.approveSigned("grace", granted, { note: "confirmed with the incident commander" });
    const run = sb.runs.find((r) => r.issue === granted);
    assert.ok(run, "the app dispatched the grant workflow");
    const action = await run.result;
    assert.equal(action.exitCode, 0, `the Action succeeded:\n${action.stdout}\n${action.stderr}`);
    await sb.settle();
    // A second grant that stays active after the first is revoked, so the screenshot shows every section.
    second = await openRequest("mallory", {
      resource: "model-guardrail-override",
      role: "override",
      duration: "2h",
      severity: "high",
      justification: "Keep the override while the rollback finishes.",
    });
    await sb.approveSigned("grace", second);
    assert.equal(
      (await sb.runs.find((r) => r.issue === second)?.result)?.exitCode,
      0,
      "the second grant was issued",
    );
    await sb.settle();
    pending = await openRequest("rita", {
      resource: "model-guardrail-override",
      role: "override",
      duration: "1h",
      severity: "high",
      justification: "Second look at the classifier.",
    });
    await sb.advance(4 * 60 * 1000);
  });
  after(async () => {
    await browser?.close();
    await sb?.close();
  });

  it("shows the active grant with its issue link, role and time left, and the pending request with who may approve", async () => {
    const response = await page.goto(`${sb.app.url}/breakglass`);
    assert.equal(response?.status(), 200);
    assert.equal(response?.headers()["x-frame-options"], "DENY");
    assert.match(response?.headers()["content-security-policy"] ?? "", /default-src 'none'/);
    assert.match(await page.title(), /2 active, 1 pending/);

    const active = rowOf("active", granted);
    assert.equal(
      await active.count(),
      1,
      `the active section lists #${granted}:\n${await sectionText("active")}`,
    );
    const activeText = await active.innerText();
    assert.match(activeText, new RegExp(`acme/ops#${granted}\\b`));
    assert.match(activeText, /override/);
    assert.match(activeText, /model-guardrail-override/);
    assert.match(activeText, /dave/);
    assert.match(activeText, /grace/, "approved by grace");
    // 30 minutes granted, 4 minutes passed on the sandbox clock.
    assert.match(activeText, /\b26m\b/);
    assert.match(await rowOf("active", second).innerText(), /\b1h56m\b/);
    // Sorted by what expires first.
    assert.match(await sectionText("active"), new RegExp(`#${granted}\\b[\\s\\S]*#${second}\\b`));
    const href = await active.locator("a").first().getAttribute("href");
    assert.match(href ?? "", new RegExp(`^https?://.+/acme/ops/issues/${granted}$`));

    const waiting = rowOf("pending", pending);
    assert.equal(
      await waiting.count(),
      1,
      `the pending section lists #${pending}:\n${await sectionText("pending")}`,
    );
    const waitingText = await waiting.innerText();
    assert.match(waitingText, /rita/);
    assert.match(waitingText, /\b4m\b/, "waiting for 4 minutes");
    assert.match(waitingText, /acme\/ai-governance/, "who may approve");
    assert.equal(await rowOf("active", pending).count(), 0);
    assert.equal(await rowOf("pending", granted).count(), 0);
    assert.equal(
      await page.locator("section#failed").count(),
      0,
      "no failed-revocations section when nothing failed",
    );
    assert.equal(await page.locator('meta[http-equiv="refresh"]').getAttribute("content"), "15");
  });

  it("after /revoke the grant leaves Active grants and appears under Ended; a screenshot is saved", async () => {
    await say("grace", granted, "/revoke done");
    await sb.settle();
    await page.reload();
    assert.equal(
      await rowOf("active", granted).count(),
      0,
      `#${granted} left the active section:\n${await sectionText("active")}`,
    );
    assert.equal(await rowOf("active", second).count(), 1, "the other grant is still active");
    const ended = rowOf("recent", granted);
    assert.equal(
      await ended.count(),
      1,
      `#${granted} is in the ended section:\n${await sectionText("recent")}`,
    );
    assert.match(await page.locator("section#recent h2").innerText(), /^Ended/);
    assert.match(await ended.innerText(), /revoked/);
    assert.equal(await rowOf("pending", pending).count(), 1, "the pending request is still waiting");
    assert.match(await page.title(), /1 active, 1 pending/);

    await mkdir(join(ROOT, "test-artifacts"), { recursive: true });
    await mkdir(join(ROOT, "docs", "images"), { recursive: true });
    const shot = join(ROOT, "test-artifacts", "dashboard.png");
    const png = await page.screenshot({ path: shot, fullPage: true });
    assert.ok(png.length > 5000, "a real screenshot");
    assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], "PNG signature");
    await copyFile(shot, join(ROOT, "docs", "images", "dashboard.png"));
  });
});

describe("the dashboard route refuses", () => {
  it("answers 404 from a real server when the dashboard is off (the default)", async () => {
    const { privateKey } = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      privateKeyEncoding: { type: "pkcs1", format: "pem" },
      publicKeyEncoding: { type: "spki", format: "pem" },
    });
    const server = await startBreakglassServer({
      appId: 1,
      privateKey,
      webhookSecret: "unused",
      baseUrl: "http://127.0.0.1:9/api/v3",
      port: 0,
      realTimers: false,
      throttle: false,
      logLevel: "silent",
      deps: fakeDeps() as unknown as Parameters<typeof startBreakglassServer>[0]["deps"],
    });
    try {
      for (const path of ["/breakglass", "/breakglass/"]) {
        const res = await fetch(`${server.url}${path}`);
        assert.equal(res.status, 404, path);
        assert.doesNotMatch(await res.text(), /Breakglass —|Active grants/);
      }
    } finally {
      await server.stop();
    }
  });

  it("answers 401 in proxy mode without the user or with a wrong or missing secret, 200 with both", async () => {
    const auth: DashboardAuth = { mode: "proxy", secret: "s3cret-from-the-proxy" };
    const cases: Array<[Record<string, string>, number]> = [
      [{}, 401],
      [{ "x-forwarded-user": "dave" }, 401],
      [{ "x-forwarded-user": "dave", "x-breakglass-proxy-secret": "wrong" }, 401],
      [{ "x-forwarded-user": "dave", "x-breakglass-proxy-secret": "s3cret-from-the-proxy-and-more" }, 401],
      [{ "x-forwarded-user": "dave", "x-breakglass-proxy-secret": "S3CRET-FROM-THE-PROXY" }, 401],
      [{ "x-forwarded-user": "", "x-breakglass-proxy-secret": "s3cret-from-the-proxy" }, 401],
      [{ "x-breakglass-proxy-secret": "s3cret-from-the-proxy" }, 401],
      [{ "x-forwarded-user": "dave", "x-breakglass-proxy-secret": "s3cret-from-the-proxy" }, 200],
    ];
    for (const [headers, status] of cases) {
      const res = await call(auth, { headers });
      assert.equal(res.handled, true);
      assert.equal(res.status, status, JSON.stringify(headers));
      if (status === 401) assert.doesNotMatch(res.body, /Active grants/);
      else assert.match(res.body, /Active grants/);
    }
  });

  it("loopback mode serves only this machine", async () => {
    assert.equal((await call({ mode: "loopback" }, { remote: "10.0.0.5" })).status, 403);
    assert.equal((await call({ mode: "loopback" }, { remote: "::ffff:10.0.0.5" })).status, 403);
    // A forwarded-for header must not talk its way in.
    assert.equal(
      (
        await call(
          { mode: "loopback" },
          { remote: "203.0.113.9", headers: { "x-forwarded-for": "127.0.0.1" } },
        )
      ).status,
      403,
    );
    assert.equal((await call({ mode: "loopback" }, { remote: "127.0.0.1" })).status, 200);
    assert.equal((await call({ mode: "loopback" }, { remote: "::1" })).status, 200);
  });

  it("leaves other paths and methods to the next handler, and is not served when off", async () => {
    const open: DashboardAuth = { mode: "loopback" };
    assert.equal((await call(open, { url: "/breakglass/exchange" })).handled, false);
    assert.equal((await call(open, { url: "/breakglassx" })).handled, false);
    assert.equal((await call(open, { method: "POST" })).handled, false);
    assert.equal((await call(open, { url: "/breakglass?x=1" })).status, 200);
    const off = await call({ mode: "off" }, {});
    assert.equal(off.handled, false);
    assert.equal(off.status, null, "nothing written when off");
  });
});

function fakeDeps(): BreakglassDeps {
  return { now: () => Date.parse("2026-03-01T12:00:00Z") } as unknown as BreakglassDeps;
}

async function call(
  auth: DashboardAuth,
  opts: { url?: string; method?: string; headers?: Record<string, string>; remote?: string },
): Promise<{ handled: boolean; status: number | null; body: string }> {
  const socket = new Socket();
  Object.defineProperty(socket, "remoteAddress", { value: opts.remote ?? "127.0.0.1" });
  const req = {
    url: opts.url ?? "/breakglass",
    method: opts.method ?? "GET",
    headers: opts.headers ?? {},
    socket,
  } as unknown as IncomingMessage;
  let status: number | null = null;
  let body = "";
  const res = {
    headersSent: false,
    writeHead(code: number) {
      status = code;
      return res;
    },
    end(chunk?: string) {
      body += chunk ?? "";
      return res;
    },
  } as unknown as ServerResponse;
  const handled = await dashboardRoute(fakeDeps(), auth, async () => [])(req, res);
  socket.destroy();
  return { handled, status, body };
}
