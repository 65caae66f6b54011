/**
 * Operating the app: /metrics (Prometheus, protected like the dashboard), /readyz vs /healthz, and
 * notification failures logged, counted and shown — through the real app in the sandbox.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import { notificationFailureLog } from "../../src/app/infra/notification-failures.ts";
import { reportNotificationFailures } from "../../src/app/server.ts";
import { sandboxHelpers } from "../support/sandbox-helpers.ts";

/** The value of one sample line of Prometheus text, or null when absent. */
function sample(text: string, name: string, labels = ""): number | null {
  const line = text.split("\n").find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ""} `));
  return line ? Number(line.split(" ").pop()) : null;
}

describe("operations through the real app", () => {
  let sb: Sandbox;
  const h = sandboxHelpers(() => sb);
  before(async () => {
    sb = await startSandbox();
  });
  after(async () => {
    await sb.close();
  });

  it("/metrics counts a live grant, a pending request, refusals by code and webhook handling time", async () => {
    const before = await (await fetch(`${sb.app.url}/metrics`)).text();
    assert.equal(sample(before, "breakglass_active_grants"), 0);
    const pending = await h.openRequest("dave", {
      resource: "prod-database",
      role: "read",
      duration: "1h",
      severity: "high",
    });
    const n = await h.openRequest("dave", {
      resource: "model-guardrail-override",
      role: "override",
      duration: "30m",
      severity: "critical",
    });
    await h.approve("grace", n);
    const run = sb.runs.find((r) => r.issue === n);
    assert.ok(run, "the grant workflow ran");
    assert.equal((await run.result).exitCode, 0);
    const refused = await fetch(`${sb.app.url}/breakglass/exchange`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: "not.a.jwt", issue: n }),
    });
    assert.equal(refused.status, 401);
    const { error: code } = (await refused.json()) as { error: string };

    const res = await fetch(`${sb.app.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assert.equal(sample(text, "breakglass_active_grants"), 1);
    assert.equal(sample(text, "breakglass_pending_requests"), 1, `#${pending} waits for approval`);
    assert.equal(
      sample(text, "breakglass_exchange_refusals_total", `route="/breakglass/exchange",code="${code}"`),
      1,
    );
    assert.ok(
      (sample(text, "breakglass_webhook_duration_seconds_count", 'event="issue_comment"') ?? 0) >= 1,
      "webhook deliveries are timed",
    );
    assert.ok((sample(text, "breakglass_webhook_duration_seconds_count", 'event="issues"') ?? 0) >= 2);
    assert.equal(sample(text, "breakglass_revoke_failures_total"), null, "no failure, no series yet");
    assert.match(text, /# TYPE breakglass_notification_failures_total counter/);
  });

  it("/healthz says the process answers; /readyz checks the signing keys and GitHub", async () => {
    assert.deepEqual(await (await fetch(`${sb.app.url}/healthz`)).json(), { ok: true });
    const ready = await fetch(`${sb.app.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { ok: true, checks: { signing_keys: "ok", github: "ok" } });
  });

  it("notification failures are logged, counted and on the dashboard", async () => {
    const failures = notificationFailureLog();
    sb.app.deps.notificationFailures = failures;
    // The sandbox's notifier is in memory and cannot fail: wire a failure log as the server does at start.
    const warnings: Array<{ obj: object; msg: string }> = [];
    reportNotificationFailures(sb.app.deps, sb.app.metrics, {
      warn: (obj, msg) => void warnings.push({ obj, msg }),
    });
    failures.add({
      at: "2026-11-24T09:00:00.000Z",
      target: "slack",
      url_env: "SLACK_ONCALL_URL",
      event: "break_glass",
      repository: "acme/ops",
      issue: 1,
      reason: "SLACK_ONCALL_URL is not set in the app's environment",
    });
    assert.deepEqual(
      warnings.map((w) => w.msg),
      ["notification to SLACK_ONCALL_URL failed: SLACK_ONCALL_URL is not set in the app's environment"],
    );
    const text = await (await fetch(`${sb.app.url}/metrics`)).text();
    assert.equal(sample(text, "breakglass_notification_failures_total", 'target="slack"'), 1);
    const page = await (await fetch(`${sb.app.url}/breakglass`)).text();
    assert.match(
      page,
      /<section id="notification-failures">[\s\S]*SLACK_ONCALL_URL[\s\S]*is not set in the app&#39;s environment/,
    );
  });
});
