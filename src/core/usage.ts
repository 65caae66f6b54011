/**
 * What a granted credential was used for, as providers and relying services report it: one record a
 * use. Records never carry secrets or statement parameters: statements are kept normalised (every
 * literal replaced by `?`), introspections keep the service's name, the scopes and the answer.
 */
export type UseKind = "introspection" | "statement" | "session" | "api_call";

export interface UseRecord {
  /** Stable id, so the same use reported twice (a re-read log, a retried call) is kept once. */
  id: string;
  at: string;
  provider: string;
  credential_id: string;
  kind: UseKind;
  /** The normalised statement (PostgreSQL), the API event name (CloudTrail), or the service's name (introspection). */
  action: string;
  /** Who reported or made the use: the relying service, the database session, the AWS event source. */
  source?: string;
  /** Introspection: the scopes the service asked for. */
  scopes?: string[];
  /** Introspection: "active" or "inactive: <reason>"; CloudTrail: the error code, if any. */
  result?: string;
}

export interface UseSummary {
  count: number;
  first: string | null;
  last: string | null;
  by_kind: Partial<Record<UseKind, number>>;
  /** Distinct database sessions (PostgreSQL) seen. */
  sessions: number;
  /** Uses answered inactive or failed (a credential presented after revocation, say). */
  refused: number;
  /** The most frequent actions, most frequent first. */
  top: Array<{ action: string; count: number }>;
}

/** Longest action kept: a statement is cut there (the full list has the same cut). */
export const MAX_ACTION_CHARS = 200;
/** Most uses kept per request; beyond it only the count grows (see summariseUses). */
export const MAX_USES_KEPT = 10_000;

/**
 * A statement with every literal replaced by `?`: quoted strings (with '' escapes, E'' and $tag$
 * dollar quoting), numbers, and bind placeholders. So `ALTER ROLE x PASSWORD 'hunter2'` keeps no
 * password and `WHERE id = 42` no value.
 */
export function normaliseStatement(sql: string): string {
  const out = sql
    .replace(/\$([A-Za-z_]\w*)?\$[\s\S]*?\$\1\$/g, "?")
    .replace(/\b[EeBbXxUu]&?'(?:[^'\\]|''|\\.)*'/g, "?")
    .replace(/'(?:[^']|'')*'?/g, "?")
    .replace(/\$\d+/g, "?")
    .replace(/(?<![\w"])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\b/g, "?")
    .replace(/\s+/g, " ")
    .trim();
  return out.length > MAX_ACTION_CHARS ? `${out.slice(0, MAX_ACTION_CHARS - 1)}…` : out;
}

/** Counts, first and last, and the `topN` most frequent actions (ties by first seen). */
export function summariseUses(uses: readonly UseRecord[], topN = 5): UseSummary {
  const byKind: Partial<Record<UseKind, number>> = {};
  const counts = new Map<string, number>();
  const sessions = new Set<string>();
  let first: string | null = null;
  let last: string | null = null;
  let refused = 0;
  for (const use of uses) {
    byKind[use.kind] = (byKind[use.kind] ?? 0) + 1;
    if (first === null || use.at < first) first = use.at;
    if (last === null || use.at > last) last = use.at;
    if ((use.kind === "session" || use.kind === "statement") && use.source) sessions.add(use.source);
    if (use.result && use.result !== "active") refused++;
    if (use.kind !== "session") counts.set(use.action, (counts.get(use.action) ?? 0) + 1);
  }
  const top = [...counts.entries()]
    .map(([action, count], order) => ({ action, count, order }))
    .sort((a, b) => b.count - a.count || a.order - b.order)
    .slice(0, topN)
    .map(({ action, count }) => ({ action, count }));
  return { count: uses.length, first, last, by_kind: byKind, sessions: sessions.size, refused, top };
}

/** Adds new uses to the kept list: duplicates (same id) dropped, oldest first, at most MAX_USES_KEPT. */
export function mergeUses(
  kept: readonly UseRecord[],
  added: readonly UseRecord[],
): { uses: UseRecord[]; added: UseRecord[] } {
  const ids = new Set(kept.map((u) => u.id));
  const fresh = added.filter((u) => !ids.has(u.id) && (ids.add(u.id), true));
  const room = Math.max(0, MAX_USES_KEPT - kept.length);
  const taken = fresh.slice(0, room);
  const uses = [...kept, ...taken].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  return { uses, added: taken };
}

/** "12 uses (10 introspections, 2 refused) from … to …", or "no use recorded". */
export function describeUseCount(summary: UseSummary): string {
  if (summary.count === 0) return "no use recorded";
  const kinds = (Object.entries(summary.by_kind) as Array<[UseKind, number]>).map(
    ([k, n]) => `${n} ${KIND_WORDS[k]}${n === 1 ? "" : "s"}`,
  );
  const extra = [
    ...kinds,
    ...(summary.sessions ? [`${summary.sessions} session${summary.sessions === 1 ? "" : "s"}`] : []),
    ...(summary.refused ? [`${summary.refused} refused`] : []),
  ];
  return `${summary.count} use${summary.count === 1 ? "" : "s"} (${extra.join(", ")})`;
}

const KIND_WORDS: Record<UseKind, string> = {
  introspection: "introspection",
  statement: "statement",
  session: "login",
  api_call: "API call",
};
