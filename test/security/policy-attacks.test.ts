/**
 * Attack catalogue, hostile policies and ownership: YAML alias bombs, unknown keys and wrong types
 * are refused with a message (never a crash, never a policy that silently means something else),
 * a setup where one pull request could change a policy and its CODEOWNERS without review is
 * flagged, and a broken policy in the repository refuses its requests while the others keep working.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, test } from "node:test";
import { validateRepository } from "../../src/cli/commands/validate.ts";
import { parsePolicy, type PolicyError } from "../../src/core/policy.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import { appTexts, assertNothingGranted, historyOf, labelsOf, openRequest, say } from "./attack-kit.ts";

const VALID = `description: Test resource
roles:
  read:
    provider: jwt
    description: read
    settings:
      audience: https://svc.example.com
      scopes: [read]
max_duration: 1h
default_duration: 30m
approvals:
  required: 1
  from: codeowners
  timeout: 30m
`;

const ALIAS_BOMB = `x0: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
x1: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
x2: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
x3: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
x4: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
x5: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
x6: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
x7: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
x8: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
${VALID.replace("scopes: [read]", "scopes: *i")}`;
const UNKNOWN_KEYS =
  VALID.replace("  required: 1\n", '  required: 1\n  requierd_approvers: ["@mallory"]\n') +
  "break_glass_allowed: true\n";
const WRONG_TYPES = VALID.replace("required: 1", 'required: "0"').replace(
  "max_duration: 1h",
  "max_duration: [1h]",
);

function refusedPolicy(text: string): PolicyError[] {
  const started = performance.now();
  const result = parsePolicy("policies/attack.yml", text);
  assert.ok(performance.now() - started < 2000, "refused promptly");
  assert.equal(result.ok, false, "the policy is refused");
  const errors = (result as { ok: false; error: PolicyError[] }).error;
  assert.ok(errors.length > 0);
  for (const e of errors) {
    assert.equal(e.file, "policies/attack.yml");
    assert.ok(e.message.length > 10, "every problem has a message");
  }
  return errors;
}

let sb: Sandbox;
before(async () => {
  sb = await startSandbox({
    files: {
      "policies/bomb.yml": ALIAS_BOMB,
      "policies/typo.yml": UNKNOWN_KEYS,
      "policies/loose.yml": WRONG_TYPES,
      ".github/CODEOWNERS": `${await readFile(".github/CODEOWNERS", "utf8")}\n/policies/bomb.yml @acme/security\n/policies/typo.yml @acme/security\n/policies/loose.yml @acme/security\n`,
    },
  });
});
after(() => sb.close());

test("A70 a YAML alias bomb in a policy is refused promptly with a message", () => {
  const errors = refusedPolicy(ALIAS_BOMB);
  const aliases = errors.filter((e) => /YAML aliases \(`\*[a-i]`\) are not allowed/.test(e.message));
  assert.ok(aliases.length >= 8, errors.map((e) => e.message).join("\n"));
  assert.ok(
    aliases.every((e) => e.line !== null && /write the value out in full/.test(e.message)),
    "each alias is located and the fix is named",
  );
  // Even one harmless alias is refused: a policy means exactly what it says, line by line.
  const single = refusedPolicy(`x: &a [read]\n${VALID.replace("scopes: [read]", "scopes: *a")}`);
  assert.ok(single.some((e) => /anchors \(`&a`\)/.test(e.message)));
  // A merge-key loop must not hang or crash either.
  refusedPolicy(`${VALID}base: &base { a: 1 }\nloop: &loop\n  <<: *base\n  self: *loop\n`);
});

test("A71 unknown keys in a policy (a typo that would silently drop a rule) are refused and named", () => {
  const errors = refusedPolicy(UNKNOWN_KEYS);
  const text = errors.map((e) => e.message).join("\n");
  assert.match(text, /requierd_approvers/);
  assert.match(text, /break_glass_allowed/);
  assert.ok(errors.every((e) => e.line === null || e.line > 0));
});

test("A72 wrong types in a policy are refused with the line to fix", () => {
  const errors = refusedPolicy(WRONG_TYPES);
  assert.ok(
    errors.some((e) => e.line !== null),
    "at least one problem points at a line",
  );
  assert.ok(
    errors.length >= 2,
    `both wrong types are reported at once: ${errors.map((e) => e.message).join(" | ")}`,
  );
  refusedPolicy("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[");
  refusedPolicy("!!js/function 'function(){ return process.exit(1) }'");
  refusedPolicy("\u0000\u0001binary");
});

test("A73 a setup where one PR could change a policy and its CODEOWNERS without review is flagged", () => {
  const policyFiles = [{ path: "policies/prod.yml", text: VALID }];
  // The attacker's branch: CODEOWNERS makes @mallory the owner of the policy and leaves itself and policies/ unowned.
  const problems = validateRepository({
    codeownersPath: ".github/CODEOWNERS",
    codeownersText: "/policies/prod.yml @mallory\n",
    policyFiles,
    issueFormText: null,
  });
  const messages = problems.map((p) => `${p.file}: ${p.message}`).join("\n");
  assert.match(
    messages,
    /does not cover itself/,
    "CODEOWNERS must own itself so changing approvers needs review",
  );
  assert.match(messages, /does not cover new files in policies\//);
  // No CODEOWNERS at all: nobody could approve.
  assert.match(
    validateRepository({ codeownersPath: null, codeownersText: null, policyFiles, issueFormText: null })
      .map((p) => p.message)
      .join("\n"),
    /nobody could approve/,
  );
  // A policy line with no owners (un-owns the file) is flagged.
  const unowned = validateRepository({
    codeownersPath: ".github/CODEOWNERS",
    codeownersText: "* @acme/security\n/policies/prod.yml\n",
    policyFiles,
    issueFormText: null,
  });
  assert.ok(unowned.some((p) => p.file === "policies/prod.yml" && /no CODEOWNER/.test(p.message)));
});

test("A74 ownership taken away in CODEOWNERS applies at once: the former owner's approval is refused", async () => {
  const original = sb.emulator.state.files![".github/CODEOWNERS"]!;
  sb.emulator.setFile(
    ".github/CODEOWNERS",
    original.replace(
      "/policies/model-*.yml               @acme/ai-governance",
      "/policies/model-*.yml               @acme/oncall",
    ),
  );
  try {
    const n = await openRequest(sb, "dave", {
      resource: "model-guardrail-override",
      role: "override",
      duration: "30m",
      severity: "critical",
    });
    await say(sb, "grace", n, "/approve");
    const refusal = (await appTexts(sb, n)).find((t) => t.includes("refused (`not_codeowner`)"));
    assert.ok(refusal, "grace no longer owns the policy");
    assert.match(refusal, /Only CODEOWNERS of the resource's policy file may approve/);
    const h = await assertNothingGranted(sb, n);
    assert.equal(h.state.approvals.length, 0);
  } finally {
    sb.emulator.setFile(".github/CODEOWNERS", original);
  }
});

test("A75 requests for broken policies in the repository are refused; valid policies keep working", async () => {
  for (const [who, resource] of [
    ["rita", "bomb"],
    ["erin", "typo"],
    ["ivan", "loose"],
  ] as const) {
    const n = await openRequest(sb, who, { resource, role: "read", duration: "30m", severity: "high" });
    assert.ok((await labelsOf(sb, n)).includes("breakglass:invalid"), `a request for ${resource} is invalid`);
    const fix = (await appTexts(sb, n)).find((t) => t.includes("cannot be considered yet"));
    assert.ok(fix, `the app explains why ${resource} cannot be requested`);
    assert.match(fix, /\*\*resource\*\*/);
    await say(sb, "sam", n, "/approve");
    const h = await assertNothingGranted(sb, n);
    assert.equal(h.state.approvals.length, 0);
  }
  const ok = await openRequest(sb, "olga", {
    resource: "model-rollback",
    role: "rollback",
    duration: "20m",
    severity: "high",
  });
  assert.equal((await historyOf(sb, ok)).state.status, "requested");
});
