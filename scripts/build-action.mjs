#!/usr/bin/env node
// Bundles the Action (src/action) into dist/ with esbuild. dist/ is committed: runners execute it as is.
// The output is deterministic so CI can check that the committed bundle matches the source.
// dist/licenses.txt lists every third-party package the bundle holds, with its licence.
import { writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { bundledPackageDirs, readPackages, renderNotices } from "./third-party-notices.mjs";

export const ACTION_BUILD = {
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  legalComments: "none",
  logLevel: "warning",
  // Some CommonJS dependencies call require() for Node built-ins; give the ESM bundle a require.
  banner: {
    js: "import { createRequire as __bgCreateRequire } from 'node:module'; const require = __bgCreateRequire(import.meta.url);",
  },
  entryPoints: { index: "src/action/index.ts", post: "src/action/post-index.ts" },
  outdir: "dist",
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { metafile } = await build({ ...ACTION_BUILD, metafile: true });
  const packages = readPackages(process.cwd(), bundledPackageDirs(metafile));
  writeFileSync("dist/licenses.txt", renderNotices(packages));
  console.log(
    `built dist/index.js and dist/post.js; dist/licenses.txt names ${packages.length} bundled packages`,
  );
}
