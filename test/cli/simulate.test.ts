import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { parseScenario, simulate } from "../../src/cli/commands/simulate.ts";
import { UserError } from "../../src/cli/io.ts";

const scenario = (name: string) => parseScenario(readFileSync(`test/scenarios/${name}.yml`, "utf8"));

test("happy path: approved, granted through the Action, expired, revoked, closed, review opened", async () => {
  const r = await simulate(scenario("happy-path"), process.cwd(), "test/scenarios");
  assert.equal(r.state, "expired");
  assert.deepEqual(r.approvals, ["grace"]);
  assert.equal(r.grants.length, 1);
  assert.equal(r.grants[0]!.provider, "jwt");
  assert.equal(r.grants[0]!.revoked, true);
  assert.equal(r.issues_opened.length, 1);
  assert.ok(r.issues_opened[0]!.labels.includes("breakglass:audit"));
  assert.equal(r.audit.verified, true);
  assert.ok(r.audit.entries >= 6);
  assert.ok(
    r.comments.some((c) => c.author === "grace" && c.body.includes("-----BEGIN SSH SIGNATURE-----")),
    "grace's approval carries the signature",
  );
  assert.ok(
    r.comments.some(
      (c) =>
        c.author === "breakglass[bot]" &&
        /with an SSH signature \(signing key .*\) approved request/.test(c.body),
    ),
  );
});

test("a plain /approve where the policy requires step-up is refused (step_up_required) and nothing is granted", async () => {
  const r = await simulate(scenario("step-up-plain-approve"), process.cwd());
  assert.equal(r.state, "requested");
  assert.deepEqual(r.approvals, []);
  assert.deepEqual(r.grants, []);
  assert.ok(r.comments.some((c) => c.author === "breakglass[bot]" && c.body.includes("step_up_required")));
});

test("approve_signed with a key the scenario did not register as a signing key is refused (step_up_unknown_key)", async () => {
  const text = readFileSync("test/scenarios/happy-path.yml", "utf8").replace(/signing_keys:\n.*\n/, "");
  const r = await simulate(parseScenario(text), process.cwd(), "test/scenarios");
  assert.deepEqual(r.approvals, []);
  assert.ok(r.comments.some((c) => c.body.includes("step_up_unknown_key")));
});

test("self-approval is refused with its reason and nothing is granted", async () => {
  const r = await simulate(scenario("self-approval"), process.cwd());
  assert.equal(r.state, "requested");
  assert.deepEqual(r.approvals, []);
  assert.deepEqual(r.grants, []);
  assert.ok(r.comments.some((c) => c.author === "breakglass[bot]" && c.body.includes("self_approval")));
});

test("a non-owner's approval is refused", async () => {
  const r = await simulate(scenario("non-owner"), process.cwd());
  assert.equal(r.state, "requested");
  assert.deepEqual(r.grants, []);
  assert.ok(r.comments.some((c) => c.body.includes("not_codeowner")));
});

test("deny ends the request without a grant", async () => {
  const r = await simulate(scenario("deny"), process.cwd());
  assert.equal(r.state, "denied");
  assert.deepEqual(r.grants, []);
  assert.equal(r.audit.verified, true);
});

test("expiry revokes and closes", async () => {
  const r = await simulate(scenario("expiry"), process.cwd());
  assert.equal(r.state, "expired");
  assert.equal(r.grants[0]!.revoked, true);
});

test("an edit after the first of two approvals voids it", async () => {
  const r = await simulate(scenario("edit-after-approval"), process.cwd());
  assert.equal(r.state, "requested");
  assert.deepEqual(r.approvals, ["carol"]);
  assert.ok(r.comments.some((c) => c.body.includes("no longer count")));
});

test("invalid scenarios are refused with the step that is wrong", () => {
  assert.throws(() => parseScenario("steps: nope"), UserError);
  assert.throws(
    () => parseScenario("steps:\n  - comment: { author: bob }"),
    /step 1 \(comment\) needs `body`|first step/,
  );
  assert.throws(
    () => parseScenario("steps:\n  - open: { author: dave, form: {resource: x} }\n  - jump: {}"),
    /step 2 must be exactly one of/,
  );
  assert.throws(
    () => parseScenario("steps:\n  - open: { author: dave, body: x }\n  - advance: soon"),
    /advance/,
  );
  assert.throws(() => parseScenario(": : :"), /not valid YAML/);
  assert.throws(
    () => parseScenario("signing_keys: { grace: [nope] }\nsteps:\n  - open: { author: dave, body: x }"),
    /signing_keys.grace must be a list of SSH public key lines/,
  );
  assert.throws(
    () => parseScenario("steps:\n  - open: { author: dave, body: x }\n  - approve_signed: { key: k }"),
    /step 2 \(approve_signed\) needs `author`/,
  );
});

test("the CLI prints the result as JSON and exits 0; a bad file exits 2 with a message", () => {
  const ok = spawnSync(
    process.execPath,
    ["bin/breakglass.js", "simulate", "test/scenarios/self-approval.yml"],
    { encoding: "utf8" },
  );
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).state, "requested");
  const bad = spawnSync(process.execPath, ["bin/breakglass.js", "simulate", "package.json"], {
    encoding: "utf8",
  });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /breakglass simulate: /);
  assert.doesNotMatch(bad.stderr, /at .*\.ts:\d+/);
});
