/**
 * The authoritative record of every request: each request's signed, hash-chained entries, kept where
 * people with write access to the request repository cannot edit, delete or rewrite them (see
 * docs/architecture.md, "The ledger"). Issue comments are only its readable mirror.
 *
 * Every change is a compare-and-swap: an append names the version it extends and is refused when
 * another writer (a second replica, a sweep) got there first, so two processes can never both write
 * entry N. A reservation is a name that can be taken once, ever (one OIDC run, one credential).
 */
/** One entry: the signed record, and the comment text that mirrors it (so a deleted comment can be put back as it was). */
export interface LedgerLine {
  jws: string;
  text: string;
}

export interface LedgerChain {
  /** The version this was read at (a commit SHA for the Git ledger); null when the request has no entry yet. */
  tip: string | null;
  /** The entries, oldest first. */
  entries: readonly LedgerLine[];
}

export type AppendResult = { ok: true; chain: LedgerChain } | { ok: false; reason: "conflict" };

export interface Ledger {
  /** Where it lives, for messages ("acme/breakglass-ledger"). */
  readonly location: string;
  read(issue: number): Promise<LedgerChain>;
  /** Appends one entry after `expected`; refused (`conflict`) unless `expected` is still the latest version. */
  append(issue: number, expected: LedgerChain, entry: LedgerLine): Promise<AppendResult>;
  /** Takes `key` for `issue`; false when it was already taken, by whichever process. */
  reserve(key: string, issue: number): Promise<boolean>;
  /** Whether `key` was taken (a quick check before the lock; `reserve` is the one that decides). */
  reserved(key: string): Promise<boolean>;
}

/** The ledger could not be read or written: nothing was recorded, nothing may be decided. */
export class LedgerUnavailable extends Error {
  constructor(
    readonly location: string,
    cause: unknown,
  ) {
    super(`The Breakglass ledger (${location}) could not be reached: ${(cause as Error)?.message ?? String(cause)}`);
  }
}

/** The same contract in memory, for unit tests and fakes of GitHubPort. */
export function memoryLedger(location = "memory"): Ledger & { chains: Map<number, LedgerChain>; reservations: Map<string, number> } {
  const chains = new Map<number, LedgerChain>();
  const reservations = new Map<string, number>();
  let version = 0;
  return {
    location,
    chains,
    reservations,
    async read(issue) {
      return chains.get(issue) ?? { tip: null, entries: [] };
    },
    async append(issue, expected, entry) {
      const current = chains.get(issue) ?? { tip: null, entries: [] };
      if (current.tip !== expected.tip) return { ok: false, reason: "conflict" };
      const chain = { tip: `v${++version}`, entries: [...current.entries, entry] };
      chains.set(issue, chain);
      return { ok: true, chain };
    },
    async reserve(key, issue) {
      if (reservations.has(key)) return false;
      reservations.set(key, issue);
      return true;
    },
    async reserved(key) {
      return reservations.has(key);
    },
  };
}
