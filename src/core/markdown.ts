/**
 * Safe Markdown for everything the app writes on issues. Text a user wrote is shown as text: it can
 * never mention or notify anyone, reference other issues, render HTML, links, images, math, headings,
 * lists or tables, imitate the app's hidden markers, or escape from the cell or quote it is put in.
 *
 * Bare URLs are left as text on purpose: GitHub may autolink them, but then the visible text is the
 * whole destination (invisible and bidi characters are stripped), unlike `[text](url)`, which is
 * always neutralized. Requesters paste incident links and approvers need to be able to open them.
 */
import { stripInvisible } from "./strip-invisible.ts";

/** Comments longer than this are refused by GitHub. */
export const GITHUB_COMMENT_LIMIT = 65_536;

const ZWSP = "\u200b";
// eslint-disable-next-line no-control-regex
const LINE_BREAKS = /\r\n|[\r\n\u000b\u000c\u0085\u2028\u2029]/g;
const WORD_CHAR = /[\p{L}\p{N}]/u;
const LOGIN = /^[A-Za-z0-9][A-Za-z0-9-]{0,38}$/;
const TEAM = /^[A-Za-z0-9][A-Za-z0-9-]{0,38}\/[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;
const MARKER_KIND = /^[a-z-]+$/;
/** base64url, optionally in dot-separated segments so a compact JWS fits as it is. */
const MARKER_PAYLOAD = /^[A-Za-z0-9_.-]+$/;
const MARKER = /<!-- breakglass:([a-z-]+)(?: ([A-Za-z0-9_.-]+))? -->/g;

/** Characters replaced wherever they appear; `_` and block markers are handled by position. */
const ALWAYS: Record<string, string> = {
  "\\": "\\\\",
  "*": "\\*",
  "[": "\\[",
  "]": "\\]",
  "(": "\\(",
  ")": "\\)",
  "|": "\\|",
  "~": "\\~",
  "!": "\\!",
  // Entities rather than backslashes: a backslash means nothing inside a code span, where callers
  // also put escaped values, and a bare backtick there would end the span.
  "`": "&#96;",
  $: "&#36;",
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  "@": `@${ZWSP}`,
};

/** Line breaks to "\n", invisible characters removed (stripInvisible, shared by every output). */
function clean(text: string): string {
  return stripInvisible(String(text).replace(LINE_BREAKS, "\n"));
}

/** Cuts to `maxLength` code points (never half a surrogate pair), marking the cut with "…". */
function cut(text: string, maxLength: number): string {
  const chars = Array.from(text);
  const max = Math.max(1, Math.floor(maxLength));
  if (chars.length <= max) return text;
  return `${chars
    .slice(0, max - 1)
    .join("")
    .trimEnd()}…`;
}

/** Escapes one line of text that contains no line break. */
function escapeLine(line: string): string {
  const chars = Array.from(line.replace(/\t/g, " "));
  const isWord = (i: number) => WORD_CHAR.test(chars[i] ?? "");
  const isDigit = (i: number) => /[0-9]/.test(chars[i] ?? "");
  let out = "";
  chars.forEach((ch, i) => {
    const replacement = ALWAYS[ch];
    if (replacement !== undefined) out += replacement;
    // `_` between two letters or digits can neither open nor close emphasis (snake_case stays clean).
    else if (ch === "_") out += isWord(i - 1) && isWord(i + 1) ? "_" : "\\_";
    // `#123`, `owner/repo#123` and `GH-123` would link, and leave a cross-reference in that issue.
    else if (ch === "#" && isDigit(i + 1)) out += `#${ZWSP}`;
    else if (ch === "-" && isDigit(i + 1) && /^gh$/i.test(`${chars[i - 2]}${chars[i - 1]}`))
      out += `-${ZWSP}`;
    else out += ch;
  });
  return neutralizeBlockStart(out);
}

/** A heading, list item, setext underline or ordered list start at the beginning of a line. */
function neutralizeBlockStart(line: string): string {
  const ordered = /^(\d{1,9})\./.exec(line);
  if (ordered) return `${ordered[1]}\\.${line.slice(ordered[0].length)}`;
  return /^[#+\-=]/.test(line) ? `\\${line}` : line;
}

/**
 * A single-line value for a sentence or a table cell: line breaks and runs of spaces collapse to
 * one space, Markdown and HTML are escaped, mentions and issue references neutralized, and the
 * text is cut to `maxLength` characters (of the input) with "…".
 */
export function escapeInline(text: string, maxLength = 300): string {
  const flat = clean(text).replace(/\s+/g, " ").trim();
  return escapeLine(cut(flat, maxLength));
}

/**
 * Multi-line user text as a blockquote. Every line is escaped like {@link escapeInline} and
 * prefixed with "> ", so nothing can end the quote, open a code block, a heading or an HTML
 * comment. Leading indentation is dropped (four spaces would make a code block) and runs of
 * blank lines shrink to one.
 */
export function quoteBlock(text: string, maxLength = 4000): string {
  const body = cut(clean(text).trim(), maxLength);
  if (body === "") return "> _empty_";
  const lines: string[] = [];
  for (const raw of body.split("\n")) {
    const line = raw.replace(/\s+/g, " ").trim();
    if (line === "" && (lines.length === 0 || lines.at(-1) === ">")) continue;
    lines.push(line === "" ? ">" : `> ${escapeLine(line)}`);
  }
  return lines.join("\n");
}

/**
 * "@login" or "@org/team" for a name the app resolved itself (from GitHub's API or CODEOWNERS).
 * Anything that is not a valid login or team is shown escaped and does not notify anyone;
 * bot accounts such as "app[bot]" are named without notifying them.
 */
export function mention(login: string): string {
  const name = String(login).replace(/^@/, "");
  return LOGIN.test(name) || TEAM.test(name) ? `@${name}` : escapeInline(name, 100);
}

/**
 * `<!-- breakglass:KIND PAYLOAD -->`, invisible on GitHub. Kind and payload come from the app
 * itself; a value that could break out of the comment is a programming error and throws.
 */
export function hiddenMarker(kind: string, payload?: string): string {
  if (!MARKER_KIND.test(kind))
    throw new TypeError(`hiddenMarker: kind must match ${MARKER_KIND}, got ${JSON.stringify(kind)}`);
  if (payload === undefined) return `<!-- breakglass:${kind} -->`;
  if (!MARKER_PAYLOAD.test(payload))
    throw new TypeError("hiddenMarker: payload must be base64url (dots allowed between segments)");
  return `<!-- breakglass:${kind} ${payload} -->`;
}

/**
 * The app's hidden markers in a comment body, in order.
 *
 * Call this ONLY on comments the app itself authored (check the comment's author is the app's bot
 * user first). Anyone can type these markers into an issue body or comment; text from anyone
 * else must never be read as state. Markers inside text escaped by this module do not match.
 */
export function readHiddenMarkers(body: string): Array<{ kind: string; payload: string | null }> {
  return Array.from(String(body).matchAll(MARKER), (m) => ({ kind: m[1]!, payload: m[2] ?? null }));
}

/**
 * Fits a comment into GitHub's limit: cuts at a line boundary, closes a code fence left open, and
 * appends "… (truncated, see LINK)". Hidden markers are never cut in half, and markers from the
 * removed part are kept at the end, since the app's records live in them. (Only if those markers
 * alone exceed the limit can the result be longer than `limit`.)
 */
export function truncateComment(body: string, limit = GITHUB_COMMENT_LIMIT, moreLink?: string): string {
  if (body.length <= limit) return body;
  const link = moreLink && /^https:\/\/[^\s<>()[\]`"'\\]+$/.test(moreLink) ? moreLink : null;
  const suffix = `\n\n… (truncated${link ? `, see ${link}` : ""})`;
  const markers = Array.from(body.matchAll(MARKER), (m) => ({
    start: m.index,
    end: m.index + m[0].length,
    text: m[0],
  }));
  const CLOSE_FENCE = "\n```";
  let end = limit;
  for (;;) {
    const moved = markers.filter((m) => m.end > end);
    const tail = moved.map((m) => `\n${m.text}`).join("");
    const budget = Math.max(0, limit - suffix.length - CLOSE_FENCE.length - tail.length);
    let next = Math.min(end, budget);
    const inside = markers.find((m) => m.start < next && next < m.end);
    if (inside) next = inside.start;
    const lineEnd = body.lastIndexOf("\n", next);
    if (lineEnd > 0) next = lineEnd;
    else if (/[\ud800-\udbff]/.test(body[next - 1] ?? "")) next -= 1;
    if (next === end) {
      const head = body.slice(0, end);
      return `${head}${openFence(head) ? CLOSE_FENCE : ""}${suffix}${tail}`;
    }
    end = next;
  }
}

function openFence(text: string): boolean {
  let open = false;
  for (const line of text.split("\n")) if (/^ {0,3}(?:```|~~~)/.test(line)) open = !open;
  return open;
}

/**
 * A GitHub table. Cells must already be escaped (escapeInline, mention); line breaks in them are
 * flattened so a row cannot end early, and missing cells are filled.
 */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const cell = (value: string | undefined) => (value ?? "").replace(/\r\n|[\r\n]/g, " ").trim() || " ";
  const line = (cells: readonly (string | undefined)[]) =>
    `| ${headers.map((_, i) => cell(cells[i])).join(" | ")} |`;
  return [line(headers), `|${headers.map(() => " --- ").join("|")}|`, ...rows.map(line)].join("\n");
}
