import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { BreakglassDeps } from "../../../src/app/infra/deps.ts";
import type { DashboardAuth } from "../../../src/app/http/dashboard/dashboard-route.ts";
import { createAppMetrics } from "../../../src/app/infra/metrics.ts";
import { opsRoutes, type Readiness } from "../../../src/app/http/ops-routes.ts";

async function serve(auth: DashboardAuth, readiness: Partial<Readiness> = {}, keys = 1) {
  const metrics = createAppMetrics(async () => ({ active: 2, pending: 3, revokeFailed: 1 }));
  const deps = {
    jwks: { keys: Array.from({ length: keys }, () => ({ kty: "EC" })) },
  } as unknown as BreakglassDeps;
  const routes = opsRoutes(deps, auth, metrics, {
    now: () => Date.now(),
    github: async () => undefined,
    ...readiness,
  });
  const server = createServer(
    (req, res) => void routes(req, res).then((handled) => handled || res.writeHead(404).end()),
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, metrics, close: () => new Promise((r) => server.close(r)) };
}

test("/metrics is protected like the dashboard: off is 404, the proxy needs its user and secret", async () => {
  const off = await serve({ mode: "off" });
  assert.equal((await fetch(`${off.url}/metrics`)).status, 404);
  await off.close();
  const proxy = await serve({ mode: "proxy", secret: "s3cret" });
  assert.equal((await fetch(`${proxy.url}/metrics`)).status, 401);
  assert.equal(
    (
      await fetch(`${proxy.url}/metrics`, {
        headers: { "x-forwarded-user": "ana", "x-breakglass-proxy-secret": "wrong!" },
      })
    ).status,
    401,
  );
  const ok = await fetch(`${proxy.url}/metrics`, {
    headers: { "x-forwarded-user": "prometheus", "x-breakglass-proxy-secret": "s3cret" },
  });
  assert.equal(ok.status, 200);
  const text = await ok.text();
  assert.match(text, /^breakglass_active_grants 2$/m);
  assert.match(text, /^breakglass_pending_requests 3$/m);
  assert.match(text, /^breakglass_revoke_failed_grants 1$/m);
  proxy.metrics.revokeFailed("aws");
  proxy.metrics.exchangeRefused("/breakglass/exchange", "run_not_recorded");
  const after = await (
    await fetch(`${proxy.url}/metrics`, {
      headers: { "x-forwarded-user": "prometheus", "x-breakglass-proxy-secret": "s3cret" },
    })
  ).text();
  assert.match(after, /^breakglass_revoke_failures_total\{provider="aws"\} 1$/m);
  assert.match(
    after,
    /^breakglass_exchange_refusals_total\{route="\/breakglass\/exchange",code="run_not_recorded"\} 1$/m,
  );
  await proxy.close();
});

test("/readyz is 503 with the reason while GitHub cannot be reached or no keys are loaded; a good answer is reused", async () => {
  let calls = 0;
  let fail = true;
  const s = await serve(
    { mode: "off" },
    {
      github: async () => {
        calls++;
        if (fail) throw new Error("connect ECONNREFUSED");
      },
      cacheMs: 60_000,
    },
  );
  const down = await fetch(`${s.url}/readyz`);
  assert.equal(down.status, 503);
  assert.deepEqual(await down.json(), {
    error: "not_ready",
    message: "Not ready: see checks.",
    checks: { signing_keys: "ok", github: "unreachable: connect ECONNREFUSED" },
  });
  fail = false;
  assert.equal((await fetch(`${s.url}/readyz`)).status, 200);
  assert.equal((await fetch(`${s.url}/readyz`)).status, 200);
  assert.equal(calls, 2, "the second good answer came from the cache");
  await s.close();
  const nokeys = await serve({ mode: "off" }, {}, 0);
  const r = await fetch(`${nokeys.url}/readyz`);
  assert.equal(r.status, 503);
  assert.equal(
    ((await r.json()) as { checks: { signing_keys: string } }).checks.signing_keys,
    "no public keys loaded",
  );
  await nokeys.close();
});
