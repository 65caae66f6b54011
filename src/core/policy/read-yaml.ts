/** Reading a policy's YAML safely: nesting refused before parsing, YAML's own errors rephrased, anchors refused, lines located. */
import {
  isAlias,
  isCollection,
  isMap,
  isScalar,
  isSeq,
  visit,
  type Document,
  type Pair,
  type YAMLMap,
} from "yaml";
import { type Located, type Segment } from "./policy-errors.ts";
import { code } from "./text.ts";

/**
 * The yaml parser recurses per nesting level and relies on catching stack overflow; on some inputs V8
 * aborts the whole process instead (seen with 30k `[`). Policies never nest deeply, so refuse before parsing.
 */
export const MAX_BRACKET_DEPTH = 16;
export const MAX_INDENT_COLUMNS = 100;
export const MAX_INDICATORS_PER_LINE = 16;

/**
 * A cheap over-estimate of nesting, counted on the raw text before the parser sees it. Brackets inside
 * quoted text count too: refusing a policy with 17 unclosed `[` in a string is a fair price for never
 * handing the parser something that can take the process down.
 */
export function checkNesting(text: string): Located | null {
  let depth = 0;
  let line = 1;
  let inComment = false;
  let atLineStart = true;
  let indent = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "\n") {
      line++;
      inComment = false;
      atLineStart = true;
      indent = 0;
      continue;
    }
    if (atLineStart) {
      if (ch === " ") {
        if (++indent > MAX_INDENT_COLUMNS) {
          return {
            line,
            message: `this line is indented more than ${MAX_INDENT_COLUMNS} columns; a policy never nests that deep`,
          };
        }
        continue;
      }
      atLineStart = false;
      const end = text.indexOf("\n", i);
      const indicators = /^(?:[-?:](?:[ \t]+|$))+/.exec(text.slice(i, end === -1 ? undefined : end));
      if (indicators && indicators[0].replace(/\s/g, "").length > MAX_INDICATORS_PER_LINE) {
        return {
          line,
          message: `this line nests more than ${MAX_INDICATORS_PER_LINE} lists or keys; a policy never nests that deep`,
        };
      }
    }
    if (inComment) continue;
    if (ch === "#" && (i === 0 || /\s/.test(text[i - 1]!))) inComment = true;
    else if (ch === "[" || ch === "{") {
      if (++depth > MAX_BRACKET_DEPTH) {
        return {
          line,
          message: `brackets are nested more than ${MAX_BRACKET_DEPTH} deep; a policy never nests that deep`,
        };
      }
    } else if ((ch === "]" || ch === "}") && depth > 0) depth--;
  }
  return null;
}

export function duplicateKeyMessage(key: string | null): string {
  return `duplicate key${key === null ? "" : ` ${code(key)}`}: each key may appear only once in a mapping; keep one of them`;
}

export function yamlErrorMessage(codeName: string, message: string): string {
  switch (codeName) {
    case "MULTIPLE_DOCS":
      return "the file holds more than one YAML document (a `---` line after content); keep one policy per file";
    case "TAB_AS_INDENT":
      return "YAML syntax error: tabs are not allowed as indentation; indent with spaces";
    default:
      return `YAML syntax error: ${message}`;
  }
}

/** Scalar mapping keys by start offset: yaml reports a duplicate key by its offset only. */
export function keysByOffset(doc: Document): Map<number, string> {
  const keys = new Map<number, string>();
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && pair.key.range) keys.set(pair.key.range[0], String(pair.key.value));
    },
  });
  return keys;
}

export function yamlWarningMessage(codeName: string, message: string): string {
  if (codeName === "TAG_RESOLVE_FAILED")
    return `${message.replace(/^Unresolved tag/, "unknown YAML tag")}; remove the tag`;
  return `YAML problem: ${message}`;
}

export function findAnchorsAndAliases(doc: Document, lineAt: (offset: number) => number): Located[] {
  const found: Located[] = [];
  visit(doc, {
    Alias(_, node) {
      found.push({
        line: node.range ? lineAt(node.range[0]) : null,
        message: `YAML aliases (${code(`*${node.source}`)}) are not allowed in policies: write the value out in full`,
      });
    },
    Node(_, node) {
      if (!isAlias(node) && node.anchor) {
        found.push({
          line: node.range ? lineAt(node.range[0]) : null,
          message: `YAML anchors (${code(`&${node.anchor}`)}) are not allowed in policies: remove the anchor and write values out in full`,
        });
      }
    },
  });
  return found;
}

/**
 * Converts the YAML tree to plain data by hand rather than with `toJS()`: no alias expansion, keys that
 * must be plain scalars, duplicate detection after keys become strings (`1` and `"1"`), and `__proto__`
 * stored as an ordinary key instead of replacing the object's prototype.
 */
export function toPlain(node: unknown, problems: Located[], lineAt: (offset: number) => number): unknown {
  if (node === null || node === undefined) return null;
  if (isScalar(node)) return node.value;
  if (isMap(node)) {
    const out: Record<string, unknown> = {};
    for (const pair of node.items) {
      const key = pair.key;
      const keyLine = isScalar(key) || isCollection(key) ? (key.range ? lineAt(key.range[0]) : null) : null;
      if (!isScalar(key) || key.value === null || typeof key.value === "object") {
        problems.push({
          line: keyLine,
          message: "keys must be plain names such as `max_duration`, not lists, mappings or empty",
        });
        continue;
      }
      const name = String(key.value);
      if (Object.prototype.hasOwnProperty.call(out, name)) {
        problems.push({ line: keyLine, message: duplicateKeyMessage(name) });
        continue;
      }
      Object.defineProperty(out, name, {
        value: toPlain(pair.value, problems, lineAt),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  if (isSeq(node)) return node.items.map((item) => toPlain(item, problems, lineAt));
  return null;
}

export interface Locate {
  /** Line of the key that holds `path` (for missing or unknown keys). */
  key(path: Segment[]): number | null;
  /** Line of the value at `path` (for wrong values). */
  value(path: Segment[]): number | null;
}

export function locator(doc: Document, lineAt: (offset: number) => number): Locate {
  const rangeLine = (node: unknown): number | null =>
    (isScalar(node) || isCollection(node)) && node.range ? lineAt(node.range[0]) : null;
  // Indexed once per mapping: a file with thousands of unknown keys must not cost thousands of scans.
  const indexes = new Map<YAMLMap, Map<string, Pair>>();
  const pairsOf = (map: YAMLMap): Map<string, Pair> => {
    let index = indexes.get(map);
    if (!index) {
      index = new Map();
      for (const pair of map.items)
        if (isScalar(pair.key) && !index.has(String(pair.key.value))) index.set(String(pair.key.value), pair);
      indexes.set(map, index);
    }
    return index;
  };
  const find = (path: Segment[]): { keyLine: number | null; valueLine: number | null } => {
    let node: unknown = doc.contents;
    let keyLine: number | null = null;
    let valueLine = rangeLine(node);
    for (const segment of path) {
      if (isMap(node)) {
        const pair = pairsOf(node).get(String(segment));
        if (!pair) break;
        keyLine = rangeLine(pair.key);
        node = pair.value;
        valueLine = rangeLine(node) ?? keyLine;
      } else if (isSeq(node) && node.items[Number(segment)] !== undefined) {
        node = node.items[Number(segment)];
        keyLine = valueLine = rangeLine(node) ?? valueLine;
      } else break;
    }
    return { keyLine, valueLine };
  };
  return { key: (path) => find(path).keyLine, value: (path) => find(path).valueLine };
}
