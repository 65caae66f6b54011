import type { AuditCollection } from "./collect.ts";
import { visibleStrings } from "./format-json.ts";

/**
 * One `{"repo","issue","jws"}` per line, chain by chain in order: what `audit verify --file` checks offline.
 * A JWS is base64url, so passing it through the shared replacer never changes it.
 */
export function formatJsonl(collection: AuditCollection): string {
  return [...collection.records, ...(collection.access_reviews?.records ?? [])]
    .map((r) => `${JSON.stringify({ repo: r.repo, issue: r.issue, jws: r.jws }, visibleStrings)}\n`)
    .join("");
}
