import { parseDuration } from "./duration.ts";
import { isReadableReason, visibleLength } from "./reason-text.ts";

/** Longest reason or note kept; longer text is cut, since it ends up in comments and audit records. */
export const MAX_ARGUMENT_LENGTH = 2000;
/** A break-glass self-approval skips the second person, so its reason must say something. */
export const MIN_BREAK_GLASS_REASON_LENGTH = 10;
/** Said by every refusal of a reason that holds no letter or digit once invisible characters are gone. */
export const UNREADABLE_REASON =
  "holds no letters or digits once invisible characters are removed (zero-width spaces, dashes and punctuation alone say nothing)";

export type ParsedCommand =
  | { kind: "approve"; note: string }
  | { kind: "deny"; reason: string }
  | { kind: "cancel"; reason: string }
  | { kind: "revoke"; reason: string }
  | { kind: "extend"; seconds: number; reason: string }
  | { kind: "break-glass"; reason: string }
  | { kind: "status" }
  | { kind: "help" }
  /** A known command written wrongly; `message` says what to write instead. */
  | { kind: "invalid"; command: string; message: string }
  /** Looks like a command but is not one of ours, e.g. "/approved" or "/approve!". */
  | { kind: "unknown"; command: string };

type CommandName = Exclude<ParsedCommand["kind"], "invalid" | "unknown">;

/** One table for parsing and for help, so the two cannot drift apart. */
const COMMANDS: ReadonlyArray<{ name: CommandName; usage: string; does: string }> = [
  {
    name: "approve",
    usage: "/approve [note]",
    does: "approve the request (a CODEOWNER of the policy who is not the requester).",
  },
  { name: "deny", usage: "/deny <reason>", does: "deny the request and say why." },
  {
    name: "cancel",
    usage: "/cancel [reason]",
    does: "the requester withdraws the request, or ends their own grant early.",
  },
  {
    name: "revoke",
    usage: "/revoke [reason]",
    does: "end an active grant now (the requester, an approver or an owner).",
  },
  {
    name: "extend",
    usage: "/extend <duration> [resource] <reason>",
    does: "ask for more time on an active grant, e.g. `/extend 30m migration still running`; on a request naming several resources with more than one live, name the resource (`/extend 30m prod-database migration still running`): its owners approve it and only its grant moves.",
  },
  {
    name: "break-glass",
    usage: "/break-glass <reason>",
    does: `self-approve in an emergency where the policy allows it; at least ${MIN_BREAK_GLASS_REASON_LENGTH} characters of reason, everyone is notified and a review is required.`,
  },
  { name: "status", usage: "/status", does: "refresh the status comment." },
  { name: "help", usage: "/help", does: "show this list." },
];

/**
 * "/name", possibly glued to more characters ("/approve!", "/approved", "/approve@bob"), which make it
 * an unknown command rather than a known one. A second slash makes it a path ("/etc/hosts"), not a command.
 */
const COMMAND_WORD = /^\/([A-Za-z][A-Za-z0-9_-]*)([^/]*)$/;
const MAX_UNKNOWN_LENGTH = 50;

/**
 * Reads the command a comment starts with, or null when it does not start with one.
 *
 * Only the very start counts: blank lines and up to three spaces may come first, but not a quote
 * (`>`), a code fence, an indented code block (a tab or four spaces), any other text or a
 * look-alike slash. Only the first line's command counts; the rest of that line and every following
 * line are its argument (a reason or note, trimmed, at most {@link MAX_ARGUMENT_LENGTH} characters).
 * So quoting someone's `/approve` or mentioning one later in a comment never acts.
 */
export function parseCommand(body: string): ParsedCommand | null {
  const leading = leadingCommand(body);
  if (!leading) return null;
  const known = COMMANDS.find((c) => c.name === leading.name);
  if (!known || leading.glued) return { kind: "unknown", command: cap(leading.word, MAX_UNKNOWN_LENGTH) };
  // The command word must end at whitespace: "/approveplease" never reaches here, it is one word.
  return build(known.name, leading.args);
}

/**
 * The command word a comment starts with (lower-cased, without the slash) and its argument, by the
 * rules of {@link parseCommand}; `glued` when more characters stick to the word ("/approve!").
 * Shared with the review issue's `/waive`, so both read "the start of a comment" the same way.
 */
export function leadingCommand(
  body: string,
): { name: string; word: string; glued: boolean; args: string } | null {
  const text = String(body).replace(/\r\n?/g, "\n");
  const first = /^(?:[ \t]*\n)*([ \t]*)(\S+)([^\n]*)((?:\n[^]*)?)$/.exec(text);
  if (!first) return null;
  const [, indent = "", word = "", lineRest = "", following = ""] = first;
  if (indent.includes("\t") || indent.length >= 4) return null;
  const match = COMMAND_WORD.exec(word);
  if (!match) return null;
  return {
    name: match[1]!.toLowerCase(),
    word,
    glued: match[2] !== "",
    args: cap(`${lineRest}${following}`.trim(), MAX_ARGUMENT_LENGTH),
  };
}

function build(name: CommandName, args: string): ParsedCommand {
  switch (name) {
    // An optional note or reason that says nothing is dropped, never refused: a revoke must not fail
    // over its wording.
    case "approve":
      return { kind: "approve", note: optional(args) };
    case "cancel":
    case "revoke":
      return { kind: name, reason: optional(args) };
    case "deny": {
      const usage = "Write `/deny <reason>`, e.g. `/deny use the read-only role instead`.";
      if (args === "")
        return invalid(name, `\`/deny\` needs a reason so the requester knows what to change. ${usage}`);
      return isReadableReason(args)
        ? { kind: "deny", reason: args }
        : invalid(name, `The reason ${UNREADABLE_REASON}. ${usage}`);
    }
    case "break-glass":
      return breakGlass(args);
    case "extend":
      return extend(args);
    case "status":
    case "help":
      return { kind: name };
  }
}

function breakGlass(reason: string): ParsedCommand {
  const example = "e.g. `/break-glass prod is down and no approver answers`";
  // Counted as a reader sees it: ten zero-width spaces are no reason at all.
  const length = visibleLength(reason);
  if (length === 0) {
    return invalid(
      "break-glass",
      `\`/break-glass\` needs a reason: it skips the second person, so say why this cannot wait. Write \`/break-glass <reason>\`, ${example}.`,
    );
  }
  if (!isReadableReason(reason))
    return invalid(
      "break-glass",
      `The reason ${UNREADABLE_REASON}. Say in words why this cannot wait for an approver, ${example}.`,
    );
  if (length < MIN_BREAK_GLASS_REASON_LENGTH) {
    return invalid(
      "break-glass",
      `The reason is too short (${length} characters); write at least ${MIN_BREAK_GLASS_REASON_LENGTH} saying why this cannot wait for an approver, ${example}.`,
    );
  }
  return { kind: "break-glass", reason };
}

function extend(args: string): ParsedCommand {
  const usage = "Write `/extend <duration> <reason>`, e.g. `/extend 30m the migration is still running`.";
  const [, duration = "", reason = ""] = /^(\S*)\s*([^]*)$/.exec(args) ?? [];
  if (duration === "") return invalid("extend", `\`/extend\` needs a duration and a reason. ${usage}`);
  const seconds = parseDuration(duration);
  if (!seconds.ok) return invalid("extend", `${seconds.error} ${usage}`);
  if (reason === "")
    return invalid(
      "extend",
      `\`/extend\` needs a reason after the duration, for the approvers and the audit trail. ${usage}`,
    );
  if (!isReadableReason(reason)) return invalid("extend", `The reason ${UNREADABLE_REASON}. ${usage}`);
  return { kind: "extend", seconds: seconds.value, reason };
}

const optional = (text: string): string => (isReadableReason(text) ? text : "");

const invalid = (name: CommandName, message: string): ParsedCommand => ({
  kind: "invalid",
  command: `/${name}`,
  message,
});

/** Cuts to `max` code points, never half a surrogate pair. */
function cap(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : chars.slice(0, max).join("").trimEnd();
}

/** The list of commands as Markdown, for /help and replies to unknown commands. */
export function helpText(): string {
  return [
    "**Breakglass commands** — write one at the very start of a new comment (edited comments are ignored):",
    "",
    ...COMMANDS.map((c) => `- \`${c.usage}\` — ${c.does}`),
  ].join("\n");
}
