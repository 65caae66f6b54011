#!/usr/bin/env node
// Runs every test/**/*.test.ts file with Node's own test runner (TypeScript through tsx).
// Node 20's `--test` does not expand globs, so the files are listed here.
// Usage: npm test [-- <path filter>...]   e.g. npm test -- test/core
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...walk(full));
    else if (name.endsWith(".test.ts")) out.push(relative(process.cwd(), full));
  }
  return out;
}

const filters = process.argv.slice(2);
const files = walk("test")
  .filter((f) => filters.length === 0 || filters.some((flt) => f.startsWith(flt) || f.includes(flt)))
  .sort();
if (files.length === 0) {
  console.error(`No test files match ${filters.join(" ")}`);
  process.exit(1);
}
const nodeArgs = ["--import", "tsx", "--test", "--test-concurrency=2", ...files];
// Coverage through c8 (V8 coverage + tsx source maps), limited to src/. Node 20's own
// --experimental-test-coverage cannot be limited to a folder.
const withCoverage = !process.env.BREAKGLASS_NO_COVERAGE;
const command = withCoverage ? join("node_modules", "c8", "bin", "c8.js") : null;
const argv = withCoverage
  ? [
      command,
      "--include=src/**",
      "--reporter=text-summary",
      "--reporter=json-summary",
      "--report-dir=coverage",
      process.execPath,
      ...nodeArgs,
    ]
  : nodeArgs;
const result = spawnSync(process.execPath, argv, { stdio: "inherit" });
process.exit(result.status ?? 1);
