import type pg from "pg";
import { normaliseStatement, type UseRecord } from "../core/usage.ts";

/**
 * Reads what a temporary role did from the server's own CSV log (`log_destination = csvlog`,
 * `logging_collector = on`; the provider sets `log_statement = all` on the role it creates). The admin
 * role lists the log directory with pg_ls_logdir() (pg_monitor) and reads the files with
 * pg_read_file() (EXECUTE granted), both documented server functions; a path relative to the data
 * directory needs no pg_read_server_files. Only the `message` column is used: the `detail` column,
 * where bind parameters are logged, is never read, and statements are normalised (literals to `?`).
 */
export const CSV_LOG_SETUP =
  "Set logging_collector = on and log_destination = 'csvlog' on the server (log_connections = on to see logins with no statement), and grant the admin role: GRANT pg_monitor TO <admin>; GRANT EXECUTE ON FUNCTION pg_read_file(text, bigint, bigint) TO <admin> (in the database the admin connects to); GRANT SET ON PARAMETER log_statement TO <admin>.";

/** Most bytes read from the log per collection (the newest files first). */
const MAX_LOG_BYTES = 64 * 1024 * 1024;
// csvlog columns (PostgreSQL 15 documentation, "Using CSV-Format Log Output").
const COL = {
  time: 0,
  user: 1,
  database: 2,
  session: 5,
  line: 6,
  tag: 7,
  severity: 11,
  message: 13,
} as const;

export async function readRoleUses(
  admin: pg.Client,
  role: string,
  credentialId: string,
  sinceMs: number,
): Promise<UseRecord[]> {
  const files = await admin.query<{ name: string; size: string; modification: Date }>(
    "SELECT name, size, modification FROM pg_ls_logdir() WHERE name LIKE '%.csv' ORDER BY modification DESC",
  );
  const uses: UseRecord[] = [];
  let budget = MAX_LOG_BYTES;
  for (const file of files.rows) {
    if (file.modification.getTime() < sinceMs - 60_000 || budget <= 0) break;
    const size = Math.min(Number(file.size), budget);
    budget -= size;
    const { rows } = await admin.query<{ text: string }>("SELECT pg_read_file($1, 0, $2) AS text", [
      `log/${file.name}`,
      size,
    ]);
    for (const row of parseCsv(rows[0]?.text ?? "")) {
      if (row[COL.user] !== role) continue;
      const use = useOf(row, credentialId);
      if (use && Date.parse(use.at) >= sinceMs - 1000) uses.push(use);
    }
  }
  return uses;
}

function useOf(row: string[], credentialId: string): UseRecord | null {
  const message = row[COL.message] ?? "";
  const ms = Date.parse((row[COL.time] ?? "").replace(" UTC", "Z").replace(" ", "T"));
  if (Number.isNaN(ms)) return null;
  const at = new Date(ms).toISOString();
  const base = {
    id: `${row[COL.session]}:${row[COL.line]}`,
    at,
    provider: "postgres",
    credential_id: credentialId,
    source: `session ${row[COL.session]} on ${row[COL.database] ?? "?"}`,
  };
  const statement = /^(?:statement|execute [^:]*): ([\s\S]*)$/.exec(message);
  if (statement) return { ...base, kind: "statement", action: normaliseStatement(statement[1]!) };
  if (message.startsWith("connection authorized:")) return { ...base, kind: "session", action: "login" };
  if (row[COL.severity] === "ERROR" || row[COL.severity] === "FATAL")
    return {
      ...base,
      kind: "statement",
      action: `${row[COL.severity]} (${row[COL.tag] || "?"})`,
      result: row[COL.severity]!.toLowerCase(),
    };
  return null;
}

/** RFC 4180 CSV as PostgreSQL writes it: quoted fields with "" escapes and newlines inside quotes. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else if (c !== "\r") field += c;
  }
  if (field || row.length) rows.push([...row, field]);
  return rows;
}
