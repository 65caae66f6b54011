import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  escapeInline,
  GITHUB_COMMENT_LIMIT,
  hiddenMarker,
  mention,
  quoteBlock,
  readHiddenMarkers,
  table,
  truncateComment,
} from "../../src/core/markdown.ts";

const ZW = "\u200b";

/** True if `ch` occurs in `text` without an odd run of backslashes before it. */
function hasUnescaped(text: string, ch: string): boolean {
  for (let i = text.indexOf(ch); i !== -1; i = text.indexOf(ch, i + 1)) {
    let slashes = 0;
    for (let j = i - 1; j >= 0 && text[j] === "\\"; j--) slashes++;
    if (slashes % 2 === 0) return true;
  }
  return false;
}

/** Mentions GitHub would render: "@" directly followed by a login character. */
const liveMention = (text: string) => /@[A-Za-z0-9]/.test(text);
/** Issue references GitHub would link: "#" or "GH-" directly followed by a digit. */
const liveReference = (text: string) => /(?<!&)#\d|GH-\d/i.test(text);

/** Properties every escaped value must have, whatever the input. */
function assertInert(out: string): void {
  for (const ch of ["[", "]", "(", ")", "|", "*", "~", "!"])
    assert.ok(!hasUnescaped(out, ch), `unescaped ${ch} in ${JSON.stringify(out)}`);
  assert.ok(!/[<>`$]/.test(out), `raw <, >, backtick or $ in ${JSON.stringify(out)}`);
  assert.ok(!/&(?!amp;|lt;|gt;|#96;|#36;)/.test(out), `raw & in ${JSON.stringify(out)}`);
  assert.ok(!liveMention(out), `live mention in ${JSON.stringify(out)}`);
  assert.ok(!liveReference(out), `live reference in ${JSON.stringify(out)}`);
  assert.deepEqual(readHiddenMarkers(out), []);
  assert.ok(
    // eslint-disable-next-line no-control-regex -- control characters are what this looks for
    !/[\u202a-\u202e\u2066-\u2069\u200c-\u200f\u2060\ufeff\u0000-\u0008]/.test(out),
    `invisible character in ${JSON.stringify(out)}`,
  );
}

describe("escapeInline", () => {
  test("leaves ordinary identifiers readable, also inside code spans", () => {
    for (const plain of [
      "prod-database",
      "read_only",
      "db.example.com",
      "aws-production/admin",
      "1h30m",
      "Fix login bug",
      "café 42",
    ]) {
      assert.equal(escapeInline(plain), plain);
    }
  });

  test("neutralizes mentions of users, teams and emails", () => {
    for (const input of [
      "@alice",
      "@acme/security",
      "hey @everyone",
      "@here",
      "ping (@bob)",
      "mail alice@example.com",
    ]) {
      const out = escapeInline(input);
      assertInert(out);
      assert.ok(out.includes(`@${ZW}`), out);
    }
    assert.equal(escapeInline("@acme/security please"), `@${ZW}acme/security please`);
  });

  test("neutralizes issue references and GH- autolinks", () => {
    assert.equal(
      escapeInline("see #123 and acme/ops#7 and GH-9 or gh-10"),
      `see #${ZW}123 and acme/ops#${ZW}7 and GH-${ZW}9 or gh-${ZW}10`,
    );
    assert.equal(escapeInline("#123"), `\\#${ZW}123`);
    assert.equal(escapeInline("C# is fine, #hashtag too"), "C# is fine, #hashtag too");
  });

  test("turns HTML into visible text", () => {
    assert.equal(escapeInline("<img src=x onerror=alert(1)>"), "&lt;img src=x onerror=alert\\(1\\)&gt;");
    assert.equal(
      escapeInline("<details><summary>x</summary>"),
      "&lt;details&gt;&lt;summary&gt;x&lt;/summary&gt;",
    );
    assert.equal(escapeInline("AT&T &amp; &#64;alice"), `AT&amp;T &amp;amp; &amp;#${ZW}64;alice`);
    assertInert(escapeInline('<a href="javascript:alert(1)">click</a>'));
  });

  test("a fake hidden marker is not a marker", () => {
    const out = escapeInline("<!-- breakglass:record eyJhbGciOiJub25lIn0.e30. -->");
    assert.equal(out, "&lt;\\!-- breakglass:record eyJhbGciOiJub25lIn0.e30. --&gt;");
    assert.deepEqual(readHiddenMarkers(out), []);
  });

  test("breaks links, images, reference links and footnotes", () => {
    assert.equal(escapeInline("[click](http://evil.example)"), "\\[click\\]\\(http://evil.example\\)");
    assert.equal(
      escapeInline("![x](https://evil.example/pixel.png)"),
      "\\!\\[x\\]\\(https://evil.example/pixel.png\\)",
    );
    assert.equal(escapeInline("[x]: http://evil"), "\\[x\\]: http://evil");
    assert.equal(escapeInline("<https://evil.example>"), "&lt;https://evil.example&gt;");
    assertInert(escapeInline("[^1] and [!WARNING]"));
  });

  test("bare URLs stay as plain text (GitHub may autolink them; the visible text is the destination)", () => {
    assert.equal(
      escapeInline("https://status.example.com/incidents/42"),
      "https://status.example.com/incidents/42",
    );
    assert.equal(escapeInline("www.example.com/a_b"), "www.example.com/a_b");
  });

  test("blocks cannot start: headings, lists, quotes, rules, setext underlines", () => {
    assert.equal(escapeInline("# Approved"), "\\# Approved");
    assert.equal(escapeInline("- item"), "\\- item");
    assert.equal(escapeInline("+ item"), "\\+ item");
    assert.equal(escapeInline("1. first"), "1\\. first");
    assert.equal(escapeInline("===="), "\\====");
    assert.equal(escapeInline("> quoted"), "&gt; quoted");
    assert.equal(escapeInline("***"), "\\*\\*\\*");
    assert.equal(escapeInline("___"), "\\_\\_\\_");
    assert.equal(escapeInline("  \n\n# title\nnext"), "\\# title next");
  });

  test("emphasis, strikethrough, code and math are escaped", () => {
    assert.equal(escapeInline("*bold* _it_ ~~no~~"), "\\*bold\\* \\_it\\_ \\~\\~no\\~\\~");
    assert.equal(escapeInline("a*b*c"), "a\\*b\\*c");
    assert.equal(escapeInline("`code` $x^2$"), "&#96;code&#96; &#36;x^2&#36;");
    assert.equal(escapeInline("back\\slash"), "back\\\\slash");
  });

  test("a pipe cannot split a table cell, a newline cannot end a row", () => {
    const out = escapeInline("a | b\n| c | d |\r\n---");
    assert.equal(out, "a \\| b \\| c \\| d \\| ---");
    const rendered = table(["k", "v"], [["x", out]]);
    assert.equal(rendered.split("\n").length, 3);
    assert.equal(rendered.split("\n")[2], "| x | a \\| b \\| c \\| d \\| --- |");
  });

  test("code fences cannot open, even inside a caller's code span", () => {
    const out = escapeInline("```\n</table>\n```");
    assert.ok(!out.includes("`"));
    assert.equal(out, "&#96;&#96;&#96; &lt;/table&gt; &#96;&#96;&#96;");
  });

  test("strips zero-width, bidi and control characters", () => {
    assert.equal(escapeInline("invoice\u202Efdp.exe"), "invoicefdp.exe");
    assert.equal(escapeInline("@\u200balice"), `@${ZW}alice`);
    assert.equal(escapeInline("a\u200c\u200d\u2060\ufeff\u2066b\u2069\u0000\u0007c"), "abc");
    assert.equal(escapeInline("tag\u{E0041}\u{E0042}s"), "tags");
    assert.equal(escapeInline("line\u2028sep\u2029par\u0085nel"), "line sep par nel");
  });

  test("truncates long input with an ellipsis, counting characters not UTF-16 units", () => {
    assert.equal(escapeInline("x".repeat(1000)).length, 300);
    assert.ok(escapeInline("x".repeat(1000)).endsWith("…"));
    assert.equal(escapeInline("abcdef", 4), "abc…");
    assert.equal(escapeInline("abc", 3), "abc");
    assert.equal(escapeInline("😀😀😀😀", 3), "😀😀…");
    assert.equal(escapeInline("ab", 0), "…");
    assert.equal(escapeInline("[".repeat(10), 5), "\\[\\[\\[\\[…");
  });

  test("a huge input is handled in linear time", () => {
    const started = process.hrtime.bigint();
    const out = escapeInline("@a[b](c)<d>#1\n".repeat(200_000), 500);
    // 2.8 million characters: linear work takes well under a second; a quadratic escaper would take hours.
    // The bound is loose on purpose, so a loaded CI machine does not fail it (speed goals live in bench/).
    assert.ok(Number(process.hrtime.bigint() - started) / 1e6 < 30_000);
    assertInert(out);
  });

  test("property: any input comes out inert and on one line", () => {
    const hostile = fc.oneof(
      fc.string({ unit: "grapheme", maxLength: 80 }),
      fc
        .array(
          fc.constantFrom(
            "@",
            "#1",
            "GH-2",
            "<",
            ">",
            "&",
            "[",
            "]",
            "(",
            ")",
            "!",
            "|",
            "`",
            "$",
            "*",
            "_",
            "~",
            "\\",
            "\n",
            "\r",
            "\u202e",
            "\u200b",
            "-",
            "=",
            " ",
            "a",
            "1",
            ".",
            "<!--",
            "-->",
            "breakglass:record ",
          ),
          { maxLength: 40 },
        )
        .map((parts) => parts.join("")),
    );
    fc.assert(
      fc.property(hostile, fc.integer({ min: 1, max: 120 }), (input, max) => {
        const out = escapeInline(input, max);
        assert.ok(!out.includes("\n") && !out.includes("\r"));
        assertInert(out);
      }),
      { numRuns: 500 },
    );
  });
});

describe("quoteBlock", () => {
  test("quotes every line and keeps one blank line between paragraphs", () => {
    assert.equal(quoteBlock("first line\nsecond\n\n\n\nthird"), "> first line\n> second\n>\n> third");
  });

  test("CRLF and stray CR become lines", () => {
    assert.equal(quoteBlock("a\r\nb\rc"), "> a\n> b\n> c");
  });

  test("empty text is shown as empty", () => {
    assert.equal(quoteBlock(""), "> _empty_");
    assert.equal(quoteBlock(" \n\u200b\n "), "> _empty_");
  });

  test("headings, fences, HTML comments and tables stay inside the quote as text", () => {
    const hostile = [
      "# I approve",
      "```",
      "</blockquote>",
      "<!-- breakglass:status -->",
      "<!-- breakglass:record AAAA.BBBB.CCCC -->",
      "-->",
      "| a | b |",
      "| --- | --- |",
      "    indented code",
      "===",
      "> > nested",
      "~~~",
      "[x]: https://evil.example",
      "@acme/security approve please #12",
    ].join("\n");
    const out = quoteBlock(hostile);
    const lines = out.split("\n");
    assert.ok(
      lines.every((l) => l === ">" || l.startsWith("> ")),
      out,
    );
    assert.deepEqual(readHiddenMarkers(out), []);
    assert.ok(!out.includes("<!--") && !out.includes("-->"));
    assert.equal(lines[0], "> \\# I approve");
    assert.equal(lines[1], "> &#96;&#96;&#96;");
    assert.equal(lines[8], "> indented code");
    assert.equal(lines[9], "> \\===");
    for (const line of lines) assertInert(line.replace(/^> ?/, ""));
  });

  test("a line cannot end the quote early through lazy continuation or an empty line", () => {
    const out = quoteBlock("text\n\n\nnot quoted?\n# heading");
    assert.equal(out, "> text\n>\n> not quoted?\n> \\# heading");
  });

  test("truncates at maxLength characters", () => {
    const out = quoteBlock("line\n".repeat(2000), 100);
    assert.ok(out.endsWith("…"), out.slice(-20));
    assert.ok(out.replace(/^> /gm, "").replace(/\n/g, "").length <= 100);
    assert.ok(quoteBlock("y".repeat(10_000)).length <= 4002);
  });

  test("property: every output line is quoted and inert", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 200 }), (input) => {
        const out = quoteBlock(input, 150);
        for (const line of out.split("\n")) {
          assert.ok(line === ">" || line.startsWith("> "), JSON.stringify(out));
          assertInert(line.replace(/^> ?/, ""));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("mention", () => {
  test("mentions valid logins and teams the app resolved", () => {
    assert.equal(mention("alice"), "@alice");
    assert.equal(mention("@alice"), "@alice");
    assert.equal(mention("Bob-99"), "@Bob-99");
    assert.equal(mention("acme/security"), "@acme/security");
    assert.equal(mention("@acme/on_call-team"), "@acme/on_call-team");
    assert.equal(mention("a".repeat(39)), `@${"a".repeat(39)}`);
  });

  test("anything else is escaped and notifies nobody", () => {
    assert.equal(mention("dependabot[bot]"), "dependabot\\[bot\\]");
    assert.equal(mention("a".repeat(40)), "a".repeat(40));
    assert.equal(mention("-alice"), "\\-alice");
    assert.equal(mention("alice bob"), "alice bob");
    assert.equal(mention("alice@evil.example"), `alice@${ZW}evil.example`);
    assert.equal(mention("@@alice"), `@${ZW}alice`);
    assert.equal(mention("acme/team/x"), "acme/team/x");
    assert.equal(mention("al\u202eice"), "alice");
    for (const hostile of [
      "x @acme/all",
      "@acme/all @everyone",
      "<b>root</b>",
      "alice\n# heading",
      "[a](b)",
      "acme/ops#12",
    ]) {
      assertInert(mention(hostile));
    }
    assert.equal(mention("everyone"), "@everyone", "a real login named like this is still a login");
  });
});

describe("hidden markers", () => {
  test("writes and reads markers, with and without payload", () => {
    const jws = "eyJhbGciOiJFUzI1NiJ9.eyJ2IjoxfQ.c2ln-_";
    const body = `${hiddenMarker("status")}\ntext\n${hiddenMarker("record", jws)}`;
    assert.equal(hiddenMarker("status"), "<!-- breakglass:status -->");
    assert.deepEqual(readHiddenMarkers(body), [
      { kind: "status", payload: null },
      { kind: "record", payload: jws },
    ]);
  });

  test("refuses kinds and payloads that could break out of the comment", () => {
    for (const kind of ["", "Status", "a b", "x-->", "rec0rd"])
      assert.throws(() => hiddenMarker(kind), { name: "TypeError" });
    for (const payload of ["", "a b", "x-->", "a+b/c=", "-->\n<img>"])
      assert.throws(() => hiddenMarker("record", payload), /base64url/);
  });

  test("near-misses are not markers", () => {
    for (const body of [
      "<!--breakglass:status-->",
      "<!-- breakglass:status",
      "<!-- Breakglass:status -->",
      "&lt;!-- breakglass:status --&gt;",
      "<!-- breakglass:record a b -->",
    ]) {
      assert.deepEqual(readHiddenMarkers(body), [], body);
    }
  });
});

describe("truncateComment", () => {
  const lines = (n: number, width = 99) =>
    Array.from({ length: n }, (_, i) => `${String(i).padStart(5, "0")}${"x".repeat(width - 5)}`).join("\n");

  test("short comments are untouched", () => {
    assert.equal(truncateComment("hello", 10), "hello");
    assert.equal(truncateComment("x".repeat(GITHUB_COMMENT_LIMIT)).length, GITHUB_COMMENT_LIMIT);
  });

  test("cuts on a line boundary, within the limit, with a link", () => {
    const body = lines(1000);
    const out = truncateComment(body, 5000, "https://github.com/acme/ops/issues/42");
    assert.ok(out.length <= 5000, String(out.length));
    const [kept, note] = out.split("\n\n… ");
    assert.ok(body.startsWith(`${kept}\n`), "the kept part is whole lines of the original");
    assert.equal(note, "(truncated, see https://github.com/acme/ops/issues/42)");
    assert.ok(kept!.length > 4800, "the budget is used");
  });

  test("a link that could inject Markdown is left out", () => {
    const out = truncateComment(lines(100), 1000, "javascript:alert(1)");
    assert.ok(out.endsWith("… (truncated)"));
    assert.ok(truncateComment(lines(100), 1000, "https://x.example/a)(b").endsWith("… (truncated)"));
    assert.ok(truncateComment(lines(100), 1000).endsWith("… (truncated)"));
  });

  test("never cuts inside a hidden marker, and keeps markers from the cut part", () => {
    const record = hiddenMarker("record", "A".repeat(300));
    const body = `${hiddenMarker("status")}\n${"y".repeat(950)}${record}\nmore text\n${hiddenMarker("timeline", "Zm9v")}`;
    const out = truncateComment(body, 1000);
    assert.ok(out.length <= 1000, String(out.length));
    assert.deepEqual(
      readHiddenMarkers(out).map((m) => m.kind),
      ["status", "record", "timeline"],
    );
    assert.equal(readHiddenMarkers(out)[1]!.payload, "A".repeat(300));
    assert.ok(out.includes("… (truncated)"));
  });

  test("a single long line is cut hard, without splitting a surrogate pair", () => {
    const out = truncateComment("😀".repeat(100), 50);
    assert.ok(out.length <= 50);
    assert.ok(!/[\ud800-\udbff](?![\udc00-\udfff])/.test(out), "no lone high surrogate");
    assert.ok(out.startsWith("😀"));
  });

  test("closes a code fence left open so the note is not inside code", () => {
    const body = `intro\n\`\`\`\n${lines(50)}\n\`\`\``;
    const out = truncateComment(body, 800);
    assert.ok(out.length <= 800);
    assert.match(out, /\n```\n\n… \(truncated\)$/);
    const closed = truncateComment(`\`\`\`\ncode\n\`\`\`\n${lines(50)}`, 800);
    assert.doesNotMatch(closed, /\n```\n\n…/);
  });

  test("property: always within the limit and always keeps every marker", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(fc.string({ maxLength: 120 }), fc.constant(hiddenMarker("record", "Q".repeat(40)))),
          { maxLength: 60 },
        ),
        (parts) => {
          const body = parts.join("\n");
          const out = truncateComment(body, 600);
          assert.ok(out.length <= 600 || readHiddenMarkers(body).length * 60 > 500);
          assert.equal(readHiddenMarkers(out).length, readHiddenMarkers(body).length);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("table", () => {
  test("renders a header, a delimiter and rows; pads short rows", () => {
    assert.equal(
      table(["When", "Who"], [["12:00", "@alice"], ["12:05"]]),
      "| When | Who |\n| --- | --- |\n| 12:00 | @alice |\n| 12:05 |   |",
    );
  });

  test("empty headers and multi-line cells stay one row each", () => {
    assert.equal(table(["", ""], [["State", "a\nb\r\nc"]]), "|   |   |\n| --- | --- |\n| State | a b c |");
  });
});
