import type { IncidentIssueRef } from "../core/incident-issue.ts";
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
  /**
   * The app's index of this repository's requests that are not settled (see core/request-index.ts):
   * a request enters it with its first entry (before that entry is written) and leaves it only when
   * the app marks it settled. The sweep reads this, not the issues.
   */
  index(): Promise<number[]>;
  /** Every request of this repository that has entries in the ledger, settled or not (for auditors). */
  requests(): Promise<number[]>;
  /** Puts a request in the index again (a settled request that got a new entry), or takes it out. */
  setIndexed(issue: number, indexed: boolean): Promise<void>;
  /**
   * Notes that this repository's request `issue` names `incident` (an issue of the ledger's owner) as
   * its incident, so closing the incident finds it without reading labels or every request.
   */
  linkIncident(issue: number, incident: IncidentIssueRef): Promise<void>;
  /** The requests (of any repository of the owner) linked to `incident`; each must still be checked against its own records. */
  linkedToIncident(incident: IncidentIssueRef): Promise<Array<{ owner: string; repo: string; issue: number }>>;
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
export function memoryLedger(location = "memory"): Ledger & { chains: Map<number, LedgerChain>; reservations: Map<string, number>; indexed: Set<number> } {
  const chains = new Map<number, LedgerChain>();
  const reservations = new Map<string, number>();
  const indexed = new Set<number>();
  const incidents = new Map<string, number[]>();
  let version = 0;
  return {
    location,
    chains,
    reservations,
    indexed,
    async index() {
      return [...indexed].sort((a, b) => a - b);
    },
    async requests() {
      return [...chains.keys()].sort((a, b) => a - b);
    },
    async setIndexed(issue, on) {
      if (on) indexed.add(issue);
      else indexed.delete(issue);
    },
    async read(issue) {
      return chains.get(issue) ?? { tip: null, entries: [] };
    },
    async append(issue, expected, entry) {
      const current = chains.get(issue) ?? { tip: null, entries: [] };
      if (current.tip !== expected.tip) return { ok: false, reason: "conflict" };
      if (expected.tip === null) indexed.add(issue);
      const chain = { tip: `v${++version}`, entries: [...current.entries, entry] };
      chains.set(issue, chain);
      return { ok: true, chain };
    },
    async linkIncident(issue, incident) {
      const key = `${incident.owner}/${incident.repo}#${incident.number}`.toLowerCase();
      const list = incidents.get(key) ?? [];
      if (!list.includes(issue)) list.push(issue);
      incidents.set(key, list);
    },
    async linkedToIncident(incident) {
      return (incidents.get(`${incident.owner}/${incident.repo}#${incident.number}`.toLowerCase()) ?? []).map((issue) => ({ owner: "memory", repo: "memory", issue }));
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
