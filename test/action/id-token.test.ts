import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { ActionCore } from "../../src/action/action-core.ts";
import { idToken } from "../../src/action/id-token.ts";

function fakeCore(getIDToken: ActionCore["getIDToken"]): ActionCore & { masked: string[] } {
  const masked: string[] = [];
  return { getIDToken, setSecret: (s: string) => void masked.push(s), masked } as unknown as ActionCore & {
    masked: string[];
  };
}

test("on a runner the token is the toolkit's; its errors are not papered over", async () => {
  assert.equal(
    await idToken(
      fakeCore(async (aud) => `tok-for-${aud}`),
      "breakglass",
      {},
    ),
    "tok-for-breakglass",
  );
  await assert.rejects(
    idToken(
      fakeCore(async () =>
        Promise.reject(new Error("Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable")),
      ),
      "breakglass",
      { ACTIONS_ID_TOKEN_REQUEST_URL: "http://x", ACTIONS_ID_TOKEN_REQUEST_TOKEN: "t" },
    ),
    /Unable to get ACTIONS_ID_TOKEN_REQUEST_URL/,
  );
});

test("under local-action's stub ('Not implemented') the token is requested as the toolkit does, and masked", async () => {
  const seen: Array<{ url: string; auth: string | undefined }> = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? "", auth: req.headers.authorization });
    if (req.headers.authorization !== "Bearer run-secret") return void res.writeHead(401).end();
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ value: "eyJ.oidc.token" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token?api-version=2.0`;
  const stub = async (): Promise<string> => Promise.reject(new Error("Not implemented"));
  try {
    const core = fakeCore(stub);
    assert.equal(
      await idToken(core, "breakglass", {
        ACTIONS_ID_TOKEN_REQUEST_URL: base,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: "run-secret",
      }),
      "eyJ.oidc.token",
    );
    assert.deepEqual(seen.at(-1), {
      url: "/token?api-version=2.0&audience=breakglass",
      auth: "Bearer run-secret",
    });
    assert.deepEqual(core.masked, ["eyJ.oidc.token"]);
    await assert.rejects(
      idToken(fakeCore(stub), "breakglass", {
        ACTIONS_ID_TOKEN_REQUEST_URL: base,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: "wrong",
      }),
      /answered 401/,
    );
    await assert.rejects(idToken(fakeCore(stub), "breakglass", {}), /id-token: write/);
  } finally {
    server.close();
  }
});
