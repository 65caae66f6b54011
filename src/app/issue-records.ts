import { readRecordMarker, recordMarker } from "../core/record-marker.ts";
import type { JSONWebKeySet } from "jose";
import { appendEntry, entryHash, GENESIS_PREV, verifyChain, type AuditSigner, type SignedEntry } from "../core/audit-chain.ts";
import type { LifecycleEvent, TimedEvent } from "../core/lifecycle-events.ts";
import { foldEvents, initialState, type RequestState } from "../core/lifecycle.ts";
import type { GitHubPort, IssueComment } from "./github-port.ts";


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
  /** Records that were skipped (forged, tampered, or a lost race between replicas), for the log. */
  problems: string[];
}

/** True only for comments the app itself wrote: the author is the app's bot user, via the app. */
export const isAppComment = (comment: IssueComment, app: AppIdentity): boolean =>
  comment.user.type === "Bot" && comment.user.login === app.login && (comment.app_id === null || comment.app_id === app.appId);

/**
 * Rebuilds a request's state from the app's own signed records on the issue. Text anyone else wrote
 * (the issue body, other comments, even a copy of a real record) is never read as state: a record
 * must be in a comment authored by the app and verify against the app's keys in an unbroken chain.
 */
export async function readHistory(
  port: GitHubPort,
  issue: number,
  app: AppIdentity,
  jwks: JSONWebKeySet,
  comments?: IssueComment[],
): Promise<History> {
  const all = comments ?? (await port.listComments(issue));
  const candidates: Array<{ jws: string; seq: number; prev: string }> = [];
  for (const comment of all) {
    if (!isAppComment(comment, app)) continue;
    const jws = readRecordMarker(comment.body);
    if (!jws) continue;
    const head = peekHead(jws);
    if (head !== null) candidates.push({ jws, ...head });
  }
  // Two replicas racing on one webhook can both write entry N; the first one written wins, and so
  // does the chain that extends it: a loser's later entries (linked to its losing N) are skipped too.
  const problems: string[] = [];
  const picked: string[] = [];
  let expectedPrev = GENESIS_PREV;
  for (const c of candidates) {
    if (c.seq === picked.length && c.prev === expectedPrev) {
      picked.push(c.jws);
      expectedPrev = entryHash(c.jws);
    } else problems.push(`record seq ${c.seq} skipped (${c.seq === picked.length ? "it extends an entry that lost a race" : `expected ${picked.length}`})`);
  }
  const verified = await verifyChain(picked, jwks, { repo: `${port.owner}/${port.repo}`, issue });
  const entries = verified.ok ? verified.entries : verified.entries;
  if (!verified.ok) problems.push(`audit chain broken at entry ${verified.index}: ${verified.reason}`);
  const chain: SignedEntry[] = entries.map((entry, i) => ({ entry, jws: picked[i]! }));
  const events = entries.map((e) => ({ ...(e.event as LifecycleEvent), at: e.at }) as TimedEvent);
  const folded = foldEvents(events);
  if (!folded.ok) problems.push(`event ${folded.index} refused by the lifecycle: ${folded.refusal.message}`);
  return { comments: all, chain, events, state: folded.ok ? folded.state : folded.state, problems };
}

function peekHead(jws: string): { seq: number; prev: string } | null {
  try {
    const payload = JSON.parse(Buffer.from(jws.split(".")[1] ?? "", "base64url").toString("utf8")) as { seq?: unknown; prev?: unknown };
    return typeof payload.seq === "number" && typeof payload.prev === "string" ? { seq: payload.seq, prev: payload.prev } : null;
  } catch {
    return null;
  }
}

export const emptyHistory = (): History => ({ comments: [], chain: [], events: [], state: initialState(), problems: [] });

/**
 * Appends one event: signs it onto the chain and posts it as a comment (human text + the signed
 * record in a hidden marker). Returns the new entry; the caller folds the event into its state.
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
  await port.createComment(issue, `${input.text}\n\n${recordMarker(signed.jws)}`);
  return signed;
}
