import { stripInvisible } from "./strip-invisible.ts";

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Text for HTML element content and quoted attribute values (the audit report, the dashboard):
 * markup characters escaped, invisible and bidi characters removed.
 */
export function escapeHtml(value: unknown): string {
  return stripInvisible(String(value ?? "")).replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch]!);
}
