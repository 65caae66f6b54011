/**
 * The one place that decides which characters never reach a reader. Everything the app and the
 * auditor tools write for people — issue comments, the status comment, the dashboard, Slack and
 * webhook notifications, the md/csv/html/json/jsonl exports — goes through {@link stripInvisible},
 * usually inside an escaping helper (markdown.ts, escape-html.ts, format-csv.ts, notifier.ts).
 *
 * These characters hide or reorder what a reader sees: U+202E makes "exe.txt" read "txt.exe", a
 * zero-width space makes "/break-glass" look like it has a reason, a tag character carries text
 * nobody can see. Removed:
 * - every Unicode format character (`\p{Cf}`): soft hyphen, U+061C, U+180E, U+200B–U+200F (zero-width
 *   space/non-joiner/joiner, LRM, RLM), U+202A–U+202E (embeddings, overrides), U+2060–U+2064 (word
 *   joiner, invisible operators), U+2066–U+2069 (isolates), U+FEFF, U+FFF9–U+FFFB, U+E0001 and the
 *   tag characters U+E0020–U+E007F, Arabic/Syriac number signs, and so on;
 * - control characters (`\p{Cc}`) other than tab, line feed and carriage return;
 * - other default-ignorable characters that render as nothing: U+034F, Hangul fillers (U+115F,
 *   U+1160, U+3164, U+FFA0), U+17B4/U+17B5, Mongolian variation selectors, U+2065, U+FFF0–U+FFF8
 *   and the rest of U+E0000–U+E0FFF (unassigned or variation selectors supplement).
 *
 * Kept on purpose: the ordinary variation selectors U+FE00–U+FE0F (emoji presentation) and line
 * separators (callers that need one line flatten them). The price is that emoji joined with ZWJ
 * ("👩‍💻") show as their parts and subdivision flags as a plain black flag; the words are unchanged.
 * Persian text written with ZWNJ reads slightly differently but keeps its letters.
 *
 * This runs on output only: the signed records keep exactly what people typed, as evidence.
 */
// The lint rules against control and combining characters in patterns do not apply: they are the point.
const INVISIBLE =
  // eslint-disable-next-line no-control-regex, no-misleading-character-class
  /[\p{Cf}\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u2065\u3164\uffa0\ufff0-\ufff8]|[\u{e0000}-\u{e0fff}]/gu;

/** The text without any invisible, bidi or control character (see the module comment for the list). */
export function stripInvisible(text: string): string {
  return String(text).replace(INVISIBLE, "");
}
