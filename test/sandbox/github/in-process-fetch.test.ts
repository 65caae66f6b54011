/**
 * The emulator's in-process fetch (what handler unit tests give Octokit) answers exactly as its HTTP
 * server does: same status, body and headers that matter, same authentication and permission rules.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestEmulator, type TestEmulator } from "./helpers.ts";

let t: TestEmulator;
before(async () => {
  t = await startTestEmulator();
});
after(() => t.emulator.close());

async function both(method: string, path: string, token?: string, body?: unknown) {
  const init = (): RequestInit => ({
    method,
    headers: {
      accept: "application/vnd.github+json",
      ...(token ? { authorization: `token ${token}` } : {}),
      ...(body ? { "content-type": "application/json" } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const overHttp = await fetch(`${t.emulator.apiUrl}${path}`, init());
  const inProcess = await t.emulator.inProcessFetch(`${t.emulator.apiUrl}${path}`, init());
  return {
    http: {
      status: overHttp.status,
      text: await overHttp.text(),
      type: overHttp.headers.get("content-type"),
    },
    local: {
      status: inProcess.status,
      text: await inProcess.text(),
      type: inProcess.headers.get("content-type"),
    },
  };
}

describe("emulator in-process fetch", () => {
  it("answers reads, refusals and missing routes as the HTTP server does", async () => {
    const token = t.emulator.installationToken();
    for (const [method, path, tok] of [
      ["GET", "/repos/acme/ops", token],
      ["GET", "/repos/acme/ops", undefined],
      ["GET", "/repos/acme/ops", "ghs_not_a_token"],
      ["GET", "/repos/acme/nope", token],
      ["GET", "/no/such/route", token],
    ] as const) {
      const { http, local } = await both(method, path, tok);
      assert.equal(local.status, http.status, `${method} ${path}`);
      assert.equal(local.type, http.type, `${method} ${path}`);
      assert.deepEqual(JSON.parse(local.text), JSON.parse(http.text), `${method} ${path}`);
    }
  });

  it("writes go through the same permission rules and change the same state", async () => {
    const reader = t.emulator.userToken("mallory"); // read access only
    const refused = await t.emulator.inProcessFetch(`${t.emulator.apiUrl}/repos/acme/ops/labels`, {
      method: "POST",
      headers: { authorization: `token ${reader}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "x", color: "ffffff" }),
    });
    assert.equal(refused.status, 403);
    assert.equal(t.emulator.state.repository.labels.has("x"), false);
    const created = await t.emulator.inProcessFetch(`${t.emulator.apiUrl}/repos/acme/ops/issues`, {
      method: "POST",
      headers: { authorization: `token ${t.emulator.userToken("dave")}`, "content-type": "application/json" },
      body: JSON.stringify({ title: "in process" }),
    });
    assert.equal(created.status, 201);
    const { number } = (await created.json()) as { number: number };
    assert.equal(t.emulator.state.repository.issues.get(number)?.title, "in process");
  });
});
