import assert from "node:assert/strict";
import { it } from "node:test";
import { compileCodeowners } from "../../src/core/codeowners.ts";
import {
  diffAccess,
  effectiveAccess,
  renderAccessDiff,
  teamsToExpand,
} from "../../src/core/effective-access.ts";
import { loadPolicies } from "../../src/core/policy.ts";

const policy = (extra = "") =>
  `description: db\nroles:\n  read:\n    provider: jwt\n    settings: { audience: https://db.example.com }\nmax_duration: 4h\n${extra}`;
const codeowners = compileCodeowners("/policies/db.yml @acme/dba @zoe\n");
const teams = new Map([
  ["@acme/dba", ["bob", "carol"]],
  ["@acme/oncall", ["olga"]],
]);

it("expands CODEOWNERS teams into people and lists the teams it needs", () => {
  const { policies } = loadPolicies([
    { path: "policies/db.yml", text: policy("requesters:\n  teams: ['@acme/oncall']\n") },
  ]);
  assert.deepEqual(teamsToExpand(policies, codeowners), ["@acme/dba", "@acme/oncall"]);
  const db = effectiveAccess({ policies, codeowners, teamMembers: teams }).get("db")!;
  assert.deepEqual(db.approvers, ["bob (via @acme/dba)", "carol (via @acme/dba)", "zoe (CODEOWNERS)"]);
  assert.equal(db.requesters, "write access or more, and a member of @acme/oncall (olga)");
  assert.deepEqual(
    [db.maxDuration, db.defaultDuration, db.breakGlass, db.stepUp],
    ["4h", "1h", "not allowed", "none"],
  );
});

it("a CODEOWNERS team without write access of its own approves nothing, as on GitHub", () => {
  const { policies } = loadPolicies([{ path: "policies/db.yml", text: policy() }]);
  const db = effectiveAccess({
    policies,
    codeowners,
    teamMembers: teams,
    teamsWithoutWrite: new Set(["@acme/dba"]),
  }).get("db")!;
  assert.deepEqual(db.approvers, ["zoe (CODEOWNERS)"]);
});

it("the diff names each changed field before and after, and added or removed resources", () => {
  const before = effectiveAccess({
    policies: loadPolicies([{ path: "policies/db.yml", text: policy() }]).policies,
    codeowners,
    teamMembers: teams,
  });
  const after = effectiveAccess({
    policies: loadPolicies([
      {
        path: "policies/db.yml",
        text: policy("break_glass:\n  allowed: true\nauto_approve:\n  - name: low\n    severities: [low]\n"),
      },
      { path: "policies/new.yml", text: policy() },
    ]).policies,
    codeowners,
    teamMembers: teams,
  });
  const changes = diffAccess(before, after);
  assert.deepEqual(
    changes.map((c) => [c.resource, c.kind]),
    [
      ["db", "changed"],
      ["new", "added"],
    ],
  );
  assert.deepEqual(
    changes[0]!.fields.map(([label]) => label),
    ["Auto-approval rules", "Break-glass"],
  );
  const text = renderAccessDiff(before, after);
  assert.match(text, /`\+ low: any role; severity low`/);
  assert.match(
    text,
    /\| Who may approve \| — \| nobody \/ none \|/,
    "a new policy without CODEOWNERS has no approvers, said plainly",
  );
  assert.equal(renderAccessDiff(before, before).startsWith("No change"), true);
});
