import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { exportJWK } from "jose";
import { loadJwks, parseJwks } from "../../src/audit/load-jwks.ts";
import { generateAuditKey } from "../../src/core/audit-chain.ts";

describe("loadJwks", () => {
  it("reads a file relative to the working directory and drops private members", async () => {
    const key = await generateAuditKey();
    const privateJwk = { ...(await exportJWK(key.privateKey)), kid: key.kid };
    const dir = await mkdtemp(join(tmpdir(), "jwks-"));
    try {
      await writeFile(join(dir, "keys.json"), JSON.stringify({ keys: [privateJwk] }));
      const loaded = await loadJwks("keys.json", { cwd: dir });
      assert.ok(loaded.ok);
      assert.equal(loaded.value.keys[0]!.kid, key.kid);
      assert.equal("d" in loaded.value.keys[0]!, false, "the private part is never kept");
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it("fetches a URL and reports a refusal with the status", async () => {
    const key = await generateAuditKey();
    const fetched: string[] = [];
    const okFetch = (async (url: string) => {
      fetched.push(url);
      return new Response(JSON.stringify({ keys: [key.publicJwk] }), { status: 200 });
    }) as unknown as typeof fetch;
    const loaded = await loadJwks("https://app.example/breakglass/jwks.json", { cwd: "/", fetch: okFetch });
    assert.ok(loaded.ok);
    assert.deepEqual(fetched, ["https://app.example/breakglass/jwks.json"]);
    const missing = (async () => new Response("nope", { status: 404 })) as unknown as typeof fetch;
    const refused = await loadJwks("https://app.example/jwks.json", { cwd: "/", fetch: missing });
    assert.deepEqual(refused.ok, false);
    if (!refused.ok)
      assert.match(
        refused.error,
        /answered 404\. Give the app's key set: --jwks https:\/\/<your app>\/breakglass\/jwks\.json/,
      );
  });

  it("refuses what is not a public key set", () => {
    const cases: Array<[string, RegExp]> = [
      ["not json", /is not JSON/],
      ["[]", /is not a key set/],
      ['{"keys":[]}', /is not a key set/],
      ['{"keys":["x"]}', /is not a key set/],
      ['{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"a"}]}', /symmetric \(oct\) keys cannot be published/],
      ['{"keys":[{"kty":"EC","crv":"P-256","x":"a","y":"b"}]}', /every key needs a kid/],
    ];
    for (const [text, message] of cases) {
      const parsed = parseJwks(text, "k.json");
      assert.equal(parsed.ok, false, text);
      if (!parsed.ok) assert.match(parsed.error, message, text);
    }
  });
});
