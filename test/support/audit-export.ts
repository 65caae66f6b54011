import assert from "node:assert/strict";
import { run as audit } from "../../src/cli/commands/audit.ts";
import type { CliIO } from "../../src/cli/io.ts";
import type { Sandbox } from "../../src/sandbox/start-sandbox.ts";

/** `breakglass audit export --repo owner/repo --jwks <app's> …args` as dave, on the sandbox's clock: its output. */
export async function auditExport(sb: Sandbox, repository: string, ...args: string[]): Promise<string> {
  const io: CliIO & { out: string; err: string } = {
    out: "",
    err: "",
    stdout: (t: string) => void (io.out += t),
    stderr: (t: string) => void (io.err += t),
    readStdin: async () => "",
    cwd: process.cwd(),
    env: { GITHUB_TOKEN: sb.emulator.userToken("dave"), GITHUB_API_URL: sb.emulator.apiUrl },
  };
  const code = await audit(
    ["export", "--repo", repository, "--jwks", `${sb.app.url}/breakglass/jwks.json`, ...args],
    io,
    { now: () => sb.clock.now() },
  );
  assert.equal(code, 0, io.err);
  return io.out;
}
