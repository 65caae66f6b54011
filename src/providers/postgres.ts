import { createHash, createHmac, pbkdf2Sync, randomBytes, randomInt } from "node:crypto";
import pg from "pg";
import { postgresConnectionEnv, postgresGrantRole } from "../core/provider-settings/postgres.ts";
import { grantAlreadyEnded, messageOf, redact } from "./provider-errors.ts";
import type {
  CredentialProvider,
  CredentialRef,
  MintRequest,
  MintResult,
  RevocationCheck,
  UseCollection,
} from "./provider.ts";
import { CSV_LOG_SETUP, readRoleUses } from "./postgres-log.ts";

const { Client, escapeIdentifier, escapeLiteral } = pg;

/** Only roles this provider made are ever altered or dropped: a tampered record cannot name `postgres`. */
export const TEMPORARY_ROLE = /^bg_\d{1,12}_[a-z0-9]{6}$/;
/** Membership in these lets a login reach the server's files or run programs on it; never a break-glass grant. */
const HOST_ACCESS_ROLES = ["pg_execute_server_program", "pg_read_server_files", "pg_write_server_files"];
const CONNECT_TIMEOUT_MS = 10_000;
const TERMINATE_WAIT_MS = 5_000;
const SCRAM_ITERATIONS = 4096;
const LOGIN_REFUSED = new Set(["28P01", "28000"]);

export interface PostgresProviderDeps {
  /** The admin connection URL for a role's settings (normally from the env variable settings.connection_env names). */
  adminConnectionString(settings: Record<string, unknown>): string;
}

/** Resolves `settings.connection_env` (default BREAKGLASS_PG_ADMIN_URL) from an environment, without ever showing its value. */
export function adminConnectionFromEnv(
  env: Record<string, string | undefined>,
): (settings: Record<string, unknown>) => string {
  return (settings) => {
    const name = postgresConnectionEnv(settings);
    const value = env[name];
    if (!value)
      throw new Error(
        `${name} is not set: set it to the admin connection URL (postgresql://breakglass_admin:…@host:5432/db) of a role with CREATEROLE.`,
      );
    return value;
  };
}

/**
 * A temporary PostgreSQL login for a grant: `bg_<issue>_<random>` with a random password, VALID UNTIL
 * the grant's end, granted the policy's `grant_role`. VALID UNTIL only stops new password logins, so
 * revocation also closes the role's sessions and drops it.
 *
 * The password reaches the server only as a SCRAM-SHA-256 verifier, so it is not in the server's
 * statement log either. CREATE ROLE cannot take bind parameters: identifiers go through
 * escapeIdentifier and literals through escapeLiteral, never raw.
 */
export function createPostgresProvider(deps: PostgresProviderDeps): CredentialProvider {
  return {
    name: "postgres",
    async mint(request: MintRequest): Promise<MintResult> {
      if (request.expiresAt <= request.now) throw grantAlreadyEnded(request.grantId, request.expiresAt);
      const grantRole = postgresGrantRole(request.settings);
      const target = adminTarget(deps, request.settings);
      const roleName = temporaryRoleName(request.issue);
      const password = randomBytes(24).toString("base64url");
      const secrets = [password, ...target.secrets];
      const validUntil = new Date(request.expiresAt).toISOString();
      const admin = await connect(target.url, "connect as the admin role", secrets);
      try {
        await refuseDangerousRole(admin, grantRole, secrets);
        await run(admin, "BEGIN", "create the temporary login", secrets);
        try {
          await run(
            admin,
            `CREATE ROLE ${escapeIdentifier(roleName)} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD ${escapeLiteral(scramVerifier(password))} VALID UNTIL ${escapeLiteral(validUntil)}`,
            "create the temporary login",
            secrets,
          );
          await run(
            admin,
            `GRANT ${escapeIdentifier(grantRole)} TO ${escapeIdentifier(roleName)}`,
            `grant ${grantRole} to the temporary login`,
            secrets,
          );
          // Every statement of this role goes to the server's log, read back by collectUses. Without the
          // privilege (GRANT SET ON PARAMETER log_statement) the grant still works and the review says so.
          await run(admin, "SAVEPOINT statement_log", "create the temporary login", secrets);
          await admin
            .query(`ALTER ROLE ${escapeIdentifier(roleName)} SET log_statement = 'all'`)
            .catch(() => admin.query("ROLLBACK TO SAVEPOINT statement_log"));
          await run(admin, "COMMIT", "create the temporary login", secrets);
        } catch (error) {
          await admin.query("ROLLBACK").catch(() => undefined);
          throw error;
        }
        const database = admin.database ?? "postgres";
        return {
          credentialId: roleName,
          expiresAt: request.expiresAt,
          secrets: {
            PGUSER: roleName,
            PGPASSWORD: password,
            DATABASE_URL: connectionUrl(target.url, roleName, password),
          },
          outputs: {
            PGHOST: admin.host,
            PGPORT: String(admin.port),
            PGDATABASE: database,
            expires_at: validUntil,
          },
          revocationHandle: password,
        };
      } finally {
        await admin.end().catch(() => undefined);
      }
    },

    async revoke(ref: CredentialRef): Promise<void> {
      await asAdmin(deps, ref, async (admin, { roleName, secrets }) => {
        const role = escapeIdentifier(roleName);
        const exists = await admin.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [roleName]);
        if (exists.rowCount === 0) return;
        // First no new logins, then end the sessions already open: VALID UNTIL never ends those.
        await run(
          admin,
          `ALTER ROLE ${role} WITH NOLOGIN PASSWORD NULL`,
          `stop logins as ${roleName}`,
          secrets,
        );
        // Membership lets a CREATEROLE admin (not a superuser) end its sessions and take over its objects.
        await run(admin, `GRANT ${role} TO CURRENT_USER`, `take membership of ${roleName}`, secrets);
        await run(
          admin,
          "SELECT pg_terminate_backend(pid, $2) FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()",
          `end the sessions of ${roleName}`,
          secrets,
          [roleName, TERMINATE_WAIT_MS],
        );
        // Objects made during the incident are kept (owned by the admin role) for the review, not destroyed.
        await run(
          admin,
          `REASSIGN OWNED BY ${role} TO CURRENT_USER`,
          `reassign what ${roleName} owns`,
          secrets,
        );
        await run(admin, `DROP OWNED BY ${role}`, `drop the privileges of ${roleName}`, secrets);
        try {
          await run(admin, `DROP ROLE ${role}`, `drop ${roleName}`, secrets);
        } catch (error) {
          // Objects it owns in another database keep the role; it can no longer log in, which is the revocation.
          if ((error as { code?: string }).code !== "2BP01") throw error;
        }
      });
    },

    async extend(ref: CredentialRef, expiresAt: number): Promise<number> {
      return asAdmin(deps, ref, async (admin, { roleName, secrets }) => {
        const role = await admin.query<{ rolcanlogin: boolean }>(
          "SELECT rolcanlogin FROM pg_roles WHERE rolname = $1",
          [roleName],
        );
        if (!role.rows[0]?.rolcanlogin)
          throw new Error(
            `The temporary login ${roleName} no longer exists or cannot log in; there is nothing to extend.`,
          );
        // Same password, same sessions: only the date after which new logins are refused moves.
        await run(
          admin,
          `ALTER ROLE ${escapeIdentifier(roleName)} VALID UNTIL ${escapeLiteral(new Date(expiresAt).toISOString())}`,
          `extend ${roleName}`,
          secrets,
        );
        return expiresAt;
      });
    },

    async collectUses(ref: CredentialRef, grantedAt: number): Promise<UseCollection> {
      const source = "the server's CSV log (log_statement = all set on the temporary role)";
      return asAdmin(deps, ref, async (admin, { roleName, secrets }) => {
        const csv = await admin.query<{ on: boolean }>(
          "SELECT current_setting('logging_collector') = 'on' AND current_setting('log_destination') LIKE '%csvlog%' AS on",
        );
        if (!csv.rows[0]?.on)
          return {
            uses: [],
            source,
            notes: [`The server writes no CSV log, so no statement could be read. ${CSV_LOG_SETUP}`],
          };
        let uses;
        try {
          uses = await readRoleUses(admin, roleName, ref.credentialId, grantedAt);
        } catch (error) {
          throw failure("read the server's log", error, secrets);
        }
        const notes = uses.some((u) => u.kind === "statement")
          ? []
          : [
              `No statement of ${roleName} is in the log. If it did run statements, the role's log_statement could not be set: ${CSV_LOG_SETUP}`,
            ];
        return { uses, source, notes };
      });
    },

    async verifyRevoked(ref: CredentialRef): Promise<RevocationCheck> {
      const { roleName, target, secrets } = roleOf(deps, ref);
      const facts: string[] = [];
      const { roleCanLogIn, sessions } = await asAdmin(deps, ref, async (admin) => {
        const role = await admin.query<{ rolcanlogin: boolean }>(
          "SELECT rolcanlogin FROM pg_roles WHERE rolname = $1",
          [roleName],
        );
        const open = await admin.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1",
          [roleName],
        );
        return {
          roleCanLogIn: role.rows[0] ? role.rows[0].rolcanlogin : null,
          sessions: open.rows[0]?.n ?? 0,
        };
      });
      facts.push(
        roleCanLogIn === null
          ? "role does not exist"
          : roleCanLogIn
            ? "role can still log in"
            : "role exists with NOLOGIN",
      );
      facts.push(sessions === 0 ? "no sessions left" : `${sessions} session(s) still open`);
      let loginRefused: boolean | null = null;
      if (ref.revocationHandle) {
        const attempt = await tryLogin(connectionUrl(target.url, roleName, ref.revocationHandle), secrets);
        loginRefused = attempt.refused;
        facts.unshift(`login as ${roleName} ${attempt.description}`);
      } else {
        facts.unshift(`no password kept for ${roleName}, so no login was tried`);
      }
      const revoked =
        roleCanLogIn !== true &&
        sessions === 0 &&
        loginRefused !== false &&
        (loginRefused === true || roleCanLogIn === null);
      return { revoked, evidence: facts.join("; ") };
    },
  };
}

/** `bg_<issue>_<6 random [a-z0-9]>`: names the issue, never collides, and needs no quoting. */
export function temporaryRoleName(issue: number): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  let suffix = "";
  for (let i = 0; i < 6; i++) suffix += alphabet[randomInt(alphabet.length)];
  const number = Number.isSafeInteger(issue) && issue >= 0 ? String(issue).slice(0, 12) : "0";
  return `bg_${number}_${suffix}`;
}

/**
 * The verifier PostgreSQL itself stores for a SCRAM-SHA-256 password (RFC 5802/7677), made here so the
 * plaintext never travels. Our passwords are base64url ASCII, which SASLprep leaves unchanged.
 */
export function scramVerifier(
  password: string,
  salt: Buffer = randomBytes(16),
  iterations = SCRAM_ITERATIONS,
): string {
  const salted = pbkdf2Sync(password, salt, iterations, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest();
  const serverKey = createHmac("sha256", salted).update("Server Key").digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}

function temporaryRoleOf(credentialId: string): string {
  if (!TEMPORARY_ROLE.test(credentialId)) {
    throw new Error(
      `"${credentialId.slice(0, 80)}" is not a temporary login made by Breakglass (bg_<issue>_<random>); refusing to alter it.`,
    );
  }
  return credentialId;
}

interface AdminTarget {
  url: string;
  /** Strings that must never appear in a message: the URL and the password in it. */
  secrets: string[];
}

/** A granted credential's temporary role, where its admin connects, and what must never be printed. */
function roleOf(deps: PostgresProviderDeps, ref: CredentialRef) {
  const target = adminTarget(deps, ref.settings);
  return {
    roleName: temporaryRoleOf(ref.credentialId),
    target,
    secrets: [...target.secrets, ...(ref.revocationHandle ? [ref.revocationHandle] : [])],
  };
}

/** Runs `work` on an admin connection for a granted credential's role, and closes it whatever happens. */
async function asAdmin<T>(
  deps: PostgresProviderDeps,
  ref: CredentialRef,
  work: (admin: pg.Client, role: ReturnType<typeof roleOf>) => Promise<T>,
): Promise<T> {
  const role = roleOf(deps, ref);
  const admin = await connect(role.target.url, "connect as the admin role", role.secrets);
  try {
    return await work(admin, role);
  } finally {
    await admin.end().catch(() => undefined);
  }
}

function adminTarget(deps: PostgresProviderDeps, settings: Record<string, unknown>): AdminTarget {
  const raw = deps.adminConnectionString(settings);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(
      "The admin connection string is not a URL: write it as postgresql://user:password@host:5432/database.",
    );
  }
  if (url.protocol !== "postgresql:" && url.protocol !== "postgres:")
    throw new Error("The admin connection string must start with postgresql://.");
  if (typeof settings.database === "string" && settings.database)
    url.pathname = `/${encodeURIComponent(settings.database)}`;
  const secrets = [raw, url.toString(), url.password, safeDecode(url.password)].filter((s) => s.length > 0);
  return { url: url.toString(), secrets };
}

/** The admin URL with the temporary login's user and password, keeping host, port, database and TLS options. */
function connectionUrl(adminUrl: string, user: string, password: string): string {
  const url = new URL(adminUrl);
  url.username = encodeURIComponent(user);
  url.password = encodeURIComponent(password);
  for (const key of ["user", "password"]) url.searchParams.delete(key);
  return url.toString();
}

async function connect(url: string, action: string, secrets: string[]): Promise<pg.Client> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  // A server-side termination would otherwise surface as an unhandled 'error' event.
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (error) {
    throw failure(action, error, secrets);
  }
  return client;
}

async function run(
  client: pg.Client,
  sql: string,
  action: string,
  secrets: string[],
  values?: unknown[],
): Promise<void> {
  try {
    await client.query(sql, values);
  } catch (error) {
    throw failure(action, error, secrets);
  }
}

async function refuseDangerousRole(admin: pg.Client, grantRole: string, secrets: string[]): Promise<void> {
  let rows: Array<{ rolname: string; rolsuper: boolean; rolcreaterole: boolean }>;
  try {
    // The role and every role it belongs to, directly or not: a member can SET ROLE to any of them.
    const result = await admin.query<{ rolname: string; rolsuper: boolean; rolcreaterole: boolean }>(
      `WITH RECURSIVE up(oid) AS (
         SELECT oid FROM pg_roles WHERE rolname = $1
         UNION SELECT m.roleid FROM pg_auth_members m JOIN up ON m.member = up.oid
       )
       SELECT r.rolname, r.rolsuper, r.rolcreaterole FROM up JOIN pg_roles r ON r.oid = up.oid`,
      [grantRole],
    );
    rows = result.rows;
  } catch (error) {
    throw failure(`look up ${grantRole}`, error, secrets);
  }
  if (rows.length === 0) {
    throw new Error(
      `Could not mint a PostgreSQL login: grant_role ${JSON.stringify(grantRole)} does not exist on the server. Create it (CREATE ROLE ${escapeIdentifier(grantRole)} NOLOGIN) and grant it what the break-glass login may do.`,
    );
  }
  const danger = rows.find((r) => r.rolsuper || r.rolcreaterole || HOST_ACCESS_ROLES.includes(r.rolname));
  if (danger) {
    const what = danger.rolsuper
      ? "a superuser"
      : danger.rolcreaterole
        ? "allowed to create roles"
        : "able to reach the server's files or programs";
    throw new Error(
      `Could not mint a PostgreSQL login: grant_role ${JSON.stringify(grantRole)} is or belongs to ${danger.rolname}, which is ${what}; a login granted it could SET ROLE ${danger.rolname}. Grant the break-glass role only the privileges it needs.`,
    );
  }
}

async function tryLogin(
  url: string,
  secrets: string[],
): Promise<{ refused: boolean | null; description: string }> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.end().catch(() => undefined);
    return { refused: false, description: "succeeded with the kept password" };
  } catch (error) {
    const code = (error as { code?: string }).code ?? "";
    const message = redact(messageOf(error), secrets);
    if (LOGIN_REFUSED.has(code)) return { refused: true, description: `refused (${code} ${message})` };
    // Not reaching the server proves nothing about the role.
    return { refused: null, description: `could not be tried (${code || "error"} ${message})` };
  }
}

function failure(action: string, error: unknown, secrets: string[]): Error {
  const code = (error as { code?: string }).code;
  const hint =
    code === "42501" && action.includes("server's log")
      ? ` ${CSV_LOG_SETUP}`
      : code === "42501"
        ? " The admin role needs CREATEROLE (and on PostgreSQL 16 or later, ADMIN OPTION on grant_role)."
        : code === "28P01" || code === "28000"
          ? " Check the admin connection URL's user and password."
          : code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "ETIMEDOUT"
            ? " Check the admin connection URL's host and port, and that the app can reach the server."
            : "";
  return new Error(
    `Could not ${action}: ${redact(messageOf(error), secrets)}${code ? ` (${code})` : ""}.${hint}`,
  );
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
