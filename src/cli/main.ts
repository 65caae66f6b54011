#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { processIO, UserError, type CliIO, type Command } from "./io.ts";
import { closest, flagsIn, usageErrorFrom } from "./usage-error.ts";

export const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  codeowners: {
    summary: "Show the CODEOWNERS rule and owners for each path",
    load: async () => (await import("./commands/codeowners.ts")).run,
  },
  request: {
    summary: "request --repo o/r --resource R --role X --reason …: open a request (or `request parse`)",
    load: async () => (await import("./commands/request.ts")).run,
  },
  retro: {
    summary:
      "retro --repo o/r --resource R --role X --started T --ended T --reason …: record access taken outside Breakglass",
    load: async () => (await import("./commands/retro.ts")).run,
  },
  credentials: {
    summary: "credentials owner/repo#N: wait for the grant, fetch and decrypt your credentials",
    load: async () => (await import("./commands/credentials.ts")).run,
  },
  done: {
    summary: "done owner/repo#N: revoke your grant now",
    load: async () => (await import("./commands/done.ts")).run,
  },
  validate: {
    summary: "Check policies, CODEOWNERS coverage and the issue form",
    load: async () => (await import("./commands/validate.ts")).run,
  },
  simulate: {
    summary: "Run a scenario file through the real app in the sandbox",
    load: async () => (await import("./commands/simulate.ts")).run,
  },
  demo: {
    summary: "Run the whole lifecycle locally in the sandbox",
    load: async () => (await import("./commands/demo.ts")).run,
  },
  init: {
    summary: "Scaffold Breakglass into a repository",
    load: async () => (await import("./commands/init.ts")).run,
  },
  audit: {
    summary: "audit export | audit verify: evidence for auditors",
    load: async () => (await import("./commands/audit.ts")).run,
  },
  approve: {
    summary: "approve owner/repo#N: approve with an SSH signature (step-up)",
    load: async () => (await import("./commands/approve.ts")).command("approve"),
  },
  "break-glass": {
    summary: "break-glass owner/repo#N --reason …: self-approve with an SSH signature",
    load: async () => (await import("./commands/approve.ts")).command("break-glass"),
  },
  passkey: {
    summary:
      "passkey confirm <owner> <credential-id> --login you: activate a new passkey with an SSH signature",
    load: async () => (await import("./commands/passkey.ts")).run,
  },
  aws: {
    summary: "aws trust-policy --repo owner/name: the IAM trust policy of a break-glass role",
    load: async () => (await import("./commands/aws-trust-policy.ts")).run,
  },
};

export function usage(): string {
  const lines = ["Usage: breakglass <command> [options]", "       breakglass --version", "", "Commands:"];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(12)} ${c.summary}`);
  lines.push("", "Run `breakglass <command> --help` for a command's options.", "");
  return lines.join("\n");
}

export function version(): string {
  const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return manifest.version;
}

/** Each command prints its own usage for --help: asking it keeps one copy of every usage text. */
async function usageOf(command: Command, io: CliIO): Promise<string> {
  let text = "";
  await command(["--help"], { ...io, stdout: (t) => void (text += t), readStdin: async () => "" });
  return text;
}

export async function main(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "--help" || name === "-h" || name === "help") {
    io.stdout(usage());
    return 0;
  }
  if (name === "--version" || name === "-V") {
    io.stdout(`${version()}\n`);
    return 0;
  }
  if (!name) {
    io.stderr(`breakglass: say which command to run, e.g. \`breakglass demo\`.\n\n${usage()}`);
    return 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    const guess = closest(name, Object.keys(COMMANDS));
    const instead = name.startsWith("-")
      ? "write `breakglass --help` or `breakglass --version`."
      : guess
        ? `did you mean \`breakglass ${guess}\`?`
        : `use one of ${Object.keys(COMMANDS).join(", ")}.`;
    io.stderr(
      `breakglass: unknown ${name.startsWith("-") ? "option" : "command"} "${name}": ${instead}\n\n${usage()}`,
    );
    return 2;
  }
  const run = await command.load();
  try {
    return await run(rest, io);
  } catch (error) {
    const usageText = await usageOf(run, io).catch(() => "");
    const wrongUsage = usageErrorFrom(error, flagsIn(usageText));
    if (wrongUsage) {
      io.stderr(`breakglass ${name}: ${wrongUsage.message}\n\n${usageText}`);
      return wrongUsage.exitCode;
    }
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
