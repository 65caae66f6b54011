import { readRecordMarker } from "../core/record-marker.ts";
import type { IssueComment } from "../app/github-port.ts";

export const DEFAULT_APP_LOGIN = "breakglass[bot]";

/** The signed records of one request issue, picked the way the app picks them (issue-records.ts). */
export interface IssueRecords {
  /** For each seq from 0, the first record written with it: the chain the app reads. */
  chain: string[];
  /** Records repeating a seq already taken: two replicas of the app raced on one webhook. */
  duplicates: Array<{ seq: number; jws: string; commentId: number }>;
  /** The first record whose seq skips ahead: every entry from `expected` on is lost to the app. */
  gap: { expected: number; found: number; commentId: number } | null;
  /** App comments whose record cannot be read at all (edited by hand?). */
  unreadable: number[];
  /** Record markers in comments the app did not write: copies or forgeries, never read. */
  ignored: number;
}

/**
 * Only comments by the app's bot user count. The CLI knows the app by its login, not its numeric id:
 * GitHub reserves `<slug>[bot]` logins for the app of that slug, and only it can post as that user.
 */
export const isAppAuthored = (comment: IssueComment, appLogin: string): boolean =>
  comment.user.type === "Bot" && comment.user.login.toLowerCase() === appLogin.toLowerCase();

export function extractIssueRecords(comments: readonly IssueComment[], appLogin: string): IssueRecords {
  const out: IssueRecords = { chain: [], duplicates: [], gap: null, unreadable: [], ignored: 0 };
  const ahead: Array<{ seq: number; jws: string; commentId: number }> = [];
  for (const comment of comments) {
    const jws = readRecordMarker(comment.body);
    if (!jws) continue;
    if (!isAppAuthored(comment, appLogin)) {
      out.ignored++;
      continue;
    }
    const seq = peekSeq(jws);
    if (seq === null) out.unreadable.push(comment.id);
    else if (seq === out.chain.length) out.chain.push(jws);
    else if (seq < out.chain.length) out.duplicates.push({ seq, jws, commentId: comment.id });
    else ahead.push({ seq, jws, commentId: comment.id });
  }
  // A record written out of order still fills its place (as in the app); only what stays ahead is a gap.
  for (const record of ahead) {
    if (record.seq < out.chain.length) out.duplicates.push(record);
    else if (!out.gap || record.seq < out.gap.found) out.gap = { expected: out.chain.length, found: record.seq, commentId: record.commentId };
  }
  return out;
}

/** The seq a record claims, read without checking anything: only to put records in order. */
export function peekSeq(jws: string): number | null {
  const payload = decodePayload(jws);
  const seq = payload?.seq;
  return typeof seq === "number" && Number.isSafeInteger(seq) && seq >= 0 ? seq : null;
}

/** The JSON payload of a compact JWS, unverified; null when it is not a JSON object. */
export function decodePayload(jws: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(jws.split(".")[1] ?? "", "base64url").toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
