import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { escapeHtml } from "../../src/core/escape-html.ts";
import { escapeInline, quoteBlock } from "../../src/core/markdown.ts";
import { isReadableReason, visibleLength, visibleReason } from "../../src/core/reason-text.ts";
import { stripInvisible } from "../../src/core/strip-invisible.ts";
import { csvCell } from "../../src/audit/format-csv.ts";
import { escapeSlack, visibleNotification } from "../../src/app/infra/notifier.ts";

/** Written out independently of the module's pattern, from the Unicode categories and the issue's list. */
const BIDI = [
  "\u061c",
  "\u200e",
  "\u200f",
  "\u202a",
  "\u202b",
  "\u202c",
  "\u202d",
  "\u202e",
  "\u2066",
  "\u2067",
  "\u2068",
  "\u2069",
];
const ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u180e", "\u2061", "\u2064"];
const TAGS = ["\u{e0001}", "\u{e0020}", "\u{e0041}", "\u{e007f}"];
const FILLERS = ["\u034f", "\u115f", "\u1160", "\u3164", "\uffa0", "\u17b4", "\u180b", "\u{e0100}"];
const CONTROLS = ["\u0000", "\u0007", "\u001b", "\u007f", "\u0085", "\u009b"];
const HIDDEN = [...BIDI, ...ZERO_WIDTH, ...TAGS, ...FILLERS];
const FORBIDDEN =
  // eslint-disable-next-line no-control-regex, no-misleading-character-class -- these characters are what the test looks for
  /[\p{Cf}\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\uffa0]|[\u{e0000}-\u{e0fff}]/u;
/** Markdown output defuses "@name", "#1" and "GH-1" with the app's own U+200B right after the sign. */
const withoutDefusing = (text: string) => text.replace(/(?<=[@#-])\u200b/g, "");

const hostile = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 60 }),
  fc.string({ unit: "binary", maxLength: 60 }),
  fc
    .array(
      fc.constantFrom(
        ...HIDDEN,
        ...CONTROLS,
        "a",
        "1",
        "=",
        "-",
        "@",
        "#1",
        "<",
        "&",
        " ",
        "\n",
        "😀",
        "👩‍💻",
        "\ufe0f",
      ),
      { maxLength: 40 },
    )
    .map((a) => a.join("")),
);

describe("stripInvisible", () => {
  test("removes bidi controls, zero-width characters, tag characters, fillers and controls", () => {
    for (const ch of [...HIDDEN, ...CONTROLS])
      assert.equal(stripInvisible(`a${ch}b`), "ab", `U+${ch.codePointAt(0)!.toString(16)}`);
  });

  test("keeps text, tabs and line breaks, emoji presentation selectors and every letter", () => {
    assert.equal(stripInvisible("Rollback: prod-db\tv2\r\nok"), "Rollback: prod-db\tv2\r\nok");
    assert.equal(stripInvisible("❤\ufe0f база 数据 مرحبا"), "❤\ufe0f база 数据 مرحبا");
    assert.equal(stripInvisible("txt.\u202eexe"), "txt.exe", "an override cannot reorder what a reader sees");
  });

  test("property: the output holds no forbidden character and stripping twice changes nothing", () => {
    fc.assert(
      fc.property(hostile, (text) => {
        const out = stripInvisible(text);
        assert.ok(!FORBIDDEN.test(out), JSON.stringify(out));
        assert.equal(stripInvisible(out), out);
      }),
      { numRuns: 300 },
    );
  });
});

describe("every escaping helper goes through it", () => {
  test("property: no escaper ever outputs a bidi or invisible character", () => {
    fc.assert(
      fc.property(hostile, (text) => {
        const outputs: Array<[string, string]> = [
          ["escapeInline", withoutDefusing(escapeInline(text))],
          ["quoteBlock", withoutDefusing(quoteBlock(text))],
          ["escapeHtml", escapeHtml(text)],
          ["csvCell", csvCell(text)],
          ["escapeSlack", escapeSlack(text)],
          [
            "notification",
            JSON.stringify(
              visibleNotification({
                event: "break_glass",
                repository: text,
                issue: 1,
                url: text,
                summary: text,
              }),
            ),
          ],
        ];
        for (const [name, out] of outputs)
          assert.ok(!FORBIDDEN.test(out.replace(/\\u[0-9a-f]{4}/g, "")), `${name}: ${JSON.stringify(out)}`);
      }),
      { numRuns: 200 },
    );
  });

  test("a zero-width character cannot hide a formula from the CSV check", () => {
    assert.equal(csvCell('\u200b=HYPERLINK("http://evil")'), '\'=HYPERLINK("http://evil")');
    assert.equal(csvCell("\u202e+1"), "'+1");
  });
});

describe("reason text", () => {
  test("a reason needs a letter or a digit once invisible characters are gone", () => {
    for (const nothing of [
      "",
      "   ",
      "\u200b".repeat(20),
      "----------",
      "— — —",
      "!?.,;:",
      "😀😀😀",
      "\u202e\u2066\u{e0041}",
      "-\u200b-\u200b-",
    ]) {
      assert.equal(isReadableReason(nothing), false, JSON.stringify(nothing));
    }
    for (const something of ["a", "7", "prod is down", "база упала", "数据库宕机", "٣", "x---"])
      assert.equal(isReadableReason(something), true, something);
  });

  test("length is what a reader sees", () => {
    assert.equal(visibleLength(`ab${"\u200b".repeat(30)}`), 2);
    assert.equal(visibleLength("  a   b  "), 3);
    assert.equal(visibleReason("a\u202e\n\tb"), "a b");
  });
});
