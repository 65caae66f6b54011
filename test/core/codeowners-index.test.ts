import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import picomatch from "picomatch";
import {
  compileCodeowners,
  parseCodeowners,
  patternGlobs,
  type OwnersMatch,
} from "../../src/core/codeowners.ts";

// The indexed lookup in compileCodeowners must give exactly what the straightforward definition
// gives: scan the rules from last to first and take the first one whose globs match (picomatch over
// patternGlobs; a root-anchored pattern without wildcards is a plain path prefix, as before the index).
function reference(text: string, path: string): OwnersMatch {
  const { rules } = parseCodeowners(text);
  const clean = path.replace(/^\/+/, "");
  for (let i = rules.length - 1; i >= 0; i--) {
    const { pattern, owners, line } = rules[i]!;
    const literal =
      !/[*?]/.test(pattern) && pattern.startsWith("/") && !pattern.endsWith("/") ? pattern.slice(1) : null;
    const hit =
      literal !== null
        ? clean === literal || clean.startsWith(`${literal}/`)
        : picomatch(patternGlobs(pattern), { dot: true, nocase: false })(clean);
    if (hit) return { owners, line, pattern };
  }
  return { owners: [], line: null, pattern: null };
}

fc.configureGlobal({ seed: Number(process.env.FUZZ_SEED ?? 20261124) });

// Few distinct names, so random rules and random paths actually meet.
const name = fc.constantFrom(
  "a",
  "b",
  "docs",
  "logs",
  "src",
  "x.js",
  "y.ts",
  "a.b.js",
  ".github",
  "tar.gz",
  "README.md",
);
const segment = fc.oneof(
  { weight: 5, arbitrary: name },
  {
    weight: 2,
    arbitrary: fc.constantFrom("*", "**", "*.js", "*.ts", "*.gz", "a*", "*s", "?", "x?js", ".", "..", ""),
  },
  { weight: 1, arbitrary: fc.stringMatching(/^[\w.*?{}()!+@-]{1,6}$/) },
);
const pattern = fc
  .tuple(fc.boolean(), fc.array(segment, { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([lead, segs, trail]) => `${lead ? "/" : ""}${segs.join("/")}${trail ? "/" : ""}`)
  .filter((p) => p !== "" && !p.startsWith("#") && !p.startsWith("!"));
const owner = fc.constantFrom("@a", "@org/t", "me@example.com", "bad");
const rule = fc
  .tuple(pattern, fc.array(owner, { maxLength: 2 }))
  .map(([p, o]) => `${p} ${o.join(" ")}`.trim());
const pathSegment = fc.oneof(
  { weight: 6, arbitrary: name },
  { weight: 1, arbitrary: fc.constantFrom(".", "..", "", "a\\b", "{a,b}", "x.JS") },
);
const path = fc
  .tuple(fc.constantFrom("", "/", "./"), fc.array(pathSegment, { minLength: 1, maxLength: 5 }))
  .map(([lead, segs]) => `${lead}${segs.join("/")}`);

test("indexed ownersOf agrees with last-matching-rule-wins over picomatch on random rule sets", () => {
  fc.assert(
    fc.property(
      fc.array(rule, { maxLength: 30 }),
      fc.array(path, { minLength: 1, maxLength: 10 }),
      (lines, paths) => {
        const text = lines.join("\n");
        const compiled = compileCodeowners(text);
        for (const p of paths)
          assert.deepEqual(compiled.ownersOf(p), reference(text, p), `path ${JSON.stringify(p)}`);
      },
    ),
    { numRuns: 1000 },
  );
});

test("indexed ownersOf agrees with the reference on a large generated file", () => {
  const lines = ["* @acme/default", "**/logs @ops", "/*.md @docs", "*.js @js"];
  for (let i = 0; i < 600; i++)
    lines.push(
      i % 4 === 0
        ? `/services/svc-${i}/ @t${i}`
        : i % 4 === 1
          ? `*.ext${i} @u${i}`
          : i % 4 === 2
            ? `docs/area-${i}/* @d`
            : `lib-${i} @l${i}`,
    );
  const text = lines.join("\n");
  const compiled = compileCodeowners(text);
  const paths = [
    "README.md",
    "a/README.md",
    "services/svc-4/src/main.ts",
    "services/svc-5/x",
    "x/services/svc-4/y",
    "docs/area-2/a.md",
    "docs/area-2/sub/a.md",
    "p/q.ext5",
    "q.ext5/r",
    "deep/lib-3/x.js",
    "lib-3",
    "logs/x",
    "a/logs",
    "services/svc-8/logs/x.ext9",
  ];
  for (const p of paths) assert.deepEqual(compiled.ownersOf(p), reference(text, p), p);
});

test("the index keeps last-match-wins across index kinds", () => {
  const co = compileCodeowners("/src/ @anchored\n*.ts @ext\nsrc @segment\n* @catchall\n/src/a.ts @literal\n");
  assert.equal(co.ownersOf("src/a.ts").pattern, "/src/a.ts");
  assert.equal(co.ownersOf("src/b.ts").pattern, "*");
  const reversed = compileCodeowners("* @catchall\nsrc @segment\n*.ts @ext\n/src/ @anchored\n");
  assert.equal(reversed.ownersOf("src/b.ts").pattern, "/src/");
  assert.equal(reversed.ownersOf("lib/b.ts").pattern, "*.ts");
  assert.equal(reversed.ownersOf("lib/src/b.js").pattern, "src");
  assert.equal(reversed.ownersOf("lib/b.js").pattern, "*");
});
