import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, writeFile, mkdir, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../src/cli/commands/init.ts";
import type { CliIO } from "../../src/cli/io.ts";

const io = (cwd: string) => {
  const x = { out: "", err: "", stdout: (t: string) => void (x.out += t), stderr: (t: string) => void (x.err += t), readStdin: async () => "", cwd, env: {} };
  return x as CliIO & { out: string; err: string };
};

test("init on an empty directory scaffolds a setup that validates", async () => {
  const dir = await mkdtemp(join(tmpdir(), "bg-init-"));
  const out = io(dir);
  assert.equal(await run(["--provider", "postgres", "--owners", "@acme/dba"], out), 0, out.err);
  assert.deepEqual((await readdir(join(dir, "policies"))).sort(), ["drill.yml", "prod-database.yml"]);
  assert.deepEqual((await readdir(join(dir, ".github/workflows"))).sort(), ["breakglass-drill.yml", "breakglass-grant.yml", "breakglass-sweep.yml"]);
  const form = await readFile(join(dir, ".github/ISSUE_TEMPLATE/breakglass-request.yml"), "utf8");
  assert.match(form, /options:\n\s+- prod-database\n\s+- drill\n/);
  assert.doesNotMatch(form, /aws-production/);
  const codeowners = await readFile(join(dir, ".github/CODEOWNERS"), "utf8");
  assert.match(codeowners, /^\/policies\/ @acme\/dba$/m);
  assert.match(codeowners, /^\/\.github\/CODEOWNERS @acme\/dba$/m);
  assert.match(out.out, /breakglass validate: ready/);
});

test("init is idempotent and never overwrites without --force", async () => {
  const dir = await mkdtemp(join(tmpdir(), "bg-init-"));
  assert.equal(await run(["--provider", "jwt"], io(dir)), 0);
  const policy = join(dir, "policies/model-guardrail-override.yml");
  await writeFile(policy, (await readFile(policy, "utf8")).replace("max_duration: 2h", "max_duration: 1h"));
  const before = await readFile(join(dir, ".github/CODEOWNERS"), "utf8");
  const again = io(dir);
  assert.equal(await run(["--provider", "jwt"], again), 0);
  assert.match(await readFile(policy, "utf8"), /max_duration: 1h/, "the edited policy is kept");
  assert.equal(await readFile(join(dir, ".github/CODEOWNERS"), "utf8"), before, "CODEOWNERS unchanged");
  assert.match(again.out, /kept {2}policies\/model-guardrail-override\.yml/);
  assert.doesNotMatch(again.out, /wrote/);
  assert.equal(await run(["--provider", "jwt", "--force"], io(dir)), 0);
  assert.match(await readFile(policy, "utf8"), /max_duration: 2h/, "--force restores the template");
});

test("init keeps an existing CODEOWNERS file's rules and adds its block", async () => {
  const dir = await mkdtemp(join(tmpdir(), "bg-init-"));
  await mkdir(join(dir, ".github"), { recursive: true });
  await writeFile(join(dir, ".github/CODEOWNERS"), "*.js @acme/frontend\n/docs/ @acme/writers\n");
  assert.equal(await run(["--provider", "aws", "--owners", "@acme/platform"], io(dir)), 0);
  const codeowners = await readFile(join(dir, ".github/CODEOWNERS"), "utf8");
  assert.ok(codeowners.startsWith("*.js @acme/frontend\n/docs/ @acme/writers\n"));
  assert.match(codeowners, /^\/policies\/aws-production\.yml @acme\/platform$/m);
});

test("bad flags are user errors", async () => {
  const dir = await mkdtemp(join(tmpdir(), "bg-init-"));
  await assert.rejects(run(["--provider", "oracle"], io(dir)), /unknown provider "oracle"/);
  await assert.rejects(run(["--owners", "acme"], io(dir)), /--owners must be/);
});
