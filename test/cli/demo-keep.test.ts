/**
 * `breakglass demo --keep` as a person would use it: the real command as a process, then the very
 * commands it printed, run through a shell (curl with the printed tokens against the emulator, then
 * the printed `audit export` and `audit verify`), and the app answering them.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { after, before, it } from "node:test";

let demo: ReturnType<typeof spawn>;
let printed = "";

before(async () => {
  demo = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "demo", "--keep"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  demo.stdout!.on("data", (d) => (printed += d));
  demo.stderr!.on("data", (d) => (printed += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`demo --keep printed no next steps within 180 s:\n${printed}`)),
      180_000,
    );
    demo.stdout!.on("data", () => {
      if (printed.includes("Press Ctrl-C to stop.")) {
        clearTimeout(timer);
        resolve();
      }
    });
    demo.on("exit", (code) => reject(new Error(`demo exited ${code}:\n${printed}`)));
  });
});
after(async () => {
  if (demo.exitCode !== null) return;
  const exited = new Promise((resolve) => demo.once("exit", resolve));
  demo.kill("SIGINT");
  await exited;
});

/** The printed command lines (indented two spaces) that start with `word`. */
const commands = (word: string) =>
  printed
    .split("\n")
    .filter((l) => l.startsWith(`  ${word}`))
    .map((l) => l.trim());
function sh(script: string): { status: number; out: string } {
  const exports = commands("export ").join("\n");
  const result = spawnSync("bash", ["-c", `set -e\n${exports}\n${script}`], {
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: result.status ?? 1, out: `${result.stdout}${result.stderr}` };
}
async function until<T>(what: () => string, read: () => T | undefined, ms = 60_000): Promise<T> {
  for (const start = Date.now(); Date.now() - start < ms; await new Promise((r) => setTimeout(r, 500))) {
    const value = read();
    if (value !== undefined) return value;
  }
  throw new Error(`timed out waiting for ${what()}`);
}

it(
  "prints a token per demo user, the URLs, and commands; the emulator accepts the tokens; the printed commands open, approve and audit a request",
  { timeout: 300_000 },
  async () => {
    assert.match(printed, /✅ Demo passed/);
    const api = /GitHub API \(emulator\): (http:\/\/127\.0\.0\.1:\d+\S*)/.exec(printed)?.[1];
    assert.ok(api, printed);
    assert.match(printed, /Dashboard: +http:\/\/127\.0\.0\.1:\d+\/breakglass/);
    const tokens = commands("export TOKEN_");
    assert.ok(
      tokens.length >= 3 && tokens.every((l) => /^export TOKEN_[A-Z0-9_]+=ghp_\w+ +# [a-z0-9-]+/.test(l)),
      tokens.join("\n"),
    );
    const approver = /Approve it as (\S+) /.exec(printed)?.[1];
    assert.ok(approver, printed);

    // A wrong token is refused, as GitHub does; the printed one is accepted (and is dave's, below).
    assert.match(
      sh(
        `curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ghp_wrong" ${api}/repos/acme/ops/issues`,
      ).out,
      /^401$/,
    );
    assert.match(
      sh(
        `curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN_DAVE" ${api}/repos/acme/ops/issues`,
      ).out,
      /^200$/,
    );

    const [open] = commands('curl -sS -H "Authorization: Bearer $TOKEN_').filter((l) =>
      l.includes("-X POST"),
    );
    // The demo's policy asks for step-up: the printed approval is `breakglass approve` with the approver's signing key.
    const approve = commands(`GITHUB_TOKEN=$TOKEN_`).find((l) => l.includes(" approve "));
    assert.ok(open && approve, printed);
    const opened = sh(open);
    const issue = JSON.parse(opened.out) as { number: number; user: { login: string } };
    assert.equal(issue.user.login, "dave", opened.out);
    const read = commands(`curl -sS -H "Authorization: Bearer $TOKEN_DAVE"`).find(
      (l) => l.includes("/issues/N/comments") && !l.includes("-X POST"),
    )!;
    const appComments = () =>
      JSON.parse(sh(read.replace("/issues/N/", `/issues/${issue.number}/`)).out) as Array<{
        user: { login: string };
        body: string;
      }>;
    // A person reads the request before approving it: by then the sandbox clock (the wall clock now) has moved on.
    await until(
      () => "the app to record the request",
      () => appComments().find((c) => c.user.login === "breakglass[bot]" && c.body.includes("requests `")),
    );
    await new Promise((r) => setTimeout(r, 2000));
    const approved = sh(approve.replace("#N ", `#${issue.number} `));
    assert.equal(approved.status, 0, approved.out);
    assert.match(approved.out, /#issuecomment-\d+/, "breakglass approve posted the signed /approve");
    assert.ok(approver);

    let last = "";
    const granted = until(
      () => `the app to grant the request; its comments:\n${last}`,
      () => {
        const comments = appComments();
        last = comments
          .filter((c) => c.user.login === "breakglass[bot]")
          .map((c) => c.body.split("\n").find((l) => l.trim() && !l.startsWith("<!--")))
          .join("\n");
        return comments.find(
          (c) => c.user.login === "breakglass[bot]" && /Granted|granted/.test(c.body) && /until/.test(c.body),
        );
      },
    );
    await granted;
    {
      const [exported, verified] = [
        commands("GITHUB_TOKEN=$TOKEN_DAVE").find((l) => l.includes("audit export"))!,
        commands("GITHUB_TOKEN=$TOKEN_DAVE").find((l) => l.includes("audit verify"))!,
      ];
      const report = sh(exported);
      assert.equal(report.status, 0, report.out);
      assert.match(
        report.out,
        new RegExp(`#${issue.number}\\b`),
        "the export lists the request opened by the printed command",
      );
      const check = sh(verified);
      assert.equal(check.status, 0, check.out);
    }
  },
);
