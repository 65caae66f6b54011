import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readRepoFiles } from "../../src/cli/repo-files.ts";
import { validateRepository } from "../../src/cli/commands/validate.ts";

const files = await readRepoFiles(process.cwd());

test("the repository's own setup validates (policies, CODEOWNERS, form)", () => {
  assert.deepEqual(validateRepository(files), []);
  const cli = spawnSync(process.execPath, ["bin/breakglass.js", "validate"], { encoding: "utf8" });
  assert.equal(cli.status, 0, cli.stderr);
});

test("a policy without a CODEOWNER, CODEOWNERS not covering policies/ or itself, each reported", () => {
  const problems = validateRepository({ ...files, codeownersText: "/policies/drill.yml @acme/sre\n" });
  const text = problems.map((p) => `${p.file}: ${p.message}`).join("\n");
  assert.match(text, /policies\/prod-database\.yml: has no CODEOWNER/);
  assert.match(text, /does not cover new files in policies\//);
  assert.match(text, /does not cover itself/);
  assert.doesNotMatch(text, /policies\/drill\.yml: has no CODEOWNER/);
});

test("invalid CODEOWNERS lines are reported with their line numbers", () => {
  const problems = validateRepository({
    ...files,
    codeownersText: `${files.codeownersText}\n!/policies/x.yml @a\n/policies/[ab].yml @b\n`,
  });
  assert.ok(problems.some((p) => p.line !== null && /negation/.test(p.message)));
  assert.ok(problems.some((p) => /character ranges/.test(p.message)));
});

test("the form must offer exactly the policies", () => {
  const form = files
    .issueFormText!.replace("        - drill\n", "        - drill\n        - staging-db\n")
    .replace("        - github-admin\n", "");
  const text = validateRepository({ ...files, issueFormText: form })
    .map((p) => p.message)
    .join("\n");
  assert.match(text, /lacks "github-admin"/);
  assert.match(text, /offers "staging-db", which has no policy file/);
});

test("a broken policy fails validation with file and line; missing pieces are named", () => {
  const broken = files.policyFiles.map((f) =>
    f.path.endsWith("drill.yml") ? { ...f, text: f.text.replace("max_duration:", "max_duraton:") } : f,
  );
  const problems = validateRepository({ ...files, policyFiles: broken });
  assert.ok(
    problems.some((p) => p.file === "policies/drill.yml" && p.line !== null && /max_duraton/.test(p.message)),
  );
  const empty = validateRepository({
    codeownersPath: null,
    codeownersText: null,
    policyFiles: [],
    issueFormText: null,
  });
  assert.equal(empty.length, 3);
});

test("step-up that cannot work as written: break-glass with passkeys only, hardware passkeys with no AAGUID list", () => {
  const withRollback = (text: string) =>
    validateRepository({
      ...files,
      policyFiles: files.policyFiles.map((f) =>
        f.path === "policies/model-rollback.yml" ? { ...f, text } : f,
      ),
    })
      .filter((p) => p.file === "policies/model-rollback.yml")
      .map((p) => p.message);
  const rollback = files.policyFiles.find((f) => f.path === "policies/model-rollback.yml")!.text;
  const passkeyOnly = withRollback(
    rollback.replace(
      "  timeout: 15m\n",
      "  timeout: 15m\n  step_up: webauthn\n  require_hardware_key: true\n",
    ),
  );
  assert.equal(passkeyOnly.length, 2, passkeyOnly.join("\n"));
  assert.match(passkeyOnly[0]!, /allows break-glass with `webauthn` as the only step-up/);
  assert.match(passkeyOnly[1]!, /lists no `approvals.hardware_aaguids`/);
  const listed = withRollback(
    rollback.replace(
      "  timeout: 15m\n",
      "  timeout: 15m\n  step_up: [webauthn, ssh-signature]\n  require_hardware_key: true\n  hardware_aaguids: [cb69481e-8ff7-4039-93ec-0a2729a154a8]\n",
    ),
  );
  assert.deepEqual(listed, []);
});
