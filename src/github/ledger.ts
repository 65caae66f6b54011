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
import { mergeUses, type UseRecord } from "../core/usage.ts";

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

/**
 * A credential that was minted but is not in the request's chain (its grant lost a race with another
 * replica, or could not be recorded) and whose immediate revocation failed. Kept in the ledger until
 * the sweep has revoked it, so no credential ever minted is left live. Nothing secret: the handle is
 * sealed with the app's seal key.
 */
export interface OrphanCredential {
  /** Unique per mint (the grant id's hash): the name it is kept under. */
  key: string;
  issue: number;
  grant_id: string;
  provider: string;
  credential_id: string;
  resource: string;
  role: string;
  settings: Record<string, unknown>;
  sealed_handle?: string;
  minted_at: string;
  expires_at: string;
  /** Why its revocation is still owed (the provider's last error). */
  error: string;
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

  /** Every request of this repository that has an entry, settled or not (for the auditor: issues can be deleted or transferred, entries cannot). */
  requests(): Promise<number[]>;
  /** Keeps a credential that must still be revoked (see OrphanCredential); idempotent per key. */
  keepOrphan(orphan: OrphanCredential): Promise<void>;
  /** The credentials still owed a revocation, for the sweep. */
  orphans(): Promise<OrphanCredential[]>;
  /** The credential was revoked: it is no longer owed. */
  dropOrphan(key: string): Promise<void>;
  /**
   * The latest version of every request of this repository, by issue, in one listing (a page per
   * 100 requests): what the sweep compares with the versions it has already checked.
   */
  tips?(): Promise<Map<number, string>>;
  /** Puts a request in the index again (a settled request that got a new entry), or takes it out. */
  setIndexed(issue: number, indexed: boolean): Promise<void>;
  /** What the request's credential was used for, oldest first (the full list; the issue shows a summary). */
  uses(issue: number): Promise<UseRecord[]>;
  /** Adds uses (those already kept, by id, are ignored); returns the ones that were new. */
  addUses(issue: number, uses: readonly UseRecord[]): Promise<UseRecord[]>;
  /**
   * Notes that this repository's request `issue` names `incident` (an issue of the ledger's owner) as
   * its incident, so closing the incident finds it without reading labels or every request.
   */
  linkIncident(issue: number, incident: IncidentIssueRef): Promise<void>;
  /** The requests (of any repository of the owner) linked to `incident`; each must still be checked against its own records. */
  linkedToIncident(
    incident: IncidentIssueRef,
  ): Promise<Array<{ owner: string; repo: string; issue: number }>>;
  /**
   * `login`'s passkeys (WebAuthn credentials registered on the app's pages, and removed), one chain
   * for the whole owner of the repository: signed entries like a request's, compare-and-swap appends.
   */
  passkeys(login: string): Promise<LedgerChain>;
  appendPasskey(login: string, expected: LedgerChain, entry: LedgerLine): Promise<AppendResult>;
  /**
   * This repository's access review of `period` (`2026-12`, `2026-Q4`): signed entries like a request's,
   * compare-and-swap appends; the first append is refused (conflict) when another process opened it.
   */
  accessReview(period: string): Promise<LedgerChain>;
  appendAccessReview(period: string, expected: LedgerChain, entry: LedgerLine): Promise<AppendResult>;
  /** Every period this repository has an access review of, oldest first. */
  accessReviewPeriods(): Promise<string[]>;
  /**
   * This repository's monthly metrics of `month` (`2026-11`): the figures the app posted, signed, so an
   * edit of the issue cannot change what an auditor reads. Compare-and-swap appends, like a review's.
   */
  metrics(month: string): Promise<LedgerChain>;
  appendMetrics(month: string, expected: LedgerChain, entry: LedgerLine): Promise<AppendResult>;
  /** Every month this repository has recorded metrics of, oldest first. */
  metricsMonths(): Promise<string[]>;
}

/** The ledger could not be read or written: nothing was recorded, nothing may be decided. */
export class LedgerUnavailable extends Error {
  constructor(
    readonly location: string,
    cause: unknown,
  ) {
    super(
      `The Breakglass ledger (${location}) could not be reached: ${(cause as Error)?.message ?? String(cause)}`,
    );
  }
}

/** The same contract in memory, for unit tests and fakes of GitHubPort. */
export function memoryLedger(location = "memory"): Ledger & {
  chains: Map<number, LedgerChain>;
  reservations: Map<string, number>;
  indexed: Set<number>;
  orphaned: Map<string, OrphanCredential>;
} {
  const chains = new Map<number, LedgerChain>();
  const passkeyChains = new Map<string, LedgerChain>();
  const reviewChains = new Map<string, LedgerChain>();
  const metricsChains = new Map<string, LedgerChain>();
  const orphaned = new Map<string, OrphanCredential>();
  const used = new Map<number, UseRecord[]>();
  const reservations = new Map<string, number>();
  const indexed = new Set<number>();
  const incidents = new Map<string, number[]>();
  let version = 0;
  return {
    location,
    chains,
    reservations,
    indexed,
    orphaned,
    async keepOrphan(orphan) {
      orphaned.set(orphan.key, orphan);
    },
    async orphans() {
      return [...orphaned.values()];
    },
    async dropOrphan(key) {
      orphaned.delete(key);
    },
    async index() {
      return [...indexed].sort((a, b) => a - b);
    },
    async requests() {
      return [...chains.keys()].filter((n) => chains.get(n)!.entries.length > 0).sort((a, b) => a - b);
    },
    async tips() {
      return new Map([...chains].filter(([, c]) => c.tip !== null).map(([n, c]) => [n, c.tip!]));
    },
    async setIndexed(issue, on) {
      if (on) indexed.add(issue);
      else indexed.delete(issue);
    },
    async read(issue) {
      return chains.get(issue) ?? { tip: null, entries: [] };
    },
    async passkeys(login) {
      return passkeyChains.get(login.toLowerCase()) ?? { tip: null, entries: [] };
    },
    async appendPasskey(login, expected, entry) {
      const current = passkeyChains.get(login.toLowerCase()) ?? { tip: null, entries: [] };
      if (current.tip !== expected.tip) return { ok: false, reason: "conflict" };
      const chain = { tip: `p${++version}`, entries: [...current.entries, entry] };
      passkeyChains.set(login.toLowerCase(), chain);
      return { ok: true, chain };
    },
    async accessReview(period) {
      return reviewChains.get(period) ?? { tip: null, entries: [] };
    },
    async appendAccessReview(period, expected, entry) {
      const current = reviewChains.get(period) ?? { tip: null, entries: [] };
      if (current.tip !== expected.tip) return { ok: false, reason: "conflict" };
      const chain = { tip: `r${++version}`, entries: [...current.entries, entry] };
      reviewChains.set(period, chain);
      return { ok: true, chain };
    },
    async accessReviewPeriods() {
      return [...reviewChains.keys()].sort();
    },
    async metrics(month) {
      return metricsChains.get(month) ?? { tip: null, entries: [] };
    },
    async appendMetrics(month, expected, entry) {
      const current = metricsChains.get(month) ?? { tip: null, entries: [] };
      if (current.tip !== expected.tip) return { ok: false, reason: "conflict" };
      const chain = { tip: `m${++version}`, entries: [...current.entries, entry] };
      metricsChains.set(month, chain);
      return { ok: true, chain };
    },
    async metricsMonths() {
      return [...metricsChains.keys()].sort();
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
      return (incidents.get(`${incident.owner}/${incident.repo}#${incident.number}`.toLowerCase()) ?? []).map(
        (issue) => ({ owner: "memory", repo: "memory", issue }),
      );
    },
    async reserve(key, issue) {
      if (reservations.has(key)) return false;
      reservations.set(key, issue);
      return true;
    },
    async reserved(key) {
      return reservations.has(key);
    },
    async uses(issue) {
      return [...(used.get(issue) ?? [])];
    },
    async addUses(issue, uses) {
      const merged = mergeUses(used.get(issue) ?? [], uses);
      used.set(issue, merged.uses);
      return merged.added;
    },
  };
}
