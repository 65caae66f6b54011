/**
 * `breakglass demo --root DIR` plays the story on DIR's own files: its policy, its CODEOWNERS teams
 * (in its organisation) and its form — not on this repository's acme teams.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "node:test";
import { withResourceOptions } from "../../src/cli/commands/init.ts";
import { main } from "../../src/cli/main.ts";
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

const POLICY = `description: Feature flags of the checkout service
roles:
  toggle:
    provider: jwt
    description: Flip a production feature flag
    settings:
      audience: https://flags.globex.example
      scopes: [flags:write]
max_duration: 1h
default_duration: 20m
approvals:
  required: 2
  from: codeowners
  timeout: 30m
break_glass:
  allowed: false
audit_checklist:
  - Confirm the incident and link it
`;

async function repository(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "bg-demo-"));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, ".."), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

it("plays the story on another organisation's policy, CODEOWNERS team and form: two of its team approve, the JWT is granted and expires", async () => {
  const form = withResourceOptions(await readFile(".github/ISSUE_TEMPLATE/breakglass-request.yml", "utf8"), [
    "checkout-flags",
  ]);
  const dir = await repository({
    "policies/checkout-flags.yml": POLICY,
    ".github/CODEOWNERS": "*  @globex/everyone\n/policies/checkout-flags.yml  @globex/checkout-leads\n",
    ".github/ISSUE_TEMPLATE/breakglass-request.yml": form,
  });
  const out = io(dir);
  const code = await main(["demo", "--root", dir], out);
  assert.equal(code, 0, out.out + out.err);
  assert.match(
    out.out,
    /toggle on checkout-flags \(policies\/checkout-flags\.yml\), approvers checkout-leads-1, checkout-leads-2/,
  );
  assert.match(out.out, /Sandbox GitHub at http:\/\/127\.0\.0\.1:\d+/);
  assert.match(out.out, /opened #1: toggle on checkout-flags for 20m/);
  assert.match(out.out, /refused \(`self_approval`\)/);
  assert.match(out.out, /mallory .*\n.*refused \(`not_codeowner`\)/);
  assert.match(
    out.out,
    /checkout-leads-1 \(via @globex\/checkout-leads\) approved request `[0-9a-f]+` — 1 of 2/,
  );
  assert.match(
    out.out,
    /checkout-leads-2 \(via @globex\/checkout-leads\) approved request `[0-9a-f]+` — 2 of 2/,
  );
  assert.match(out.out, /verifies the break-glass JWT: ACTIVE/);
  assert.match(out.out, /inactive — revoked/);
  assert.match(out.out, /#1 is closed/);
  assert.match(out.out, /audit chain of #1: \d+ signed, hash-chained entries — verified/);
  assert.match(
    out.out,
    /\.github\/workflows\/breakglass-grant\.yml.* not in .*: this project's copies are used/,
  );
  assert.match(out.out, /✅ Demo passed/);
  assert.doesNotMatch(out.out, /acme\//, "nothing of this repository's organisation");
});

it("a repository with no JWT role is told what to add, before any sandbox starts", async () => {
  const dir = await repository({
    "policies/prod-database.yml": await readFile("policies/prod-database.yml", "utf8"),
    ".github/CODEOWNERS": "* @x\n",
  });
  const out = io(dir);
  const code = await main(["demo", "--root", dir], out);
  assert.equal(code, 1);
  assert.match(
    out.err,
    /no policy in policies\/ has a `provider: jwt` role.*breakglass init --provider jwt.*found: prod-database/,
  );
});
