import type { CliIO } from "./io.ts";

/**
 * The help a command with subcommands (`audit export`, `aws trust-policy`) answers before it parses
 * anything: its usage for `--help`/`-h`/`help` anywhere (exit 0), or when no subcommand is given (exit 1).
 * Null when there is a subcommand to run.
 */
export function subcommandHelp(args: readonly string[], io: CliIO, help: string): number | null {
  const [sub, ...rest] = args;
  if (
    sub === undefined ||
    sub === "--help" ||
    sub === "-h" ||
    sub === "help" ||
    rest.includes("--help") ||
    rest.includes("-h")
  ) {
    io.stdout(help);
    return sub === undefined ? 1 : 0;
  }
  return null;
}
