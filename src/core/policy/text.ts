/** Small helpers for the policy reader's messages and paths. */
import { type Segment } from "./policy-errors.ts";

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function pointerToPath(pointer: string): Segment[] {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^(?:0|[1-9]\d*)$/.test(s) ? Number(s) : s));
}

export function valueAt(data: unknown, path: Segment[]): unknown {
  let node = data;
  for (const segment of path) {
    if (Array.isArray(node) && typeof segment === "number") node = node[segment];
    else if (isRecord(node) && Object.prototype.hasOwnProperty.call(node, String(segment)))
      node = node[String(segment)];
    else return undefined;
  }
  return node;
}

export function dotted(path: Segment[]): string {
  return path.map((s, i) => (typeof s === "number" ? `[${s}]` : i === 0 ? s : `.${s}`)).join("");
}

export function firstSentence(text: string | undefined): string {
  if (!text) return "";
  const end = text.search(/[.:;](?:\s|$)/);
  return end === -1 ? text : text.slice(0, end);
}

/** Quotes user-controlled text for a message: one line, no backticks, bounded length. */
export function code(text: string): string {
  const clean = text.replace(/[`\r\n\t]/g, " ");
  return `\`${clean.length > 60 ? `${clean.slice(0, 60)}…` : clean}\``;
}

export function show(value: unknown): string {
  return typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
}

export function list(items: string[]): string {
  const quoted = items.map((i) => `\`${i}\``);
  return quoted.length <= 1 ? quoted.join("") : `${quoted.slice(0, -1).join(", ")} or ${quoted.at(-1)}`;
}

/** The candidate a typo most likely meant, or null when nothing is close. */
export function closest(word: string, candidates: readonly string[]): string | null {
  const target = word.toLowerCase();
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(target, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best !== null && bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? best : null;
}

/** Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  if (a.length > 100 || b.length > 100) return Infinity;
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      row[j] = best;
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}
