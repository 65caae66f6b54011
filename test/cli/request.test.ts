import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "../../src/cli/commands/request.ts";
import { UserError, type CliIO } from "../../src/cli/io.ts";
import { main } from "../../src/cli/main.ts";
import { requestFormBody } from "../../src/sandbox/request-body.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const FORM_PATH = ".github/ISSUE_TEMPLATE/breakglass-request.yml";
const JUSTIFICATION =
  "Production incident: the primary is failing over and we need to inspect replication state now.";

interface FakeIO extends CliIO {
  out: string[];
  err: string[];
}

function fakeIO(cwd: string, stdin = ""): FakeIO {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    readStdin: async () => stdin,
    cwd,
    env: {},
  };
}

/** A repository root holding a copy of this repository's policies and request form. */
function makeRoot(parent: string, name: string): string {
  const root = join(parent, name);
  mkdirSync(join(root, ".github", "ISSUE_TEMPLATE"), { recursive: true });
  cpSync(join(REPO, "policies"), join(root, "policies"), { recursive: true });
  cpSync(join(REPO, FORM_PATH), join(root, FORM_PATH));
  return root;
}

function jsonLine(io: FakeIO): unknown {
  const text = io.out.join("");
  assert.match(text, /^[^\n]+\n$/, "exactly one line on stdout");
  return JSON.parse(text);
}

let dir: string;
let root: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "breakglass-request-cli-"));
  root = makeRoot(dir, "repo");
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe("breakglass request parse", () => {
  test("a valid body prints the request as one JSON line, exit 0", async () => {
    const io = fakeIO(
      root,
      requestFormBody({
        resource: "prod-database",
        role: "read",
        duration: "90m",
        severity: "critical",
        incident: "acme/ops#7",
      }),
    );
    assert.equal(await run(["parse"], io), 0);
    const text = io.out.join("");
    assert.equal(
      text,
      `{"ok":true,"request":{"resource":"prod-database","role":"read","duration_seconds":5400,"severity":"critical","justification":${JSON.stringify(JUSTIFICATION)},"incident":"acme/ops#7","drill":false}}\n`,
    );
    assert.deepEqual(io.err, []);
  });

  test("an empty duration takes the policy default; a drill on the drill resource", async () => {
    const io = fakeIO(root, requestFormBody({ resource: "drill", role: "drill", drill: true }));
    assert.equal(await run(["parse"], io), 0);
    assert.deepEqual(jsonLine(io), {
      ok: true,
      request: {
        resource: "drill",
        role: "drill",
        duration_seconds: 300,
        severity: "high",
        justification: JUSTIFICATION,
        incident: null,
        drill: true,
      },
    });
  });

  test("an invalid body prints every error as JSON, exit 1", async () => {
    const body = requestFormBody({
      resource: "prod-database",
      role: "root",
      duration: "99h",
      severity: "urgent",
      justification: "pls",
      incident: "http://x",
    });
    const io = fakeIO(root, body);
    assert.equal(await run(["parse"], io), 1);
    const result = jsonLine(io) as { ok: boolean; errors: Array<{ field: string; message: string }> };
    assert.equal(result.ok, false);
    assert.deepEqual(
      result.errors.map((e) => e.field),
      ["role", "duration", "severity", "justification", "incident"],
    );
    assert.match(result.errors[0]!.message, /Roles: read, write/);
    for (const e of result.errors) assert.deepEqual(Object.keys(e), ["field", "message"]);
    assert.deepEqual(io.err, []);
  });

  test("an empty stdin asks for the required sections", async () => {
    const io = fakeIO(root, "");
    assert.equal(await run(["parse"], io), 1);
    assert.deepEqual(
      (jsonLine(io) as { errors: Array<{ field: string }> }).errors.map((e) => e.field),
      ["resource", "role", "severity", "justification"],
    );
  });

  test("a hostile body with a second heading is refused, not half-read", async () => {
    const io = fakeIO(
      root,
      `${requestFormBody({ resource: "prod-database", role: "read" })}\n### Role\n\nwrite\n`,
    );
    assert.equal(await run(["parse"], io), 1);
    assert.match(
      JSON.stringify(jsonLine(io)),
      /"field":"role","message":"The body has 2 `### Role` headings/,
    );
  });

  test("--root is resolved against the working directory", async () => {
    const body = requestFormBody({ resource: "prod-database", role: "read" });
    const relative = fakeIO(dir, body);
    assert.equal(await run(["parse", "--root", "repo"], relative), 0);
    const absolute = fakeIO("/", body);
    assert.equal(await run(["--root", root, "parse"], absolute), 0);
    assert.deepEqual(jsonLine(absolute), jsonLine(relative));
  });

  test("broken policies are reported on stderr with file:line, exit 1, nothing on stdout", async () => {
    const broken = makeRoot(dir, "broken");
    writeFileSync(join(broken, "policies", "prod-database.yml"), "description: x\nroles:\n  read: [\n");
    const io = fakeIO(broken, requestFormBody({ resource: "drill", role: "drill", drill: true }));
    assert.equal(await main(["request", "parse"], io), 1);
    assert.deepEqual(io.out, []);
    const stderr = io.err.join("");
    assert.match(
      stderr,
      /^breakglass request: fix the policies first \(run `breakglass validate`\):\n {2}policies\/prod-database\.yml:\d+: /,
    );
  });

  test("a repository without the issue form is reported on stderr", async () => {
    const bare = join(dir, "bare");
    mkdirSync(bare, { recursive: true });
    cpSync(join(REPO, "policies"), join(bare, "policies"), { recursive: true });
    const io = fakeIO(bare, "");
    assert.equal(await main(["request", "parse"], io), 1);
    assert.match(
      io.err.join(""),
      /there is no issue form at \.github\/ISSUE_TEMPLATE\/breakglass-request\.yml/,
    );
  });

  test("--help prints the usage and the output contract", async () => {
    for (const args of [["--help"], ["parse", "-h"]]) {
      const io = fakeIO(root);
      assert.equal(await run(args, io), 0);
      assert.match(
        io.out.join(""),
        /^Usage: breakglass request --repo OWNER\/REPO .*\n\s+breakglass request parse \[--root DIR\] < body\.md/,
      );
      assert.match(io.out.join(""), /\{"ok":false,"errors":\[\{"field","message"\}\]\}/);
    }
  });

  test("wrong usage is a user error that points at --help", async () => {
    const cases: Array<[string[], RegExp]> = [
      [
        [],
        /say what to do: `breakglass request --repo owner\/repo .*`, or `breakglass request parse < body\.md`/,
      ],
      [["show"], /unknown subcommand "show"/],
      [["parse", "body.md"], /unexpected argument "body\.md"; the body is read from stdin/],
      [["parse", "--verbose"], /unknown option --verbose: the options are --root, --help/],
      [["parse", "--root"], /--root needs a value: write --root VALUE/],
    ];
    for (const [args, message] of cases) {
      await assert.rejects(
        run(args, fakeIO(root)),
        (error: unknown) => error instanceof UserError && message.test(error.message),
        args.join(" "),
      );
    }
    const io = fakeIO(root);
    assert.equal(await main(["request", "show"], io), 2);
    assert.match(io.err.join(""), /^breakglass request: unknown subcommand "show"/);
  });

  test("through the real binary: node bin/breakglass.js request parse < body.md", () => {
    const ok = spawnSync(
      process.execPath,
      [join(REPO, "bin", "breakglass.js"), "request", "parse", "--root", root],
      {
        input: requestFormBody({
          resource: "prod-database",
          role: "write",
          duration: "PT2H",
          severity: "high",
        }).replace(/\n/g, "\r\n"),
        encoding: "utf8",
        cwd: dir,
      },
    );
    assert.equal(ok.stderr, "");
    assert.equal(ok.status, 0);
    assert.deepEqual(JSON.parse(ok.stdout), {
      ok: true,
      request: {
        resource: "prod-database",
        role: "write",
        duration_seconds: 7200,
        severity: "high",
        justification: JUSTIFICATION,
        incident: null,
        drill: false,
      },
    });

    const bad = spawnSync(process.execPath, [join(REPO, "bin", "breakglass.js"), "request", "parse"], {
      input: "### Role\n\nread\n",
      encoding: "utf8",
      cwd: root,
    });
    assert.equal(bad.status, 1);
    assert.equal(JSON.parse(bad.stdout).ok, false);
    assert.doesNotMatch(bad.stderr, /at .*\.ts:\d+/, "no stack trace");
  });
});

test("A294: `breakglass request --more` with garbage, a line break or heading (another form field), or more than 5 resources is refused before any issue is opened", async () => {
  const base = ["--repo", "acme/ops", "--resource", "prod-database", "--role", "read", "--reason", "x"];
  const cases: Array<[string[], RegExp]> = [
    [["--more", "github-admin"], /--more "github-admin" is not "RESOURCE ROLE \[DURATION\]" on one line/],
    [["--more", "a b c d"], /--more "a b c d" is not "RESOURCE ROLE \[DURATION\]"/],
    [
      ["--more", "github-admin admin\n\n### Severity\n\nlow"],
      /--more "github-admin admin\\n### Severity\\nlow" is not/,
    ],
    [["--more", "### Severity"], /--more "### Severity" is not/],
    [
      ["a", "b", "c", "d", "e"].flatMap((r) => ["--more", `${r} read`]),
      /a request names at most 5 resources: --resource and up to 4 --more \(this names 6\)/,
    ],
  ];
  for (const [more, message] of cases) {
    const io = fakeIO(tmpdir());
    // No GitHub client is asked for (no token in the environment): the refusal comes first.
    await assert.rejects(
      run([...base, ...more], io),
      (error: unknown) => error instanceof UserError && message.test(error.message),
      more.join(" "),
    );
  }
});

test("A294: a repository whose request form has no More resources field: --more is a clear error, not a body silently without it", async () => {
  const { formBody } = await import("../../src/cli/open-request.ts");
  const form = readFileSync(join(REPO, FORM_PATH), "utf8");
  const withoutMore = form.replace(/\n {2}- type: textarea\n {4}id: more\n(?:(?: {2}){2}.*\n|\n)*/, "\n");
  assert.notEqual(withoutMore, form, "the form's More resources field was taken out");
  const answers = {
    resource: "prod-database",
    role: "read",
    severity: "high",
    justification: JUSTIFICATION,
    drill: false,
  };
  assert.doesNotMatch(formBody(withoutMore, answers).body, /More resources/);
  assert.throws(
    () => formBody(withoutMore, { ...answers, more: ["github-admin admin 15m"] }),
    (error: unknown) => error instanceof UserError && /has no `more` field/.test(error.message),
  );
});
