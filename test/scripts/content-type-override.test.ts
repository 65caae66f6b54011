/**
 * package.json overrides content-type to 2.1.0 (see its "//" note): @octokit/request asks for ^3,
 * whose releases declare node >=22 and make `npm ci` warn EBADENGINE on Node 20. This checks the
 * override is in force and that Octokit reads GitHub's responses through it as it does with 3.x.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { AddressInfo } from "node:net";
import { request } from "@octokit/request";

const require = createRequire(import.meta.url);

test("the installed content-type is the override, and declares no engine this project's Node range excludes", () => {
  const pkg = JSON.parse(readFileSync("package.json", "utf8")) as {
    overrides: Record<string, string>;
    engines: { node: string };
  };
  // The copy @octokit/request resolves (its exports map hides package.json, so from its entry point).
  const entry = require.resolve("content-type", { paths: [dirname(require.resolve("@octokit/request"))] });
  const installed = JSON.parse(readFileSync(join(entry, "..", "..", "package.json"), "utf8")) as {
    name: string;
    version: string;
    engines: { node: string };
  };
  assert.equal(installed.name, "content-type");
  assert.equal(installed.version, pkg.overrides["content-type"]);
  assert.equal(pkg.engines.node, ">=20.18");
  assert.match(
    installed.engines.node,
    /^>=(1[0-9]|20)(\.|$)/,
    `content-type ${installed.version} must accept Node 20 (engines ${installed.engines.node})`,
  );
});

test("Octokit's request reads JSON, text and binary bodies by their content type through the overridden parser", async () => {
  const bodies: Record<string, [string, string]> = {
    "/json": ["application/json; charset=utf-8", '{"login":"octocat"}'],
    "/scim": ["application/scim+json", '{"id":"1"}'],
    "/text": ["text/plain; charset=utf-8", "plain words"],
    "/upper": ['TEXT/HTML; Charset="UTF-8"', "<p>x</p>"],
    "/octet": ["application/octet-stream; charset=utf-8", "\u0000\u0001"],
  };
  const server = createServer((req, res) => {
    const [type, body] = bodies[req.url ?? ""] ?? ["text/plain", "none"];
    res.writeHead(200, { "content-type": type }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    assert.deepEqual((await request("GET /json", { baseUrl })).data, { login: "octocat" });
    assert.deepEqual((await request("GET /scim", { baseUrl })).data, { id: "1" });
    assert.equal((await request("GET /text", { baseUrl })).data, "plain words");
    assert.equal((await request("GET /upper", { baseUrl })).data, "<p>x</p>");
    const octet = (await request("GET /octet", { baseUrl })).data;
    assert.ok(octet instanceof ArrayBuffer, "application/octet-stream stays binary even with a charset");
  } finally {
    server.close();
  }
});
