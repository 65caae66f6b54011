import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { compileCodeowners } from "../../core/codeowners.ts";
import { UserError, type CliIO } from "../io.ts";
import { readRepoFiles } from "../repo-files.ts";

const HELP = `Usage: breakglass codeowners <path>... [--file CODEOWNERS] [--root DIR]

Prints one JSON line per path: {"path","owners","line","pattern"} — the last matching CODEOWNERS rule,
as GitHub applies it. owners [] with line/pattern null when nothing matches.
`;

export async function run(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { file: { type: "string" }, root: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    io.stdout(HELP);
    return 0;
  }
  if (positionals.length === 0)
    throw new UserError("give at least one path, e.g. breakglass codeowners policies/prod-database.yml");
  const root = resolve(io.cwd, values.root ?? ".");
  let name = values.file ?? null;
  let text: string | null = null;
  if (name) text = await readFile(resolve(io.cwd, name), "utf8").catch(() => null);
  else {
    const files = await readRepoFiles(root);
    name = files.codeownersPath;
    text = files.codeownersText;
  }
  if (text === null)
    throw new UserError(
      values.file
        ? `cannot read ${values.file}`
        : `no CODEOWNERS file in .github/, the root or docs/ of ${root}`,
    );
  const compiled = compileCodeowners(text);
  for (const e of compiled.errors) io.stderr(`${name}:${e.line}: ${e.message}\n`);
  for (const path of positionals) io.stdout(`${JSON.stringify({ path, ...compiled.ownersOf(path) })}\n`);
  return 0;
}
