#!/usr/bin/env node
// Bundles the Action (src/action) into dist/ with esbuild. dist/ is committed: runners execute it as is.
// The output is deterministic so CI can check that the committed bundle matches the source.
import { build } from "esbuild";

const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  legalComments: "none",
  logLevel: "warning",
  // Some CommonJS dependencies call require() for Node built-ins; give the ESM bundle a require.
  banner: { js: "import { createRequire as __bgCreateRequire } from 'node:module'; const require = __bgCreateRequire(import.meta.url);" },
};

await build({ ...common, entryPoints: { index: "src/action/main.ts", post: "src/action/post.ts" }, outdir: "dist" });
console.log("built dist/index.js and dist/post.js");
