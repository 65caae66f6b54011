/**
 * A runner for serverless mode: every run of breakglass-app.yml the emulator starts (an issue event, a
 * dispatch, a promoted pending run) runs src/app/actions-main.ts as a real process, as the workflow's
 * job does, and completes the run when the process exits, so the group's pending run starts next.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { WorkflowRun } from "../../src/sandbox/github/emulator.ts";
import {
  SANDBOX_APP_ID,
  SANDBOX_JWT_ISSUER,
  SANDBOX_OWNER,
  SANDBOX_REPO,
  type Sandbox,
} from "../../src/sandbox/start-sandbox.ts";

export interface EntryResult {
  code: number;
  out: string;
}

export interface ServerlessRunner {
  /** Every job run, in the order they ended. */
  readonly finished: Array<{ run: WorkflowRun; result: EntryResult }>;
  /** Holds the next runs' jobs until `release()`: as a slow runner start would. */
  hold(): void;
  release(): void;
  stop(): Promise<void>;
}

let counter = 0;

/** The job's environment for the entry point: the app's credentials, the event, GitHub's variables. */
export function entryEnv(
  sb: Sandbox,
  name: string,
  eventPath: string,
  runId: number,
  extra: Record<string, string> = {},
): Record<string, string> {
  const api = new URL(sb.emulator.apiUrl);
  return {
    PATH: process.env.PATH ?? "",
    GITHUB_EVENT_NAME: name,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: `${SANDBOX_OWNER}/${SANDBOX_REPO}`,
    GITHUB_RUN_ID: String(runId),
    APP_ID: String(SANDBOX_APP_ID),
    PRIVATE_KEY: sb.secrets.appPrivateKey,
    BREAKGLASS_SIGNING_KEY: sb.secrets.signingKeyPem,
    BREAKGLASS_SEAL_KEY: sb.secrets.sealKey,
    BREAKGLASS_PUBLIC_URL: SANDBOX_JWT_ISSUER,
    BREAKGLASS_APP_SLUG: "breakglass",
    GHE_HOST: api.host,
    GHE_PROTOCOL: "http",
    // The emulator has no secondary rate limits: no write spacing (BREAKGLASS_THROTTLE, docs/deployment.md).
    BREAKGLASS_THROTTLE: "rate-limits-only",
    LOG_LEVEL: "warn",
    // Under `npm test` the child's coverage is collected with the rest.
    ...(process.env.NODE_V8_COVERAGE ? { NODE_V8_COVERAGE: process.env.NODE_V8_COVERAGE } : {}),
    ...extra,
  };
}

/** Runs the entry point once as a process with this environment. */
export function runEntry(env: Record<string, string>): Promise<EntryResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/app/actions-main.ts"], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, out }));
  });
}

export async function startServerlessRunner(
  sb: Sandbox,
  workflow = "breakglass-app.yml",
): Promise<ServerlessRunner> {
  const dir = await mkdtemp(join(tmpdir(), "breakglass-serverless-"));
  const finished: ServerlessRunner["finished"] = [];
  let gate: Promise<void> | null = null;
  let open: (() => void) | null = null;
  const stop = sb.emulator.onRunStarted(async (run) => {
    if (!run.path.endsWith(`/${workflow}`)) return;
    if (gate) await gate;
    const eventPath = join(dir, `event-${run.id}-${++counter}.json`);
    await writeFile(eventPath, JSON.stringify(run.payload ?? { inputs: run.inputs }));
    const result = await runEntry(entryEnv(sb, run.event, eventPath, run.id));
    finished.push({ run, result });
    sb.emulator.completeRun(run.id, result.code === 0 ? "success" : "failure");
  });
  return {
    finished,
    hold() {
      gate ??= new Promise<void>((resolve) => (open = resolve));
    },
    release() {
      open?.();
      gate = null;
      open = null;
    },
    async stop() {
      stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
