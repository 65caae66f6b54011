import type { AuditCollection } from "./collect.ts";
import { visibleStrings } from "./format-json.ts";
import type { ChainRecord } from "./verify-records.ts";

/**
 * One `{"repo","issue","jws"}` per line, chain by chain in order: what `audit verify --file` checks offline.
 * A JWS is base64url, so passing it through the shared replacer never changes it.
 */
export function formatJsonl(collection: AuditCollection): string {
  return jsonLines([...collection.records, ...(collection.access_reviews?.records ?? [])]);
}

/** Signed records as `{"repo","issue","jws"}` lines, what `audit verify --file` reads. */
export const jsonLines = (records: readonly ChainRecord[]): string =>
  records
    .map((r) => `${JSON.stringify({ repo: r.repo, issue: r.issue, jws: r.jws }, visibleStrings)}\n`)
    .join("");
