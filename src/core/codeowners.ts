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
export function parseCodeowners(text: string): { rules: CodeownersRule[]; errors: Array<{ line: number; message: string }> } {
  const rules: CodeownersRule[] = [];
  const errors: Array<{ line: number; message: string }> = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const content = raw.replace(/\s+#.*$/, "").trim();
    if (content === "" || content.startsWith("#")) return;
    const [pattern, ...owners] = content.split(/\s+/) as [string, ...string[]];
    if (pattern.startsWith("\\#")) return void errors.push({ line, message: `"${pattern}": escaping a leading # with \\ does not work in CODEOWNERS; rename the path or match it with a wildcard.` });
    if (pattern.startsWith("!")) return void errors.push({ line, message: `"${pattern}": negation with ! is not supported in CODEOWNERS; list the owners of the narrower path on a later line instead.` });
    if (/[[\]]/.test(pattern)) return void errors.push({ line, message: `"${pattern}": character ranges [ ] are not supported in CODEOWNERS; use * or list paths one by one.` });
    const valid: string[] = [];
    for (const owner of owners) {
      if (OWNER.test(owner)) valid.push(owner);
      else errors.push({ line, message: `"${owner}" is not an owner: write @user, @org/team or an email address.` });
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

function compileRules(rules: CodeownersRule[], errors: Array<{ line: number; message: string }>): CompiledCodeowners {
  const matchers = rules.map((rule) => {
    const globs = patternGlobs(rule.pattern);
    const literal = !/[*?]/.test(rule.pattern) && rule.pattern.startsWith("/") && !rule.pattern.endsWith("/") ? rule.pattern.slice(1) : null;
    const isMatch = picomatch(globs, { dot: true, nocase: false });
    return literal ? (p: string) => p === literal || p.startsWith(`${literal}/`) : isMatch;
  });
  return {
    rules,
    errors,
    ownersOf(path: string): OwnersMatch {
      const clean = path.replace(/^\/+/, "");
      for (let i = rules.length - 1; i >= 0; i--) {
        if (matchers[i]!(clean)) return { owners: rules[i]!.owners, line: rules[i]!.line, pattern: rules[i]!.pattern };
      }
      return { owners: [], line: null, pattern: null };
    },
  };
}

/** Last matching rule wins; a matching rule without owners un-owns the path. */
export function findOwners(rules: CodeownersRule[], path: string): OwnersMatch {
  return compileRules(rules, []).ownersOf(path);
}
