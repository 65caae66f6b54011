import assert from "node:assert/strict";
import { test } from "node:test";
import { castDemo } from "../../src/cli/demo-cast.ts";
import { repositoryFilesFrom } from "../../src/sandbox/start-sandbox.ts";

const jwtPolicy = (required: number) => `description: Feature flags
roles:
  toggle:
    provider: jwt
    description: Flip a flag
    settings: { audience: https://flags.example, scopes: [flags:write] }
max_duration: 1h
default_duration: 20m
approvals: { required: ${required}, from: codeowners, timeout: 30m }
audit_checklist: [Confirm the incident]
`;

test("this repository's demo requests a second resource its approvers own, for a request naming several", async () => {
  const cast = castDemo(await repositoryFilesFrom(process.cwd()));
  assert.equal(cast.resource, "model-guardrail-override");
  assert.deepEqual(cast.second, { resource: "model-rollback", role: "rollback", durationSeconds: 30 * 60 });
});

test("no second resource when the other JWT policy's owners are not the cast's approvers, or need more of them", () => {
  const files = {
    "policies/flags.yml": jwtPolicy(1),
    "policies/other-flags.yml": jwtPolicy(1),
    "policies/more-flags.yml": jwtPolicy(2),
    ".github/CODEOWNERS":
      "/policies/flags.yml @globex/leads\n/policies/other-flags.yml @globex/others\n/policies/more-flags.yml @globex/leads\n",
  };
  const cast = castDemo(files);
  assert.equal(cast.resource, "flags");
  assert.equal(cast.second, null, "other-flags belongs to another team; more-flags needs two of one");
  const shared = castDemo({ ...files, ".github/CODEOWNERS": "/policies/*.yml @globex/leads\n" });
  assert.equal(shared.resource, "flags");
  assert.deepEqual(shared.second, { resource: "other-flags", role: "toggle", durationSeconds: 20 * 60 });
});
