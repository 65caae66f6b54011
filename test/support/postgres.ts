import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import pg from "pg";
import { join } from "node:path";

/** A throwaway PostgreSQL server on 127.0.0.1, with password (SCRAM) authentication over TCP. */
export interface TestPostgres {
  host: string;
  port: number;
  superuser: string;
  superuserPassword: string;
  /** postgresql://user:password@127.0.0.1:port/database */
  url(user: string, password: string, database?: string): string;
  /** The server's log so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

interface Binaries {
  initdb: string;
  pgCtl: string;
}

const INSTALL_HINT =
  "PostgreSQL's server binaries are not installed (no /usr/lib/postgresql/*/bin/initdb). Install them with `apt-get install postgresql`, or point BREAKGLASS_PG_BIN at a directory holding initdb and pg_ctl.";

/** BREAKGLASS_PG_BIN (a directory with initdb and pg_ctl) if set, else Debian's server binaries, newest version first. */
export function findPostgresBinaries(
  root = "/usr/lib/postgresql",
  binDir = process.env.BREAKGLASS_PG_BIN,
): Binaries | null {
  if (binDir)
    return existsSync(join(binDir, "initdb")) && existsSync(join(binDir, "pg_ctl"))
      ? { initdb: join(binDir, "initdb"), pgCtl: join(binDir, "pg_ctl") }
      : null;
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .map(Number)
    .sort((a, b) => b - a);
  for (const version of versions) {
    const bin = join(root, String(version), "bin");
    if (existsSync(join(bin, "initdb")) && existsSync(join(bin, "pg_ctl")))
      return { initdb: join(bin, "initdb"), pgCtl: join(bin, "pg_ctl") };
  }
  return null;
}

/**
 * Why the PostgreSQL tests cannot run here, or null when they can. Test files skip with this reason, and
 * a guard test fails with it when CI is set: CI must not pass by skipping them.
 */
export function postgresUnavailable(): string | null {
  if (!findPostgresBinaries()) return INSTALL_HINT;
  if (process.getuid?.() === 0 && spawnSync("id", ["-u", "postgres"]).status !== 0) {
    return "Running as root, and there is no `postgres` user to run the server as (PostgreSQL refuses to run as root). Install the `postgresql` package, which creates it.";
  }
  return null;
}

/** node:test options for a test that needs the server: skipped, with the reason, when it cannot run. */
export function postgresTestOptions(): { skip: string | false } {
  return { skip: postgresUnavailable() ?? false };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * initdb + pg_ctl start in a fresh temp directory. PostgreSQL refuses to run as root, so as root the
 * cluster is owned by and run as the `postgres` user (runuser); otherwise as the current user.
 */
/** `settings`: extra server settings (`-c name=value`), e.g. `{ log_statement: "all" }`; values without spaces. */
export async function startTestPostgres(
  options: { settings?: Record<string, string> } = {},
): Promise<TestPostgres> {
  const missing = postgresUnavailable();
  if (missing) throw new Error(missing);
  const binaries = findPostgresBinaries()!;
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), "breakglass-pg-"));
  const dataDir = join(dir, "data");
  const logFile = join(dir, "server.log");
  const pwFile = join(dir, "pw");
  const superuser = "bg_test_super";
  const superuserPassword = randomBytes(18).toString("base64url");
  writeFileSync(pwFile, `${superuserPassword}\n`, { mode: 0o600 });
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
    chownSync(dir, uid, gid);
    chownSync(pwFile, uid, gid);
  }
  chmodSync(dir, 0o700);
  const run = (command: string, args: string[]) => {
    const [file, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, args];
    const result = spawnSync(file, argv, { encoding: "utf8", cwd: dir });
    if (result.status !== 0) {
      const logText = existsSync(logFile) ? readFileSync(logFile, "utf8") : "";
      throw new Error(
        `${command} ${args[0] ?? ""} failed (${result.status}): ${result.stderr}${result.stdout}\n${logText}`,
      );
    }
  };
  run(binaries.initdb, [
    "-D",
    dataDir,
    "-U",
    superuser,
    `--pwfile=${pwFile}`,
    "--auth-local=scram-sha-256",
    "--auth-host=scram-sha-256",
    "-E",
    "UTF8",
    "--no-locale",
    "--no-sync",
  ]);
  rmSync(pwFile, { force: true });
  let port = 0;
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    const serverOptions = [
      `-p ${port}`,
      "-c listen_addresses=127.0.0.1",
      `-c unix_socket_directories=${dir}`,
      "-c fsync=off",
      "-c synchronous_commit=off",
      "-c full_page_writes=off",
      "-c max_connections=40",
      ...Object.entries(options.settings ?? {}).map(([k, v]) => `-c ${k}=${v}`),
    ].join(" ");
    try {
      run(binaries.pgCtl, ["start", "-D", dataDir, "-l", logFile, "-w", "-t", "60", "-o", serverOptions]);
      break;
    } catch (error) {
      // Another process may have taken the port between freePort() and the server's bind.
      if (attempt >= 2) throw error;
    }
  }
  let stopped = false;
  return {
    host: "127.0.0.1",
    port,
    superuser,
    superuserPassword,
    url: (user, password, database = "postgres") =>
      `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`,
    log: () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : ""),
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        run(binaries.pgCtl, ["stop", "-D", dataDir, "-m", "immediate", "-w"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Runs statements one after another on a fresh connection (test set-up as the superuser or admin). */
export async function runSql(url: string, statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}
