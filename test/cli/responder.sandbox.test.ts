/**
 * The responder's round trip against the sandbox: `breakglass request` opens the issue with the
 * form's body, an approver approves, `breakglass credentials` waits for the grant, downloads the
 * run's artifact through the API (302 to a signed URL, as GitHub does), decrypts it with the local
 * age identity and prints exports or writes a 0600 env file; `breakglass done` revokes. Bad input
 * gets one clear line and exit 1.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { generateIdentity, identityToRecipient } from "age-encryption";
import { main } from "../../src/cli/main.ts";
import type { CliIO } from "../../src/cli/io.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import { sandboxHelpers } from "../support/sandbox-helpers.ts";

const RESOURCE = "model-guardrail-override";
const policy = readFileSync(`policies/${RESOURCE}.yml`, "utf8").replace(
  "    provider: jwt\n",
  "    provider: jwt\n    delivery: age\n",
);

const withoutStepUp = (text: string, what: string) =>
  text
    .replace(/^description: .*$/m, `description: Override of the ${what} model guardrail`)
    .replace(/^[ \t]*step_up:.*\n/m, "");

let sb: Sandbox;
let dir = "";
let identityFile = "";
let otherIdentityFile = "";
const h = sandboxHelpers(() => sb);

function io(who: string, extra: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const value: CliIO = {
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    readStdin: async () => "",
    cwd: dir,
    env: {
      GITHUB_TOKEN: sb.emulator.userToken(who),
      GITHUB_API_URL: sb.emulator.apiUrl,
      BREAKGLASS_APP_LOGIN: sb.appLogin,
      HOME: dir,
      ...extra,
    },
  };
  return { io: value, out, err };
}
const cli = async (who: string, args: string[], extra: Record<string, string> = {}) => {
  const c = io(who, extra);
  const code = await main(args, c.io);
  return { code, out: c.out.join(""), err: c.err.join("") };
};

describe("responder CLI round trip", () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "breakglass-responder-"));
    const identity = await generateIdentity();
    identityFile = join(dir, "breakglass.key");
    await writeFile(
      identityFile,
      `# created: test\n# public key: ${await identityToRecipient(identity)}\n${identity}\n`,
      { mode: 0o600 },
    );
    otherIdentityFile = join(dir, "other.key");
    await writeFile(otherIdentityFile, `${await generateIdentity()}\n`, { mode: 0o600 });
    sb = await startSandbox({
      files: {
        [`policies/${RESOURCE}.yml`]: policy,
        // Two more resources, without step-up, for a request naming several.
        "policies/model-guardrail-staging.yml": withoutStepUp(policy, "staging"),
        "policies/model-guardrail-canary.yml": withoutStepUp(policy, "canary"),
        ".github/ISSUE_TEMPLATE/breakglass-request.yml": readFileSync(
          ".github/ISSUE_TEMPLATE/breakglass-request.yml",
          "utf8",
        ).replace(
          "        - model-rollback\n",
          "        - model-rollback\n        - model-guardrail-staging\n",
        ),
        ".github/breakglass-recipients.yml": `erin: ${await identityToRecipient(identity)}\n`,
      },
    });
  });
  after(() => sb?.close());

  it("request opens the form's body; credentials waits, downloads, decrypts and exports; done revokes", async () => {
    const opened = await cli("erin", [
      "request",
      "--repo",
      "acme/ops",
      "--resource",
      RESOURCE,
      "--role",
      "override",
      "--duration",
      "30m",
      "--severity",
      "critical",
      "--reason",
      "Guardrail blocks every checkout since the 14:02 deploy; override while we roll back.",
    ]);
    assert.equal(opened.code, 0, opened.err);
    const ref = opened.out.trim();
    const n = Number(ref.split("#")[1]);
    assert.match(ref, /^acme\/ops#\d+$/);
    await sb.settle();
    const issue = await h.issueOf(n);
    assert.equal(issue.title, `[breakglass] ${RESOURCE} override`);
    assert.match(
      issue.body ?? "",
      /^### Resource\n\nmodel-guardrail-override\n\n### Role\n\noverride\n\n### Duration\n\n30m\n\n### More resources\n\n_No response_\n\n### Severity\n\ncritical\n\n### Justification\n\nGuardrail blocks .*\n\n### Incident\n\n_No response_\n\n### Drill\n\n- \[ \] This is a drill\n\n### Retroactive record\n\n- \[ \] This records access already taken outside Breakglass\n\n### Started \(retroactive only\)\n\n_No response_\n\n### Ended \(retroactive only\)\n\n_No response_\n$/,
    );
    assert.equal((await h.stateOf(n)).status, "requested", "the app read it as a valid request");

    // Approve while `credentials` is waiting: it shows progress, then hands out the credential.
    const waiting = cli("erin", [
      "credentials",
      ref,
      "--identity",
      identityFile,
      "--poll",
      "100ms",
      "--timeout",
      "2m",
    ]);
    await new Promise((r) => setTimeout(r, 400));
    await h.approve("grace", n); // the guardrail policy asks for step-up: a signed approval
    const got = await waiting;
    assert.equal(got.code, 0, got.err);
    assert.match(got.err, /waiting for approval \(0 of 1\)/);
    assert.match(got.err, /granted \(jwt /);
    const token = /^export BREAKGLASS_TOKEN='([^']+)'$/m.exec(got.out)?.[1] ?? "";
    assert.equal((await sb.app.deps.introspect!(token)).active, true, "the exported credential works");

    const envFile = join(dir, "creds.env");
    const again = await cli("erin", ["credentials", ref, "--identity", identityFile, "--env-file", envFile]);
    assert.equal(again.code, 0, again.err);
    assert.equal((await stat(envFile)).mode & 0o777, 0o600);
    assert.match(
      await readFile(envFile, "utf8"),
      new RegExp(`^BREAKGLASS_TOKEN='${token.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}'$`, "m"),
    );

    const wrong = await cli("erin", ["credentials", ref, "--identity", otherIdentityFile]);
    assert.equal(wrong.code, 1);
    assert.equal(wrong.err.trim().split("\n").length, 1, wrong.err);
    assert.match(
      wrong.err,
      /your age identity .* is age1\w+, but \.github\/breakglass-recipients\.yml lists age1\w+ for @erin/,
    );

    const done = await cli("erin", ["done", ref, "--reason", "rolled back"]);
    assert.equal(done.code, 0, done.err);
    assert.match(done.err, /revoked and verified/);
    assert.equal((await h.stateOf(n)).status, "revoked");
    assert.equal((await sb.app.deps.introspect!(token)).active, false);
    const after = await cli("erin", ["credentials", ref, "--identity", identityFile]);
    assert.equal(after.code, 1);
    assert.match(after.err, /is already revoked; no credentials to fetch/);
  });

  it("a request naming several resources: --more opens it, credentials needs --resource, done ends every live one", async () => {
    const opened = await cli("erin", [
      "request",
      "--repo",
      "acme/ops",
      "--resource",
      "model-guardrail-staging",
      "--role",
      "override",
      "--duration",
      "20m",
      "--more",
      "model-guardrail-canary override 10m",
      "--severity",
      "critical",
      "--reason",
      "Both gateways' guardrails block every checkout since the 14:02 deploy.",
    ]);
    assert.equal(opened.code, 0, opened.err);
    const ref = opened.out.trim();
    const n = Number(ref.split("#")[1]);
    await sb.settle();
    assert.match(
      (await h.issueOf(n)).body ?? "",
      /### More resources\n\nmodel-guardrail-canary override 10m\n/,
    );
    const s = await h.stateOf(n);
    assert.deepEqual(Object.keys(s.parts ?? {}), ["model-guardrail-staging", "model-guardrail-canary"]);
    await h.say("grace", n, "/approve");
    assert.equal((await h.stateOf(n)).status, "active");

    const which = await cli("erin", ["credentials", ref, "--identity", identityFile]);
    assert.equal(which.code, 1);
    assert.match(
      which.err,
      /names several resources \(model-guardrail-staging, model-guardrail-canary\): say which with --resource/,
    );
    const unknown = await cli("erin", ["credentials", ref, "--identity", identityFile, "--resource", "nope"]);
    assert.equal(unknown.code, 1);
    assert.match(
      unknown.err,
      /names no resource nope: it names model-guardrail-staging, model-guardrail-canary/,
    );
    const tokens: string[] = [];
    for (const resource of ["model-guardrail-staging", "model-guardrail-canary"]) {
      const got = await cli("erin", ["credentials", ref, "--identity", identityFile, "--resource", resource]);
      assert.equal(got.code, 0, got.err);
      tokens.push(/^export BREAKGLASS_TOKEN='([^']+)'$/m.exec(got.out)?.[1] ?? "");
    }
    assert.notEqual(tokens[0], tokens[1], "each resource's own credential");
    for (const token of tokens) assert.equal((await sb.app.deps.introspect!(token)).active, true);

    const done = await cli("erin", ["done", ref]);
    assert.equal(done.code, 0, done.err);
    assert.match(done.err, /\(model-guardrail-staging\): revoked and verified/);
    assert.match(done.err, /\(model-guardrail-canary\): revoked and verified/);
    for (const token of tokens) assert.equal((await sb.app.deps.introspect!(token)).active, false);
  });

  it("an unknown issue, a requester with no recipient key, and a missing identity each get one line and exit 1", async () => {
    const unknown = await cli("erin", ["credentials", "acme/ops#9999", "--identity", identityFile]);
    assert.equal(unknown.code, 1);
    assert.equal(
      unknown.err,
      "breakglass credentials: acme/ops#9999 does not exist, or your token cannot see it.\n",
    );

    const opened = await cli("heidi", [
      "request",
      "--repo",
      "acme/ops",
      "--resource",
      RESOURCE,
      "--role",
      "override",
      "--reason",
      "Guardrail blocks every checkout since the deploy; override now.",
    ]);
    assert.equal(opened.code, 0, opened.err);
    const noKey = await cli("heidi", ["credentials", opened.out.trim(), "--identity", identityFile]);
    assert.equal(noKey.code, 1);
    assert.equal(noKey.err.split("\n").filter(Boolean).length, 1, noKey.err);
    assert.match(
      noKey.err,
      /lists no age recipient for @heidi: add `heidi: age1\w+` in a reviewed pull request/,
    );

    const noIdentity = await cli("erin", ["credentials", opened.out.trim()]);
    assert.equal(noIdentity.code, 1);
    assert.match(
      noIdentity.err,
      /^breakglass credentials: no age identity at .*breakglass\.key: make one with `age-keygen -o /,
    );

    const wrongForm = await cli("erin", [
      "request",
      "--repo",
      "acme/ops",
      "--resource",
      "no-such-thing",
      "--role",
      "x",
      "--reason",
      "twenty characters or more here",
    ]);
    assert.equal(wrongForm.code, 1);
    assert.match(wrongForm.err, /resource "no-such-thing" is not one of the form's options/);
  });
});
