import picomatch from "picomatch";

/** Where GitHub looks for CODEOWNERS, in order; the first one found is used. */
export const CODEOWNERS_LOCATIONS = [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"] as const;

export interface CodeownersRule {
  line: number;
  pattern: string;
  owners: string[];
}

export interface OwnersMatch {
  owners: string[];
  line: number | null;
  pattern: string | null;
}

export interface CompiledCodeowners {
  rules: CodeownersRule[];
  errors: Array<{ line: number; message: string }>;
  ownersOf(path: string): OwnersMatch;
}

export function locateCodeowners(exists: (path: string) => boolean): string | null {
  return CODEOWNERS_LOCATIONS.find((p) => exists(p)) ?? null;
}

const OWNER = /^(@[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\/[A-Za-z0-9._-]+)?|[^@\s]+@[^@\s]+\.[^@\s]+)$/;

/**
 * Parses CODEOWNERS as GitHub documents it. Lines GitHub treats as errors (negation `!`, character
 * ranges `[ ]`, an escaped leading `\#`, malformed owners) are reported with their line number
 * rather than silently dropped; a rule with an invalid owner keeps its valid owners.
 */
export function parseCodeowners(text: string): {
  rules: CodeownersRule[];
  errors: Array<{ line: number; message: string }>;
} {
  const rules: CodeownersRule[] = [];
  const errors: Array<{ line: number; message: string }> = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const content = raw.replace(/\s+#.*$/, "").trim();
    if (content === "" || content.startsWith("#")) return;
    const [pattern, ...owners] = content.split(/\s+/) as [string, ...string[]];
    if (pattern.startsWith("\\#"))
      return void errors.push({
        line,
        message: `"${pattern}": escaping a leading # with \\ does not work in CODEOWNERS; rename the path or match it with a wildcard.`,
      });
    if (pattern.startsWith("!"))
      return void errors.push({
        line,
        message: `"${pattern}": negation with ! is not supported in CODEOWNERS; list the owners of the narrower path on a later line instead.`,
      });
    if (/[[\]]/.test(pattern))
      return void errors.push({
        line,
        message: `"${pattern}": character ranges [ ] are not supported in CODEOWNERS; use * or list paths one by one.`,
      });
    const valid: string[] = [];
    for (const owner of owners) {
      if (OWNER.test(owner)) valid.push(owner);
      else
        errors.push({
          line,
          message: `"${owner}" is not an owner: write @user, @org/team or an email address.`,
        });
    }
    rules.push({ line, pattern, owners: valid });
  });
  return { rules, errors };
}

/** Translates one CODEOWNERS pattern into picomatch globs with GitHub's semantics. */
export function patternGlobs(pattern: string): string[] {
  const directoryOnly = pattern.endsWith("/");
  let body = pattern.replace(/\/+$/, "");
  // gitignore rule: a slash at the start or in the middle anchors the pattern to the root.
  const anchored = body.includes("/");
  body = body.replace(/^\//, "");
  if (body === "" || (body === "*" && !anchored)) return ["**"];
  const base = anchored ? body : `**/${body}`;
  // `docs/*` matches files directly in docs/ only (unlike gitignore); a trailing `/*` never descends.
  if (body.endsWith("/*")) return [base];
  if (directoryOnly) return [`${base}/**`];
  return [base, `${base}/**`];
}

/** Compiles every rule once, so resolving many paths against a large file stays fast. */
export function compileCodeowners(text: string): CompiledCodeowners {
  const { rules, errors } = parseCodeowners(text);
  return compileRules(rules, errors);
}

/**
 * A path segment that picomatch can only match by string equality: no glob or extglob syntax, no
 * escapes, and not `.`/`..` (picomatch normalises `./`). Anything else is left out of the index.
 */
const LITERAL_SEGMENT = /^(?!\.+$)[\w.~%=,:#&-]+$/;
/** `*` followed by a literal suffix with a dot, e.g. `*.js`, `*.tar.gz`: indexed by the text after the last dot. */
const STAR_EXTENSION = /^\*([\w.~%=,:#&-]*\.[\w~%=,:#&-]+)$/;

interface TrieNode {
  rules: number[];
  children: Map<string, TrieNode>;
}

const newNode = (): TrieNode => ({ rules: [], children: new Map() });
const extensionOf = (segment: string): string | null => {
  const dot = segment.lastIndexOf(".");
  return dot < 0 ? null : segment.slice(dot + 1);
};

/** One rule's matcher, compiled on first use (most rules of a large file are never tested). */
function ruleMatcher(pattern: string): (path: string) => boolean {
  const literal =
    !/[*?]/.test(pattern) && pattern.startsWith("/") && !pattern.endsWith("/") ? pattern.slice(1) : null;
  if (literal !== null) return (p) => p === literal || p.startsWith(`${literal}/`);
  let compiled: ((p: string) => boolean) | null = null;
  return (p) => (compiled ??= picomatch(patternGlobs(pattern), { dot: true, nocase: false }))(p);
}

/**
 * Rules are indexed by what a matching path must contain, so a lookup tests only the few rules
 * that can match, from last to first, and stops at the first match (last matching rule wins):
 * - anchored rules by their leading literal segments (a trie walked along the path's segments);
 * - unanchored one-segment rules by that segment (`logs`, `apps/`) or by its extension (`*.js`);
 * - every other rule (`*`, a leading `**`, `/*.md`, `foo*`…) is a candidate for every path.
 * The index only narrows the candidates; each candidate is still decided by the same matcher, so
 * the result is exactly that of a linear scan. Unusual paths (empty, `.` or `..` segments,
 * backslashes) skip the index and scan every rule.
 */
function compileRules(
  rules: CodeownersRule[],
  errors: Array<{ line: number; message: string }>,
): CompiledCodeowners {
  const matchers = rules.map((rule) => ruleMatcher(rule.pattern));
  const always: number[] = [];
  const root = newNode();
  const bySegment = new Map<string, number[]>();
  const byExtension = new Map<string, number[]>();
  const push = (map: Map<string, number[]>, key: string, i: number) => {
    const list = map.get(key);
    if (list) list.push(i);
    else map.set(key, [i]);
  };
  rules.forEach((rule, i) => {
    const body = rule.pattern.replace(/\/+$/, "");
    const anchored = body.includes("/");
    const segments = body.replace(/^\//, "").split("/");
    if (!anchored) {
      const [segment] = segments as [string];
      const star = STAR_EXTENSION.exec(segment);
      if (LITERAL_SEGMENT.test(segment)) push(bySegment, segment, i);
      else if (star) push(byExtension, extensionOf(star[1]!)!, i);
      else always.push(i);
      return;
    }
    let node = root;
    for (const segment of segments) {
      if (!LITERAL_SEGMENT.test(segment)) break;
      let child = node.children.get(segment);
      if (!child) node.children.set(segment, (child = newNode()));
      node = child;
    }
    if (node === root) always.push(i);
    else node.rules.push(i);
  });

  const found = (i: number): OwnersMatch => ({
    owners: rules[i]!.owners,
    line: rules[i]!.line,
    pattern: rules[i]!.pattern,
  });
  const none = (): OwnersMatch => ({ owners: [], line: null, pattern: null });

  return {
    rules,
    errors,
    ownersOf(path: string): OwnersMatch {
      const clean = path.replace(/^\/+/, "");
      const segments = clean.split("/");
      if (clean.includes("\\") || segments.some((s) => s === "" || s === "." || s === "..")) {
        for (let i = rules.length - 1; i >= 0; i--) if (matchers[i]!(clean)) return found(i);
        return none();
      }
      // Candidate lists, each ascending by rule index; walked together from the highest index down.
      const lists = new Set<number[]>();
      if (always.length) lists.add(always);
      let node: TrieNode | undefined = root;
      for (const segment of segments) {
        node = node.children.get(segment);
        if (!node) break;
        if (node.rules.length) lists.add(node.rules);
      }
      for (const segment of segments) {
        const exact = bySegment.get(segment);
        if (exact) lists.add(exact);
        const extension = extensionOf(segment);
        const byExt = extension === null ? undefined : byExtension.get(extension);
        if (byExt) lists.add(byExt);
      }
      const heads = [...lists];
      const cursor = heads.map((list) => list.length - 1);
      for (;;) {
        let best = -1;
        let from = -1;
        for (let k = 0; k < heads.length; k++) {
          const c = cursor[k]!;
          if (c >= 0 && heads[k]![c]! > best) {
            best = heads[k]![c]!;
            from = k;
          }
        }
        if (from < 0) return none();
        cursor[from]!--;
        if (matchers[best]!(clean)) return found(best);
      }
    },
  };
}

/** Last matching rule wins; a matching rule without owners un-owns the path. */
export function findOwners(rules: CodeownersRule[], path: string): OwnersMatch {
  return compileRules(rules, []).ownersOf(path);
}
