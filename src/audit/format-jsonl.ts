import type { AuditCollection } from "./collect.ts";

/** One `{"repo","issue","jws"}` per line, chain by chain in order: what `audit verify --file` checks offline. */
export function formatJsonl(collection: AuditCollection): string {
  return collection.records.map((r) => `${JSON.stringify({ repo: r.repo, issue: r.issue, jws: r.jws })}\n`).join("");
}
