import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { build } from "esbuild";
import { ACTION_BUILD } from "../../scripts/build-action.mjs";
import { bundledPackageDirs, readPackages, renderNotices } from "../../scripts/third-party-notices.mjs";

test("dist/licenses.txt names every node_modules package esbuild bundles into dist/, with its licence text", async () => {
  const { metafile } = await build({ ...ACTION_BUILD, write: false, metafile: true, logLevel: "silent" });
  const dirs = bundledPackageDirs(metafile);
  assert.ok(dirs.length > 5, "the Action bundles its dependencies");
  const notices = readFileSync("dist/licenses.txt", "utf8");
  const packages = readPackages(process.cwd(), dirs);
  for (const p of packages) {
    assert.ok(
      notices.includes(`\n${p.name}@${p.version} — ${p.license}\n`),
      `dist/licenses.txt lacks ${p.name}@${p.version}: run npm run build`,
    );
    assert.ok(p.text.length > 0, `${p.name} ships no licence file: its notice must be added by hand`);
    assert.ok(notices.includes(p.text), `${p.name}'s licence text is in the notices`);
  }
  assert.equal(
    notices,
    renderNotices(packages),
    "dist/licenses.txt is stale: run npm run build and commit dist/",
  );
  for (const name of ["@actions/core", "@octokit/request", "jose"])
    assert.ok(
      packages.some((p) => p.name === name),
      `${name} is bundled`,
    );
});

test("bundledPackageDirs: scoped and nested packages, project files left out", () => {
  const metafile = {
    inputs: {
      "src/action/main.ts": {},
      "node_modules/@actions/core/lib/core.js": {},
      "node_modules/@actions/core/lib/utils.js": {},
      "node_modules/undici/index.js": {},
      "node_modules/@actions/http-client/node_modules/undici/lib/x.js": {},
    },
  };
  assert.deepEqual(bundledPackageDirs(metafile), [
    "node_modules/@actions/core",
    "node_modules/@actions/http-client/node_modules/undici",
    "node_modules/undici",
  ]);
});

test("renderNotices says so when a package ships no licence file", () => {
  const text = renderNotices([{ name: "x", version: "1.0.0", license: "MIT", text: "" }]);
  assert.match(
    text,
    /x@1\.0\.0 — MIT\n\nThis package ships no licence file; its package\.json declares the licence "MIT"\./,
  );
});
