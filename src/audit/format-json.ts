import { stripInvisible } from "../core/strip-invisible.ts";
import type { AuditCollection } from "./collect.ts";

/** A JSON.stringify replacer: every string as a reader will see it (no invisible or bidi characters). */
export const visibleStrings = (_key: string, value: unknown): unknown =>
  typeof value === "string" ? stripInvisible(value) : value;

/** The rows as a pretty JSON array: every field of every request, nothing summarised away. */
export function formatJson(collection: AuditCollection): string {
  return jsonArray(collection.rows);
}

/** Any rows as a pretty JSON array, every string visible. */
export const jsonArray = (rows: readonly unknown[]): string => `${JSON.stringify(rows, visibleStrings, 2)}\n`;
