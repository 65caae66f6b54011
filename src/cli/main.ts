#!/usr/bin/env node
import { pathToFileURL } from "node:url";
import { processIO, UserError, type CliIO, type Command } from "./io.ts";

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  codeowners: { summary: "Show the CODEOWNERS rule and owners for each path", load: async () => (await import("./commands/codeowners.ts")).run },
  request: { summary: "request parse < body.md: parse and validate a request issue body", load: async () => (await import("./commands/request.ts")).run },
  validate: { summary: "Check policies, CODEOWNERS coverage and the issue form", load: async () => (await import("./commands/validate.ts")).run },
  simulate: { summary: "Run a scenario file through the real app in the sandbox", load: async () => (await import("./commands/simulate.ts")).run },
  demo: { summary: "Run the whole lifecycle locally in the sandbox", load: async () => (await import("./commands/demo.ts")).run },
  init: { summary: "Scaffold Breakglass into a repository", load: async () => (await import("./commands/init.ts")).run },
  audit: { summary: "audit export | audit verify: evidence for auditors", load: async () => (await import("./commands/audit.ts")).run },
  approve: { summary: "approve owner/repo#N: approve with an SSH signature (step-up)", load: async () => (await import("./commands/approve.ts")).command("approve") },
  "break-glass": { summary: "break-glass owner/repo#N --reason …: self-approve with an SSH signature", load: async () => (await import("./commands/approve.ts")).command("break-glass") },
};

export function usage(): string {
  const lines = ["Usage: breakglass <command> [options]", "", "Commands:"];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(12)} ${c.summary}`);
  lines.push("", "Run `breakglass <command> --help` for a command's options.", "");
  return lines.join("\n");
}

export async function main(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    io.stdout(usage());
    return name ? 0 : 1;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr(`breakglass: unknown command "${name}".\n\n${usage()}`);
    return 1;
  }
  try {
    return await (await command.load())(rest, io);
  } catch (error) {
    if (error instanceof UserError) {
      io.stderr(`breakglass ${name}: ${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main(process.argv.slice(2), processIO()).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 2;
    },
  );
}
