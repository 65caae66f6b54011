import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { helpText, MAX_ARGUMENT_LENGTH, parseCommand, type ParsedCommand } from "../../src/core/commands.ts";

function invalidMessage(body: string, command: string): string {
  const parsed = parseCommand(body);
  assert.ok(parsed && parsed.kind === "invalid", `expected invalid, got ${JSON.stringify(parsed)}`);
  assert.equal(parsed.command, command);
  return parsed.message;
}

describe("each command", () => {
  const cases: Array<[string, ParsedCommand]> = [
    ["/approve", { kind: "approve", note: "" }],
    ["/approve looks good", { kind: "approve", note: "looks good" }],
    ["/approve   spaced out  ", { kind: "approve", note: "spaced out" }],
    ["/deny use the read-only role", { kind: "deny", reason: "use the read-only role" }],
    ["/cancel", { kind: "cancel", reason: "" }],
    ["/cancel no longer needed", { kind: "cancel", reason: "no longer needed" }],
    ["/revoke", { kind: "revoke", reason: "" }],
    ["/revoke done early", { kind: "revoke", reason: "done early" }],
    [
      "/extend 30m migration still running",
      { kind: "extend", seconds: 1800, reason: "migration still running" },
    ],
    [
      "/extend PT1H  more time\nsecond line",
      { kind: "extend", seconds: 3600, reason: "more time\nsecond line" },
    ],
    [
      "/break-glass prod is down, pager unanswered",
      { kind: "break-glass", reason: "prod is down, pager unanswered" },
    ],
    ["/status", { kind: "status" }],
    ["/status please", { kind: "status" }],
    ["/help", { kind: "help" }],
  ];
  for (const [body, expected] of cases) {
    test(JSON.stringify(body), () => assert.deepEqual(parseCommand(body), expected));
  }

  test("command names are case-insensitive", () => {
    assert.deepEqual(parseCommand("/APPROVE ok"), { kind: "approve", note: "ok" });
    assert.deepEqual(parseCommand("/Break-Glass the database is on fire"), {
      kind: "break-glass",
      reason: "the database is on fire",
    });
    assert.deepEqual(parseCommand("/StAtUs"), { kind: "status" });
  });

  test("the argument continues over the following lines", () => {
    assert.deepEqual(parseCommand("/deny\nnot during the freeze\n\nsee the calendar"), {
      kind: "deny",
      reason: "not during the freeze\n\nsee the calendar",
    });
    assert.deepEqual(
      parseCommand("/approve first\n/deny second"),
      { kind: "approve", note: "first\n/deny second" },
      "only the first line's command counts",
    );
  });

  test("any whitespace may separate the command from its argument", () => {
    assert.deepEqual(parseCommand("/approve\tok"), { kind: "approve", note: "ok" });
    assert.deepEqual(parseCommand("/approve\u00a0ok"), { kind: "approve", note: "ok" });
  });

  test("arguments are capped", () => {
    const parsed = parseCommand(`/deny ${"x".repeat(5000)}`);
    assert.ok(parsed?.kind === "deny");
    assert.equal(parsed.reason.length, MAX_ARGUMENT_LENGTH);
    const emoji = parseCommand(`/approve ok ${"😀".repeat(3000)}`);
    assert.ok(emoji?.kind === "approve");
    assert.equal(
      Array.from(emoji.note).length,
      MAX_ARGUMENT_LENGTH,
      "counted in characters, no half surrogate pair",
    );
  });

  test("CRLF and CR line endings", () => {
    assert.deepEqual(parseCommand("\r\n\r\n/deny too broad\r\nuse read-only\r\n"), {
      kind: "deny",
      reason: "too broad\nuse read-only",
    });
    assert.deepEqual(parseCommand("/approve\rnote"), { kind: "approve", note: "note" });
  });
});

describe("invalid forms say what to write instead", () => {
  test("/deny without a reason", () => {
    assert.match(invalidMessage("/deny", "/deny"), /needs a reason.*Write `\/deny <reason>`/);
    assert.match(invalidMessage("/deny   \n  ", "/deny"), /needs a reason/);
  });

  test("/break-glass without a reason or with a short one", () => {
    assert.match(
      invalidMessage("/break-glass", "/break-glass"),
      /needs a reason.*Write `\/break-glass <reason>`/,
    );
    assert.match(
      invalidMessage("/break-glass urgent!", "/break-glass"),
      /too short \(7 characters\); write at least 10/,
    );
    assert.match(
      invalidMessage("/break-glass a😀😀😀😀😀😀😀😀", "/break-glass"),
      /too short \(9 characters\)/,
    );
    assert.equal(
      parseCommand("/break-glass 0123456789")?.kind,
      "break-glass",
      "exactly 10 characters is enough",
    );
  });

  test("/extend needs a valid duration and a reason", () => {
    assert.match(
      invalidMessage("/extend", "/extend"),
      /needs a duration and a reason\. Write `\/extend <duration> <reason>`/,
    );
    assert.match(invalidMessage("/extend 30m", "/extend"), /needs a reason after the duration/);
    assert.match(
      invalidMessage("/extend soon please", "/extend"),
      /"soon" is not a duration\. Write it like "90m".*Write `\/extend/,
    );
    assert.match(invalidMessage("/extend 0h because", "/extend"), /is zero/);
    assert.match(invalidMessage("/extend -1h because", "/extend"), /is negative/);
    assert.match(invalidMessage("/extend 99999h because", "/extend"), /longer than 7d/);
    assert.match(invalidMessage("/extend ١h because", "/extend"), /not a duration/);
    assert.match(invalidMessage("/extend 30 minutes", "/extend"), /has no unit/);
  });
});

describe("a required reason must hold letters or digits (invisible characters do not count)", () => {
  const ZW = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e", "\u2066", "\u{e0041}"];

  test("/break-glass with only zero-width characters, dashes or punctuation is refused", () => {
    assert.match(
      invalidMessage(`/break-glass ${ZW.join("").repeat(3)}`, "/break-glass"),
      /needs a reason/,
      "nothing visible at all",
    );
    for (const reason of [
      "----------",
      "— — — — — —",
      "..........!!!",
      "-\u200b-\u200b-\u200b-\u200b-\u200b-\u200b",
      "😀😀😀😀😀😀😀😀😀😀",
    ]) {
      assert.match(
        invalidMessage(`/break-glass ${reason}`, "/break-glass"),
        /no letters or digits/,
        JSON.stringify(reason),
      );
    }
  });

  test("/break-glass length is counted without invisible characters", () => {
    assert.match(
      invalidMessage(`/break-glass ab${"\u200b".repeat(20)}`, "/break-glass"),
      /too short \(2 characters\)/,
    );
    assert.equal(
      parseCommand("/break-glass база данных упала")?.kind,
      "break-glass",
      "letters of any script count",
    );
    assert.equal(parseCommand("/break-glass 503 503 503")?.kind, "break-glass", "digits count");
  });

  test("/deny and /extend refuse a reason that says nothing", () => {
    assert.match(invalidMessage("/deny ---", "/deny"), /no letters or digits.*Write `\/deny <reason>`/);
    assert.match(invalidMessage("/deny \u200b\u200b", "/deny"), /no letters or digits/);
    assert.match(
      invalidMessage("/extend 30m ...", "/extend"),
      /no letters or digits.*Write `\/extend <duration> <reason>`/,
    );
    assert.deepEqual(parseCommand("/extend 30m 迁移"), { kind: "extend", seconds: 1800, reason: "迁移" });
  });

  test("an optional reason or note that says nothing is dropped, never refused", () => {
    assert.deepEqual(
      parseCommand("/revoke ---"),
      { kind: "revoke", reason: "" },
      "a revoke must never fail over its wording",
    );
    assert.deepEqual(parseCommand("/cancel \u202e\u200b"), { kind: "cancel", reason: "" });
    assert.deepEqual(parseCommand("/approve 👍"), { kind: "approve", note: "" });
    assert.deepEqual(parseCommand("/approve 👍 ok"), { kind: "approve", note: "👍 ok" });
  });
});

describe("unknown commands", () => {
  const unknown: Array<[string, string]> = [
    ["/approved", "/approved"],
    ["/approve!", "/approve!"],
    ["/approve.", "/approve."],
    ["/approveplease", "/approveplease"],
    ["/approve@bob", "/approve@bob"],
    ["/approve\u200b", "/approve\u200b"],
    ["/lgtm", "/lgtm"],
    ["/breakglass now", "/breakglass"],
    ["/apprоve", "/apprоve"], // Cyrillic о
    ["/APPROVED ok", "/APPROVED"],
  ];
  for (const [body, command] of unknown) {
    test(JSON.stringify(body), () => assert.deepEqual(parseCommand(body), { kind: "unknown", command }));
  }

  test("a very long command word is capped", () => {
    const parsed = parseCommand(`/${"a".repeat(500)}`);
    assert.ok(parsed?.kind === "unknown");
    assert.equal(parsed.command.length, 50);
  });
});

describe("not a command at all", () => {
  const ignored: Array<[string, string]> = [
    ["empty", ""],
    ["blank", "  \n\t\n "],
    ["plain text", "LGTM"],
    ["command later in the line", "I think /approve"],
    ["command on a later line", "Looks fine.\n/approve"],
    ["quoted", "> /approve"],
    ["quoted without space", ">/approve"],
    ["quoted reply then command", "> /deny nope\n\n/approve"],
    ["code span", "`/approve`"],
    ["fenced code", "```\n/approve\n```"],
    ["tilde fence", "~~~\n/approve\n~~~"],
    ["indented code (4 spaces)", "    /approve"],
    ["indented code after blank lines", "\n\n    /approve"],
    ["indented code (tab)", "\t/approve"],
    ["HTML comment first", "<!-- x -->\n/approve"],
    ["list item", "- /approve"],
    ["fullwidth slash", "／approve"],
    ["division slash", "∕approve"],
    ["fraction slash", "⁄approve"],
    ["zero-width space first", "\u200b/approve"],
    ["BOM first", "\ufeff/approve"],
    ["no-break space first", "\u00a0/approve"],
    ["bare slash", "/"],
    ["slash then space", "/ approve"],
    ["double slash", "//approve"],
    ["a path", "/etc/hosts is wrong"],
    ["a path with a command name", "/approve/now"],
    ["digit after slash", "/1approve"],
  ];
  for (const [name, body] of ignored) {
    test(name, () => assert.equal(parseCommand(body), null));
  }

  test("up to three leading spaces and blank lines are allowed", () => {
    assert.deepEqual(parseCommand("   /approve"), { kind: "approve", note: "" });
    assert.deepEqual(parseCommand("\n  \n\n   /approve ok"), { kind: "approve", note: "ok" });
  });

  test("a huge body is parsed quickly", () => {
    const started = Date.now();
    assert.equal(parseCommand(`${" ".repeat(3)}${"\n ".repeat(200_000)}x`), null);
    assert.equal(parseCommand(" ".repeat(500_000)), null);
    const parsed = parseCommand(`/approve ${"a b\n".repeat(200_000)}`);
    assert.equal(parsed?.kind, "approve");
    assert.ok(Date.now() - started < 2000);
  });

  test("property: never throws, and a comment not starting with an ASCII slash is never a command", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 200 }), (body) => {
        const parsed = parseCommand(body);
        if (!/^\s*\//.test(body)) assert.equal(parsed, null);
        if (parsed?.kind === "invalid") assert.ok(parsed.message.length > 20);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("helpText", () => {
  test("lists every command with its usage", () => {
    const help = helpText();
    for (const usage of [
      "/approve [note]",
      "/deny <reason>",
      "/cancel [reason]",
      "/revoke [reason]",
      "/extend <duration> [resource] <reason>",
      "/break-glass <reason>",
      "/status",
      "/help",
    ]) {
      assert.ok(help.includes(`- \`${usage}\` — `), usage);
    }
    assert.equal(help.split("\n").filter((l) => l.startsWith("- ")).length, 8);
  });

  test("every usage in the help parses as its command", () => {
    const examples = helpText()
      .split("\n")
      .filter((l) => l.startsWith("- `"))
      .map((l) => /^- `(\/[a-z-]+)/.exec(l)![1]!);
    const kinds = examples.map((c) => parseCommand(`${c} 30m a good long reason here`)?.kind);
    assert.deepEqual(kinds, [
      "approve",
      "deny",
      "cancel",
      "revoke",
      "extend",
      "break-glass",
      "status",
      "help",
    ]);
  });
});
