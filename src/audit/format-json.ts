import type { AuditCollection } from "./collect.ts";

/** The rows as a pretty JSON array: every field of every request, nothing summarised away. */
export function formatJson(collection: AuditCollection): string {
  return `${JSON.stringify(collection.rows, null, 2)}\n`;
}
