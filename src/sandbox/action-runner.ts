import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The slice of the local OIDC issuer a runner needs. */
export interface RunnerOidc {
  registerRun(claims: Record<string, unknown>): { requestUrl: string; requestToken: string };
}

export interface ActionRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Variables the Action exported to the job (GITHUB_ENV). */
  env: Record<string, string>;
  outputs: Record<string, string>;
  state: Record<string, string>;
  summary: string;
  /** Values the Action masked with ::add-mask::. */
  masked: string[];
  post?: Omit<ActionRun, "post">;
}

export const ACTION_DIST = fileURLToPath(new URL("../../dist/", import.meta.url));

/** Parses GITHUB_ENV / GITHUB_OUTPUT / GITHUB_STATE files (`name<<delimiter` blocks, as @actions/core writes them). */
export function parseFileCommands(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delimiter] = heredoc;
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i]!);
      out[name!] = value.join("\n");
    } else if (line.includes("=")) {
      out[line.slice(0, line.indexOf("="))] = line.slice(line.indexOf("=") + 1);
    }
  }
  return out;
}

/**
 * Runs the bundled Action (dist/index.js, then dist/post.js) as a real Node process, the way a
 * GitHub-hosted runner does: INPUT_* variables, the file commands, and the OIDC request variables
 * from the local issuer. `between` runs as the job's next steps, with the exported environment.
 */
export async function runAction(options: {
  inputs: Record<string, string>;
  claims: Record<string, unknown> & { repository: string; run_id: string };
  oidc: RunnerOidc;
  between?: (env: Record<string, string>) => Promise<void>;
  post?: boolean;
  node?: string;
  /** Extra environment for the job (e.g. GITHUB_API_URL). */
  env?: Record<string, string>;
}): Promise<ActionRun> {
  const dir = await mkdtemp(join(tmpdir(), "breakglass-runner-"));
  try {
    const files = {
      GITHUB_ENV: "env",
      GITHUB_OUTPUT: "output",
      GITHUB_STATE: "state",
      GITHUB_STEP_SUMMARY: "summary",
    };
    for (const name of Object.values(files)) await writeFile(join(dir, name), "");
    const { requestUrl, requestToken } = options.oidc.registerRun(options.claims);
    const base: Record<string, string> = {
      PATH: process.env.PATH ?? "",
      HOME: dir,
      GITHUB_ACTIONS: "true",
      CI: "true",
      GITHUB_REPOSITORY: options.claims.repository,
      GITHUB_RUN_ID: options.claims.run_id,
      GITHUB_RUN_ATTEMPT: String(options.claims.run_attempt ?? "1"),
      RUNNER_TEMP: dir,
      ACTIONS_ID_TOKEN_REQUEST_URL: requestUrl,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken,
      ...Object.fromEntries(Object.entries(files).map(([k, v]) => [k, join(dir, v)])),
      ...(options.env ?? {}),
      ...Object.fromEntries(
        Object.entries(options.inputs).map(([k, v]) => [`INPUT_${k.replace(/ /g, "_").toUpperCase()}`, v]),
      ),
    };
    const step = async (script: string, extra: Record<string, string>): Promise<Omit<ActionRun, "post">> => {
      for (const name of ["env", "output", "summary"]) await writeFile(join(dir, name), "");
      const { exitCode, stdout, stderr } = await spawnNode(
        options.node ?? process.execPath,
        join(ACTION_DIST, script),
        { ...base, ...extra },
      );
      const read = (name: string) => readFile(join(dir, name), "utf8");
      return {
        exitCode,
        stdout,
        stderr,
        env: parseFileCommands(await read("env")),
        outputs: parseFileCommands(await read("output")),
        state: parseFileCommands(await read("state")),
        summary: await read("summary"),
        masked: [...stdout.matchAll(/^::add-mask::(.*)$/gm)].map((m) => m[1]!),
      };
    };
    const main = await step("index.js", {});
    if (options.between && main.exitCode === 0) await options.between(main.env);
    if (options.post === false) return main;
    const stateEnv = Object.fromEntries(Object.entries(main.state).map(([k, v]) => [`STATE_${k}`, v]));
    return { ...main, post: await step("post.js", stateEnv) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function spawnNode(
  node: string,
  script: string,
  env: Record<string, string>,
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, [script], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ exitCode: code ?? 1, stdout, stderr }));
  });
}
