/**
 * docs/fallback-procedure.md, run: its `npx breakglass` commands in order against the sandbox. The
 * retroactive record they make issues no credentials (a grant workflow run on it gets nothing), needs
 * the policy's approvals after the fact, closes and opens its post-event review, and is flagged in the
 * audit export the page tells you to take.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { main } from "../../src/cli/main.ts";
import type { CliIO } from "../../src/cli/io.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import { sandboxHelpers, withoutStepUp } from "../support/sandbox-helpers.ts";

/** The page's commands: `npx breakglass …` lines of its ```sh blocks, split as a shell would (double quotes). */
function pageCommands(markdown: string): string[][] {
  const blocks = [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  return blocks.flatMap((b) =>
    b
      .split("\n")
      .filter((l) => l.startsWith("npx breakglass "))
      .map((l) =>
        [...l.slice("npx breakglass ".length).matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!),
      ),
  );
}

let sb: Sandbox;
let dir: string;
const h = sandboxHelpers(() => sb);
before(async () => {
  sb = await startSandbox(); // 2026-11-24T09:00Z, after the outage the page's example records
  withoutStepUp(sb);
  dir = await mkdtemp(join(tmpdir(), "breakglass-fallback-"));
});
after(() => sb.close());

it("the documented commands record the fallback access, which is approved after the fact, reviewed, never granted and flagged in the export", async () => {
  const commands = pageCommands(
    await readFile(new URL("../../docs/fallback-procedure.md", import.meta.url), "utf8"),
  );
  assert.deepEqual(
    commands.map((c) => c[0]),
    ["retro", "audit"],
  );
  const run = async (args: string[]) => {
    const io: CliIO & { out: string; err: string } = {
      out: "",
      err: "",
      stdout: (t: string) => void (io.out += t),
      stderr: (t: string) => void (io.err += t),
      readStdin: async () => "",
      cwd: dir,
      env: { GITHUB_TOKEN: sb.emulator.userToken("dave"), GITHUB_API_URL: sb.emulator.apiUrl },
    };
    const code = await main(args, io);
    assert.equal(code, 0, `${args.join(" ")}: ${io.err}`);
    await sb.settle();
    return io;
  };
  const recorded = await run(commands[0]!);
  const n = Number(/#(\d+)\n$/.exec(recorded.out)?.[1]);
  assert.ok(n > 0, recorded.out);
  let state = await h.stateOf(n);
  assert.equal(state.status, "requested", (await h.appTexts(n)).join("\n---\n"));
  assert.equal(state.request?.retroactive?.started_at, "2026-11-24T06:10:00.000Z");

  const run1 = await sb.runGrantWorkflow(n);
  assert.notEqual(run1.exitCode, 0, "no credentials for a retroactive record");
  assert.equal(Object.keys(run1.env).length, 0);

  await h.say("bob", n, "/approve seen in the incident channel");
  await h.say("carol", n, "/approve");
  state = await h.stateOf(n);
  assert.equal(state.status, "recorded", (await h.appTexts(n)).join("\n---\n"));
  assert.equal(state.grant, null);
  assert.ok(state.closed && state.review_issue);

  await run(commands[1]!);
  const report = await readFile(join(dir, "fallback-audit.md"), "utf8");
  assert.match(report, new RegExp(`\\[#${n}\\][^\\n]*retroactive \\(taken outside Breakglass\\)`));
});
