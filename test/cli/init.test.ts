import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, writeFile, mkdir, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../src/cli/commands/init.ts";
import { run as validate } from "../../src/cli/commands/validate.ts";
import type { CliIO } from "../../src/cli/io.ts";

const io = (cwd: string) => {
  const x = {
    out: "",
    err: "",
    stdout: (t: string) => void (x.out += t),
    stderr: (t: string) => void (x.err += t),
    readStdin: async () => "",
    cwd,
    env: {},
  };
  return x as CliIO & { out: string; err: string };
};

const READY = ["--owners", "@acme/security", "--action", "acme/breakglass@v1"];

test("init on an empty directory scaffolds a setup that validates", async () => {
  const dir = await mkdtemp(join(tmpdir(), "bg-init-"));
  const out = io(dir);
  assert.equal(
    await run(["--provider", "postgres", "--owners", "@acme/dba", "--action", "acme/breakglass@v1"], out),
    0,
    out.err,
  );
  assert.deepEqual((await readdir(join(dir, "policies"))).sort(), ["drill.yml", "prod-database.yml"]);
  assert.deepEqual((await readdir(join(dir, ".github/workflows"))).sort(), [
    "breakglass-drill.yml",
    "breakglass-grant.yml",
    "breakglass-sweep.yml",
  ]);
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
  assert.equal(await run(["--provider", "jwt", ...READY], io(dir)), 0);
  const policy = join(dir, "policies/model-guardrail-override.yml");
  await writeFile(policy, (await readFile(policy, "utf8")).replace("max_duration: 2h", "max_duration: 1h"));
  const before = await readFile(join(dir, ".github/CODEOWNERS"), "utf8");
  const again = io(dir);
  assert.equal(await run(["--provider", "jwt", ...READY], again), 0);
  assert.match(await readFile(policy, "utf8"), /max_duration: 1h/, "the edited policy is kept");
  assert.equal(await readFile(join(dir, ".github/CODEOWNERS"), "utf8"), before, "CODEOWNERS unchanged");
  assert.match(again.out, /kept {2}policies\/model-guardrail-override\.yml/);
  assert.doesNotMatch(again.out, /wrote/);
  assert.equal(await run(["--provider", "jwt", "--force", ...READY], io(dir)), 0);
  assert.match(await readFile(policy, "utf8"), /max_duration: 2h/, "--force restores the template");
});

test("init keeps an existing CODEOWNERS file's rules and adds its block", async () => {
  const dir = await mkdtemp(join(tmpdir(), "bg-init-"));
  await mkdir(join(dir, ".github"), { recursive: true });
  await writeFile(join(dir, ".github/CODEOWNERS"), "*.js @acme/frontend\n/docs/ @acme/writers\n");
  assert.equal(
    await run(["--provider", "aws", "--owners", "@acme/platform", "--action", "acme/breakglass@v1"], io(dir)),
    0,
  );
  const codeowners = await readFile(join(dir, ".github/CODEOWNERS"), "utf8");
  assert.ok(codeowners.startsWith("*.js @acme/frontend\n/docs/ @acme/writers\n"));
  assert.match(codeowners, /^\/policies\/aws-production\.yml @acme\/platform$/m);
});

test("bad flags are user errors", async () => {
  const dir = await mkdtemp(join(tmpdir(), "bg-init-"));
  await assert.rejects(run(["--provider", "oracle"], io(dir)), /unknown provider "oracle"/);
  await assert.rejects(run(["--owners", "acme"], io(dir)), /--owners must be/);
});

test("init without --owners/--action leaves placeholders, and validate refuses them; next steps list what only GitHub can do", async () => {
  const dir = await mkdtemp(join(tmpdir(), "bg-init-"));
  const out = io(dir);
  assert.equal(await run(["--provider", "postgres"], out), 1);
  assert.match(out.err, /CODEOWNERS:\d+: still has the placeholder `@your-org\/`/);
  assert.match(out.err, /breakglass-grant\.yml:\d+: still has the placeholder `your-org\/breakglass@`/);
  assert.match(out.out, /Create the environment `breakglass-prod-database`/);
  assert.match(out.out, /BREAKGLASS_APP_URL/);
  assert.match(out.out, /make the Breakglass PR check required/);
});

test("the scaffold's grant workflow reaches every policy environment; CODEOWNERS covers the workflows and the recipients file", async () => {
  const dir = await mkdtemp(join(tmpdir(), "bg-init-"));
  assert.equal(await run(["--provider", "postgres", "--provider", "aws", ...READY], io(dir)), 0);
  const workflow = await readFile(join(dir, ".github/workflows/breakglass-grant.yml"), "utf8");
  assert.match(workflow, /^ {4}environment:\n {6}name: \$\{\{ inputs\.environment \}\}$/m);
  const codeowners = await readFile(join(dir, ".github/CODEOWNERS"), "utf8");
  assert.match(codeowners, /^\/\.github\/workflows\/breakglass-\*\.yml @acme\/security$/m);
  assert.match(codeowners, /^\/\.github\/breakglass-recipients\.yml @acme\/security$/m);
  // The finding: the workflow with its environment line commented out cannot grant a policy that names one.
  await writeFile(
    join(dir, ".github/workflows/breakglass-grant.yml"),
    workflow.replace(
      "    environment:\n      name: ${{ inputs.environment }}\n",
      "    # environment: breakglass-prod-database\n",
    ),
  );
  await writeFile(join(dir, ".github/CODEOWNERS"), codeowners.replace(/^\/\.github\/workflows.*\n/m, ""));
  const out = io(dir);
  assert.equal(await validate(["--root", dir], out), 1);
  assert.match(
    out.err,
    /policies\/prod-database\.yml: requires `environment: breakglass-prod-database`, which .* never runs in/,
  );
  assert.match(out.err, /policies\/aws-production\.yml: requires `environment: breakglass-aws-production`/);
  assert.match(out.err, /does not cover \.github\/workflows\/breakglass-grant\.yml/);
});
