import { readRecordMarker, recordMarker } from "../core/record-marker.ts";
import type { JSONWebKeySet } from "jose";
import { appendEntry, verifyChain, type AuditSigner, type SignedEntry } from "../core/audit-chain.ts";
import type { LifecycleEvent, TimedEvent } from "../core/lifecycle-events.ts";
import { foldEvents, initialState, type RequestState } from "../core/lifecycle.ts";
import type { GitHubPort, IssueComment } from "./github-port.ts";
import type { LedgerChain, LedgerLine } from "./ledger.ts";

/** Who the app is on GitHub: only comments by this identity can carry records. */
export interface AppIdentity {
  appId: number;
  /** "<slug>[bot]" */
  login: string;
}

export interface History {
  comments: IssueComment[];
  chain: SignedEntry[];
  events: TimedEvent[];
  state: RequestState;
  /** Records that were skipped (forged, tampered, refused by the lifecycle), for the log. */
  problems: string[];
  /** The ledger version the chain was read at: the next append must extend exactly this. */
  ledger: LedgerChain;
  /** Ledger entries whose comment is gone or was changed: someone deleted or edited the app's comment, or its post failed. */
  mirror: MirrorProblem[];
  /** App comments carrying a record the ledger does not hold: never read as state. */
  unledgered: number[];
  /** The first ledger entry that does not verify (the chain is read up to it), or null. */
  broken: { index: number; reason: string } | null;
}

export interface MirrorProblem {
  seq: number;
  id: string;
  type: string;
  /** `missing`: no app comment carries the record; `edited`: the comment carrying it no longer reads as the app wrote it. */
  kind: "missing" | "edited";
  commentId: number | null;
}

/** True only for comments the app itself wrote: the author is the app's bot user, via the app. */
export const isAppComment = (comment: IssueComment, app: AppIdentity): boolean =>
  comment.user.type === "Bot" &&
  comment.user.login === app.login &&
  (comment.app_id === null || comment.app_id === app.appId);

/** The comment the app posts for a ledger entry: the human sentence, then the signed record in a hidden marker. */
export const mirrorBody = (line: LedgerLine): string => `${line.text}\n\n${recordMarker(line.jws)}`;

/**
 * The one record reader, for the app and the auditor CLI alike. State is the fold of the request's
 * entries in the ledger, which only the app can write; the comments are compared with it and never
 * read as state: a comment record that is missing, edited or not in the ledger is reported, not
 * believed. Entries must verify against the app's keys in an unbroken chain.
 */
export async function readHistory(
  port: GitHubPort,
  issue: number,
  app: AppIdentity,
  jwks: JSONWebKeySet,
  comments?: IssueComment[],
): Promise<History> {
  const [all, ledger] = await Promise.all([
    comments ? Promise.resolve(comments) : port.listComments(issue),
    port.ledger.read(issue),
  ]);
  const problems: string[] = [];
  const jwsList = ledger.entries.map((e) => e.jws);
  const verified = await verifyChain(jwsList, jwks, { repo: `${port.owner}/${port.repo}`, issue });
  if (!verified.ok) problems.push(`ledger entry ${verified.index} does not verify: ${verified.reason}`);
  const entries = verified.entries;
  const chain: SignedEntry[] = entries.map((entry, i) => ({ entry, jws: jwsList[i]! }));
  const events = entries.map((e) => ({ ...(e.event as LifecycleEvent), at: e.at }) as TimedEvent);
  const folded = foldEvents(events);
  if (!folded.ok) problems.push(`event ${folded.index} refused by the lifecycle: ${folded.refusal.message}`);
  const { mirror, unledgered } = compareMirror(ledger.entries.slice(0, chain.length), chain, all, app);
  for (const m of mirror)
    problems.push(
      `record ${m.seq} (${m.type}) is ${m.kind === "missing" ? "missing from the comments" : `edited in comment ${m.commentId}`}`,
    );
  if (unledgered.length)
    problems.push(`comment(s) ${unledgered.join(", ")} carry records the ledger does not hold; ignored`);
  return {
    comments: all,
    chain,
    events,
    state: folded.state,
    problems,
    ledger,
    mirror,
    unledgered,
    broken: verified.ok ? null : { index: verified.index, reason: verified.reason },
  };
}

/** Which ledger entries the issue's comments no longer show as the app wrote them. */
export function compareMirror(
  lines: readonly LedgerLine[],
  chain: readonly SignedEntry[],
  comments: readonly IssueComment[],
  app: AppIdentity,
): { mirror: MirrorProblem[]; unledgered: number[] } {
  const expected = new Map(lines.map((l) => [l.jws, mirrorBody(l)]));
  const byRecord = new Map<string, IssueComment>();
  const unledgered: number[] = [];
  for (const comment of comments) {
    if (!isAppComment(comment, app)) continue;
    const jws = readRecordMarker(comment.body);
    if (!jws) continue;
    if (!expected.has(jws)) unledgered.push(comment.id);
    // A record re-posted after tampering leaves the intact copy as the one that counts.
    else if (!byRecord.has(jws) || comment.body === expected.get(jws)) byRecord.set(jws, comment);
  }
  const mirror: MirrorProblem[] = [];
  lines.forEach((line, seq) => {
    const comment = byRecord.get(line.jws);
    const meta = {
      seq,
      id: chain[seq]?.entry.id ?? "?",
      type: (chain[seq]?.entry.event as { type?: string } | undefined)?.type ?? "?",
    };
    if (!comment) mirror.push({ ...meta, kind: "missing", commentId: null });
    else if (comment.body !== expected.get(line.jws))
      mirror.push({ ...meta, kind: "edited", commentId: comment.id });
  });
  return { mirror, unledgered };
}

export const emptyHistory = (): History => ({
  comments: [],
  chain: [],
  events: [],
  state: initialState(),
  problems: [],
  ledger: { tip: null, entries: [] },
  mirror: [],
  unledgered: [],
  broken: null,
});

/**
 * Appends one event outside a session (fixtures, tools): signs it onto the chain, writes it to the
 * ledger after the version it reads now, then posts the mirror comment.
 */
export async function appendRecord(
  port: GitHubPort,
  issue: number,
  chain: readonly SignedEntry[],
  signer: AuditSigner,
  input: { id: string; at: string; event: LifecycleEvent; text: string },
): Promise<SignedEntry> {
  const signed = await appendEntry(
    chain,
    { at: input.at, repo: `${port.owner}/${port.repo}`, issue, id: input.id, event: input.event },
    signer,
  );
  const line = { jws: signed.jws, text: input.text };
  const written = await port.ledger.append(issue, await port.ledger.read(issue), line);
  if (!written.ok) throw new Error(`#${issue}: another writer appended to the ledger first`);
  await port.createComment(issue, mirrorBody(line));
  return signed;
}
