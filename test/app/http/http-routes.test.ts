import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createRoutes, type RouteContext } from "../../../src/app/http/http-routes.ts";
import type { BreakglassDeps } from "../../../src/app/infra/deps.ts";
import { OidcRefusal } from "../../../src/app/grant/oidc-verifier.ts";

/** The routes on a real HTTP server, with a verifier that refuses every token and a recording log. */
async function serve() {
  const lines: Array<{ level: string; obj: Record<string, unknown>; msg?: string }> = [];
  const ctx: RouteContext = {
    deps: { jwks: { keys: [] } } as unknown as BreakglassDeps,
    verify: async () => {
      throw new OidcRefusal("token_signature", "The token's signature does not verify.");
    },
    portFor: async () => null,
    lock: (async (_key: string, work: () => Promise<unknown>) => work()) as RouteContext["lock"],
    log: {
      info: (obj, msg) =>
        lines.push({ level: "info", obj: obj as Record<string, unknown>, ...(msg ? { msg } : {}) }),
      warn: (obj, msg) =>
        lines.push({ level: "warn", obj: obj as Record<string, unknown>, ...(msg ? { msg } : {}) }),
    },
  };
  const routes = createRoutes(ctx);
  const server = createServer(
    (req, res) => void routes(req, res).then((handled) => handled || res.writeHead(404).end()),
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, lines, close: () => new Promise((r) => server.close(r)) };
}

test("every answer carries a request id, and the refusal's log line carries the same one", async () => {
  const s = await serve();
  const res = await fetch(`${s.url}/breakglass/exchange`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token: "x.y.z", issue: 1 }),
  });
  assert.equal(res.status, 401);
  const id = res.headers.get("x-request-id") ?? "";
  assert.match(id, /^[0-9a-f-]{36}$/);
  assert.equal(s.lines.length, 1);
  assert.equal(s.lines[0]!.obj.req_id, id);
  assert.equal(s.lines[0]!.obj.code, "token_signature");
  assert.ok(!JSON.stringify(s.lines).includes("x.y.z"), "the token is not logged");
  await s.close();
});

test("a caller's well-formed X-Request-Id is kept; a malformed one (log injection) is replaced", async () => {
  const s = await serve();
  const kept = await fetch(`${s.url}/healthz`, { headers: { "x-request-id": "gh-run-123456:attempt-1" } });
  assert.equal(kept.headers.get("x-request-id"), "gh-run-123456:attempt-1");
  const replaced = await fetch(`${s.url}/healthz`, {
    headers: { "x-request-id": 'evil" level=50 msg="forged' },
  });
  assert.match(replaced.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
  await s.close();
});
