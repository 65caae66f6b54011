/**
 * CODEOWNERS resolution on a 5,000-rule file: Breakglass's compileCodeowners/ownersOf against the
 * `codeowners` npm package (v5, the common choice: one `ignore` matcher per rule, scanned from the
 * end), side by side on the same rules and the same paths.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileCodeowners } from "../src/core/codeowners.ts";

interface CodeownersFile {
  getOwner(path: string): string[];
}
type CodeownersCtor = new (cwd?: string, fileName?: string) => CodeownersFile;

export interface CodeownersFigures {
  rules: number;
  paths: number;
  ours: { compileMs: number; perSecond: number };
  theirs: { compileMs: number; perSecond: number };
  /** Paths on which both give the same owners (the package ignores GitHub's `docs/*` exception etc.). */
  agree: number;
}

/** A large, realistic CODEOWNERS: a default owner, per-service directories, extensions, doc areas, names anywhere. */
export function bigCodeowners(n = 5000): string {
  const lines = ["# generated for the benchmark", "* @acme/default"];
  for (let i = 0; i < n - 1; i++) {
    const kind = i % 5;
    if (kind === 0) lines.push(`/services/svc-${i}/ @acme/team-${i % 50}`);
    else if (kind === 1) lines.push(`*.ext${i} @user${i}`);
    else if (kind === 2) lines.push(`docs/area-${i}/* @acme/docs`);
    else if (kind === 3) lines.push(`/libs/lib-${i}/src/ @acme/lib-${i % 40}`);
    else lines.push(`generated-${i}/ @acme/build`);
  }
  return lines.join("\n");
}

/** Paths spread over every kind of rule, most of them owned by a rule near neither end of the file. */
export function benchPaths(n = 5000, count = 4000): string[] {
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = (i * 7919) % n;
    const kind = i % 6;
    if (kind === 0) paths.push(`services/svc-${r - (r % 5)}/src/handlers/main.ts`);
    else if (kind === 1) paths.push(`tools/scripts/file-${i}.ext${r - (r % 5) + 1}`);
    else if (kind === 2) paths.push(`docs/area-${r - (r % 5) + 2}/readme.md`);
    else if (kind === 3) paths.push(`libs/lib-${r - (r % 5) + 3}/src/index.ts`);
    else if (kind === 4) paths.push(`packages/web/generated-${r - (r % 5) + 4}/types.d.ts`);
    else paths.push(`unowned/${i}/README.md`);
  }
  return paths;
}

export function benchCodeowners(ruleCount = 5000): CodeownersFigures {
  const text = bigCodeowners(ruleCount);
  const paths = benchPaths(ruleCount);
  const require = createRequire(import.meta.url);
  const Codeowners = require("codeowners") as CodeownersCtor;
  const dir = mkdtempSync(join(tmpdir(), "bench-codeowners-"));
  try {
    mkdirSync(join(dir, ".github"));
    writeFileSync(join(dir, ".github", "CODEOWNERS"), `${text}\n`);
    // Each side: construct (parse + compile) once, then resolve every path; best of 3 rounds.
    const time = (fn: () => void) => {
      const t = performance.now();
      fn();
      return performance.now() - t;
    };
    const run = (build: () => (p: string) => string[]) => {
      let best = { compileMs: Infinity, resolveMs: Infinity };
      let last: string[][] = [];
      for (let round = 0; round < 3; round++) {
        let resolve!: (p: string) => string[];
        const compileMs = time(() => (resolve = build()));
        const out: string[][] = [];
        const resolveMs = time(() => {
          for (const p of paths) out.push(resolve(p));
        });
        if (compileMs + resolveMs < best.compileMs + best.resolveMs) best = { compileMs, resolveMs };
        last = out;
      }
      return { compileMs: best.compileMs, perSecond: paths.length / (best.resolveMs / 1000), owners: last };
    };
    const ours = run(() => {
      const co = compileCodeowners(text);
      return (p) => co.ownersOf(p).owners;
    });
    const theirs = run(() => {
      const co = new Codeowners(dir);
      return (p) => co.getOwner(p);
    });
    const agree = paths.filter((_, i) => ours.owners[i]!.join(" ") === theirs.owners[i]!.join(" ")).length;
    return {
      rules: ruleCount,
      paths: paths.length,
      ours: { compileMs: ours.compileMs, perSecond: ours.perSecond },
      theirs: { compileMs: theirs.compileMs, perSecond: theirs.perSecond },
      agree,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(benchCodeowners());
