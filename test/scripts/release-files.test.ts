import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { parse } from "yaml";

const read = (path: string) => readFileSync(path, "utf8");
const manifest = JSON.parse(read("package.json")) as {
  license: string;
  version: string;
  engines: { node: string };
};

test("LICENSE is the MIT licence package.json declares, for the Breakglass contributors", () => {
  assert.equal(manifest.license, "MIT");
  const text = read("LICENSE");
  assert.match(text, /^MIT License\n\nCopyright \(c\) \d{4} Breakglass contributors\n/);
  assert.match(text, /THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND/);
});

test("SECURITY.md: private reporting through GitHub, supported versions, and what is trusted (pointing at the threat model)", () => {
  const text = read("SECURITY.md");
  assert.match(text, /private vulnerability reporting/);
  assert.match(text, /Report a\s+vulnerability/);
  assert.match(text, /## Supported versions/);
  assert.match(text, /\*\*Trusted:\*\*[\s\S]*\*\*Not trusted:\*\*/);
  for (const link of text.match(/\]\((docs\/[^)]+)\)/g) ?? [])
    assert.ok(existsSync(link.slice(2, -1)), `${link} exists`);
  assert.match(text, /\(docs\/threat-model\.md\)/);
});

test("CHANGELOG.md follows Keep a Changelog: an Unreleased section first, every release heading dated", () => {
  const text = read("CHANGELOG.md");
  assert.match(text, /\[Keep a Changelog\]\(https:\/\/keepachangelog\.com\/en\/1\.1\.0\/\)/);
  const headings = text.match(/^## .*$/gm) ?? [];
  assert.equal(headings[0], "## [Unreleased]");
  for (const h of headings.slice(1)) assert.match(h, /^## \[\d+\.\d+\.\d+\] - \d{4}-\d{2}-\d{2}$/);
  for (const h of text.match(/^### .*$/gm) ?? [])
    assert.match(h, /^### (Added|Changed|Deprecated|Removed|Fixed|Security)$/);
});

test("the release workflow: tag push or dispatch with a version, least privilege, every CI check before it tags and releases", () => {
  const wf = parse(read(".github/workflows/release.yml")) as {
    on: { push: { tags: string[] }; workflow_dispatch: { inputs: { version: { required: boolean } } } };
    permissions: Record<string, string>;
    jobs: Record<
      string,
      {
        permissions: Record<string, string>;
        steps: Array<{ run?: string; uses?: string; env?: Record<string, string> }>;
      }
    >;
  };
  assert.deepEqual(wf.on.push.tags, ["v[0-9]+.[0-9]+.[0-9]+"]);
  assert.equal(wf.on.workflow_dispatch.inputs.version.required, true);
  assert.deepEqual(wf.permissions, {}, "nothing by default");
  const jobs = Object.values(wf.jobs);
  assert.equal(jobs.length, 1);
  assert.deepEqual(jobs[0]!.permissions, { contents: "write" });
  const runs = jobs[0]!.steps.map((s) => s.run ?? "").join("\n");
  const order = [
    "npm ci",
    "npm run typecheck",
    "npm run lint",
    "npm run build",
    "git diff --exit-code --stat -- dist/",
    "npm test",
    'git tag -a "v$VERSION"',
    'git tag -f "$MAJOR"',
    "gh release create",
  ];
  let at = -1;
  for (const step of order) {
    const i = runs.indexOf(step);
    assert.ok(i > at, `${step} comes after the step before it`);
    at = i;
  }
  assert.ok(
    !read(".github/workflows/release.yml").includes("${{ inputs.version }}\n          if"),
    "the input reaches the shell through env, not by interpolation",
  );
  assert.match(runs, /package\.json says \$manifest/);
});

test("Node versions: 24 or 22 recommended in the README and the Dockerfile; 20.18+ still allowed", () => {
  assert.equal(manifest.engines.node, ">=20.18");
  assert.match(read("Dockerfile"), /^FROM node:(24|22)-slim$/m);
  assert.match(read("README.md"), /Node 24 or 22/);
  const contributing = read("CONTRIBUTING.md");
  assert.match(contributing, /## Node versions[\s\S]*EBADENGINE[\s\S]*content-type/);
  assert.match(contributing, /## Release[\s\S]*Marketplace[\s\S]*no workflow files[\s\S]*### The app image/);
});
