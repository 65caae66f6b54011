import { UsageError } from "./io.ts";

/** The --flags a usage text mentions: what a wrong flag is compared with. */
export function flagsIn(usage: string): string[] {
  return [...new Set(usage.match(/(?<![\w-])--[a-z][a-z-]*/g) ?? [])];
}

/** The candidate closest to `word` when it is a plausible typo of it (edit distance at most 2, or a third of its length). */
export function closest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best !== null && bestDistance <= Math.max(2, Math.floor(best.length / 3)) ? best : null;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * node:util parseArgs explains a wrong command line in its own words ("To specify a positional argument
 * starting with a '-' …"); this turns its errors into one line that says what to write instead.
 * Anything that is not a parseArgs error is returned as null, for the caller to rethrow.
 */
export function usageErrorFrom(error: unknown, flags: readonly string[]): UsageError | null {
  if (error instanceof UsageError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : "";
  if (typeof code !== "string" || !code.startsWith("ERR_PARSE_ARGS_")) return null;
  const listed = flags.length ? `the options are ${flags.join(", ")}` : "this command takes no options";
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const flag = /'([^']+)'/.exec(message)?.[1] ?? "?";
    const guess = closest(flag.startsWith("--") ? flag : `--${flag.replace(/^-+/, "")}`, flags);
    return new UsageError(
      guess ? `unknown option ${flag}: did you mean ${guess}?` : `unknown option ${flag}: ${listed}.`,
    );
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const flag = /'(-[^' <]+)/.exec(message)?.[1] ?? "?";
    if (/does not take an argument/.test(message))
      return new UsageError(`${flag} takes no value: write ${flag.split("=")[0]} alone.`);
    return new UsageError(`${flag} needs a value: write ${flag} VALUE.`);
  }
  if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
    const argument = /'([^']*)'/.exec(message)?.[1] ?? "?";
    return new UsageError(`unexpected argument "${argument}": this command takes only options (${listed}).`);
  }
  return new UsageError(message.split(". ")[0] ?? message);
}
