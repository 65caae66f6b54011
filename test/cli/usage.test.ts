import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { COMMANDS, main } from "../../src/cli/main.ts";
import type { CliIO } from "../../src/cli/io.ts";
import { closest, flagsIn } from "../../src/cli/usage-error.ts";
import { parseScenario, simulate, usersOf } from "../../src/cli/commands/simulate.ts";

function fakeIO(): CliIO & { out: () => string; err: () => string } {
  let out = "";
  let err = "";
  return {
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    readStdin: async () => "",
    cwd: process.cwd(),
    env: {},
    out: () => out,
    err: () => err,
  };
}

const NO_STACK = /\n\s+at .*:\d+/;

// Where a command needs a subcommand first, the wrong flag goes after it.
const WRONG_FLAG: Record<string, string[][]> = {
  codeowners: [["--no-such-flag", "policies/x.yml"]],
  request: [["parse", "--no-such-flag"]],
  retro: [["--no-such-flag"]],
  credentials: [["acme/ops#1", "--no-such-flag"]],
  done: [["acme/ops#1", "--no-such-flag"]],
  validate: [["--no-such-flag"]],
  simulate: [["--no-such-flag", "test/scenarios/deny.yml"]],
  demo: [["--no-such-flag"]],
  init: [["--no-such-flag"]],
  audit: [
    ["export", "--no-such-flag"],
    ["verify", "--no-such-flag"],
  ],
  aws: [["trust-policy", "--no-such-flag"]],
  approve: [["acme/ops#1", "--no-such-flag"]],
  "break-glass": [["acme/ops#1", "--no-such-flag"]],
  passkey: [["confirm", "acme", "AAAAAAAAAAAAAAAAAAAAAA", "--no-such-flag"]],
};

test("every command answers a wrong flag with one line saying what to write, then its usage, exit 2", async () => {
  assert.deepEqual(
    Object.keys(WRONG_FLAG).sort(),
    Object.keys(COMMANDS).sort(),
    "a new command needs a row here",
  );
  for (const [name, cases] of Object.entries(WRONG_FLAG)) {
    for (const args of cases) {
      const io = fakeIO();
      assert.equal(await main([name, ...args], io), 2, `${name} ${args.join(" ")}`);
      const [first, blank, ...rest] = io.err().split("\n");
      assert.match(
        first!,
        new RegExp(`^breakglass ${name}: unknown option --no-such-flag: the options are --`),
        `${name}: ${first}`,
      );
      assert.equal(blank, "");
      assert.match(rest.join("\n"), new RegExp(`^Usage: breakglass ${name}`), `${name} prints its usage`);
      assert.doesNotMatch(io.err(), NO_STACK);
      assert.equal(io.out(), "", "nothing on stdout");
    }
  }
});

test("a misspelt flag is answered with the flag meant; a flag without its value says to give one", async () => {
  const typo = fakeIO();
  assert.equal(await main(["validate", "--rot", "."], typo), 2);
  assert.match(
    typo.err(),
    /^breakglass validate: unknown option --rot: did you mean --root\?\n\nUsage: breakglass validate/,
  );
  const missing = fakeIO();
  assert.equal(await main(["simulate", "test/scenarios/deny.yml", "--root"], missing), 2);
  assert.match(missing.err(), /^breakglass simulate: --root needs a value: write --root VALUE\.\n\nUsage:/);
  const valued = fakeIO();
  assert.equal(await main(["demo", "--keep=yes"], valued), 2);
  assert.match(valued.err(), /^breakglass demo: --keep takes no value: write --keep alone\.\n/);
  const positional = fakeIO();
  assert.equal(await main(["validate", "extra"], positional), 2);
  assert.match(
    positional.err(),
    /^breakglass validate: unexpected argument "extra": this command takes only options \(the options are --root/,
  );
  const sub = fakeIO();
  assert.equal(await main(["audit", "summon"], sub), 2);
  assert.match(
    sub.err(),
    /^breakglass audit: unknown subcommand "summon": use `breakglass audit export`.*\n\nUsage: breakglass audit export/,
  );
  const req = fakeIO();
  assert.equal(await main(["request", "prase"], req), 2);
  assert.match(req.err(), /^breakglass request: unknown subcommand "prase"/);
});

test("an unknown command names the one meant, or lists them; no command at all prints the usage; exit 2", async () => {
  const typo = fakeIO();
  assert.equal(await main(["validat"], typo), 2);
  assert.match(
    typo.err(),
    /^breakglass: unknown command "validat": did you mean `breakglass validate`\?\n\nUsage: breakglass <command>/,
  );
  const unknown = fakeIO();
  assert.equal(await main(["frobnicate"], unknown), 2);

  assert.match(
    unknown.err(),
    /^breakglass: unknown command "frobnicate": use one of codeowners, request, retro, credentials, done, validate, simulate, demo, init, audit, approve, break-glass, passkey, aws\.\n/,
  );
  const flag = fakeIO();
  assert.equal(await main(["--verbose"], flag), 2);
  assert.match(
    flag.err(),
    /^breakglass: unknown option "--verbose": write `breakglass --help` or `breakglass --version`\./,
  );
  const none = fakeIO();
  assert.equal(await main([], none), 2);
  assert.match(none.err(), /^breakglass: say which command to run, e.g. `breakglass demo`\.\n\nUsage:/);
  const help = fakeIO();
  assert.equal(await main(["--help"], help), 0);
  assert.match(help.out(), /^Usage: breakglass <command>/);
});

test("--version prints package.json's version, through the real binary too", async () => {
  const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
  const io = fakeIO();
  assert.equal(await main(["--version"], io), 0);
  assert.equal(io.out(), `${version}\n`);
  const real = spawnSync(process.execPath, ["bin/breakglass.js", "--version"], { encoding: "utf8" });
  assert.equal(real.status, 0, real.stderr);
  assert.equal(real.stdout, `${version}\n`);
  const wrong = spawnSync(process.execPath, ["bin/breakglass.js", "init", "--dri", "x"], {
    encoding: "utf8",
  });
  assert.equal(wrong.status, 2);
  assert.match(wrong.stderr, /^breakglass init: unknown option --dri: did you mean --dir\?/);
  assert.doesNotMatch(wrong.stderr, NO_STACK);
});

test("a bad scenario is one line and the usage, exit 2", async () => {
  const dir = mkdtempSync(join(tmpdir(), "bg-usage-"));
  const cases: Array<[string, RegExp]> = [
    ["steps: nope", /the scenario needs a `steps:` list/],
    ["steps:\n  - jump: {}", /step 1 must be exactly one of open, comment/],
    [
      "steps:\n  - open: { author: 'not a login', body: x }",
      /step 1 \(open\): author "not a login" is not a GitHub login; write one like bob or renovate\[bot\]/,
    ],
    ["steps:\n  - open: { author: 42, body: x }", /author 42 is not a GitHub login/],
  ];
  for (const [text, message] of cases) {
    const file = join(dir, "s.yml");
    writeFileSync(file, text);
    const io = fakeIO();
    assert.equal(await main(["simulate", file], io), 2, text);
    const [first, blank, usage] = io.err().split("\n");
    assert.match(first!, message);
    assert.equal(blank, "");
    assert.match(usage!, /^Usage: breakglass simulate/);
  }
  const missing = fakeIO();
  assert.equal(await main(["simulate", join(dir, "absent.yml")], missing), 2);
  assert.match(missing.err(), /^breakglass simulate: cannot read .*absent\.yml\n/);
});

test("simulate: every login the scenario names is a sandbox user, name[bot] as a bot", () => {
  const scenario = parseScenario(
    "teams: { acme/dba: [tess] }\npermissions: { uma: read }\nsteps:\n  - open: { author: zed, body: x }\n  - comment: { author: 'renovate[bot]', body: hi }\n",
  );
  const users = usersOf(scenario);
  const type = (login: string) => users.find((u) => u.login === login)?.type;
  assert.equal(type("zed"), "User");
  assert.equal(type("renovate[bot]"), "Bot");
  assert.equal(type("tess"), "User");
  assert.equal(type("uma"), "User");
  assert.equal(type("dave"), "User", "the sandbox's own users stay");
  assert.equal(type("github-actions[bot]"), "Bot");
});

test("simulate runs a scenario whose authors the sandbox did not know, a bot among them", async () => {
  const scenario = parseScenario(
    [
      "steps:",
      "  - open: { author: zed, form: { resource: prod-database, role: read, duration: 1h, severity: high, justification: 'a new engineer asks; a bot and a stranger answer' } }",
      "  - comment: { author: 'renovate[bot]', body: 'unrelated bot note' }",
      "  - comment: { author: yann, body: '/approve' }",
    ].join("\n"),
  );
  const r = await simulate(scenario, process.cwd());
  assert.equal(r.state, "requested");
  assert.deepEqual(r.approvals, [], "a stranger is no CODEOWNER");
  assert.ok(r.comments.some((c) => c.author === "renovate[bot]" && c.body === "unrelated bot note"));
  assert.ok(r.comments.some((c) => c.author === "breakglass[bot]" && c.body.includes("not_codeowner")));
});

test("flagsIn and closest: the flags a usage text lists, and the nearest one to a typo", () => {
  assert.deepEqual(flagsIn("Usage: x [--root DIR] [--keep]\n  --root DIR  …\n  -h, --help"), [
    "--root",
    "--keep",
    "--help",
  ]);
  assert.equal(closest("--rot", ["--root", "--keep"]), "--root");
  assert.equal(closest("--frobnicate", ["--root", "--keep"]), null);
});
