import { command } from "../cli/commands/approve.ts";
import { UserError, type CliIO } from "../cli/io.ts";

/** What the sandbox must offer for a person to run `breakglass approve` against it. */
export interface SignedApprovalSandbox {
  repository: string;
  emulator: { apiUrl: string; userToken(login: string): string };
  app: { url: string };
  settle(): Promise<void>;
}

/**
 * `breakglass approve <repo>#<issue> --key <key>` as `login`: the real command (it reads the request's
 * hash from the app's records, verifies them against the app's JWKS, signs with the real `ssh-keygen`
 * and posts the comment with the approver's own token). Returns the id of the comment it posted.
 */
export async function approveSigned(
  sb: SignedApprovalSandbox,
  login: string,
  issue: number,
  key: string,
  note?: string,
): Promise<number> {
  let out = "";
  let err = "";
  const io: CliIO = {
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    readStdin: async () => "",
    cwd: process.cwd(),
    env: {
      GITHUB_TOKEN: sb.emulator.userToken(login),
      GITHUB_API_URL: sb.emulator.apiUrl,
      HOME: process.env.HOME ?? "/nonexistent",
    },
  };
  const args = [
    `${sb.repository}#${issue}`,
    "--key",
    key,
    "--jwks",
    `${sb.app.url}/breakglass/jwks.json`,
    ...(note ? ["--note", note] : []),
  ];
  const code = await command("approve")(args, io);
  if (code !== 0) throw new UserError(`breakglass approve as ${login} failed (exit ${code}): ${err.trim()}`);
  await sb.settle();
  const id = /#issuecomment-(\d+)/.exec(out)?.[1];
  if (!id) throw new Error(`breakglass approve printed no comment URL: ${out.trim()}`);
  return Number(id);
}
