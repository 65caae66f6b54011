import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import fc from "fast-check";
import { collectAudit, type AuditCollection } from "../../src/audit/collect.ts";
import { renderExport } from "../../src/audit/formats.ts";
import { formatCsv } from "../../src/audit/format-csv.ts";
import { formatHtml } from "../../src/audit/format-html.ts";
import { formatJson } from "../../src/audit/format-json.ts";
import { formatJsonl } from "../../src/audit/format-jsonl.ts";
import { formatMarkdown } from "../../src/audit/format-md.ts";
import { buildRepo, DAY, fakePort, mixedHistory, T0 } from "./history-fixtures.ts";

const FORBIDDEN =
  // eslint-disable-next-line no-control-regex, no-misleading-character-class -- these characters are what the test looks for
  /[\p{Cf}\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u034f\u115f\u1160\u3164\uffa0]|[\u{e0000}-\u{e0fff}]/u;
const HIDDEN = [
  "\u202e",
  "\u202d",
  "\u2066",
  "\u2069",
  "\u200f",
  "\u061c",
  "\u200b",
  "\u200d",
  "\u2060",
  "\ufeff",
  "\u00ad",
  "\u{e0041}",
  "\u3164",
  "\u0007",
];
const hostile = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc
    .array(fc.constantFrom(...HIDDEN, "a", "1", "=", "@", "#1", "<", "&", ",", '"', "\n", " "), {
      minLength: 1,
      maxLength: 30,
    })
    .map((a) => a.join("")),
);

/** Every string a person could have written, anywhere in the rows, replaced by `text`. */
function poisoned(collection: AuditCollection, text: string): AuditCollection {
  const rows = collection.rows.map((row) => ({
    ...row,
    requester: text,
    justification: text,
    incident: text,
    break_glass_reason: text,
    ended_note: text,
    last_revocation_error: text,
    chain_problem: text,
    approvals: row.approvals.map((a) => ({ ...a, detail: text })),
  }));
  return { ...collection, rows };
}

describe("no export carries a bidi or invisible character", () => {
  let collection: AuditCollection;
  before(async () => {
    const { specs, reviews } = mixedHistory();
    const repo = await buildRepo(specs, reviews);
    collection = await collectAudit(fakePort(repo), { jwks: repo.jwks, now: T0 + 30 * DAY });
  });

  it("property: csv, json, md and html of rows full of hidden characters", () => {
    fc.assert(
      fc.property(hostile, (text) => {
        const c = poisoned(collection, `x${text}\u202ey`);
        const outputs: Array<[string, string]> = [
          ["csv", formatCsv(c)],
          ["json", formatJson(c)],
          // Markdown defuses "@name" and "#1" with the app's own U+200B right after the sign.
          ["md", formatMarkdown(c).replace(/(?<=[@#-])\u200b/g, "")],
          ["html", formatHtml(c, "/* chart library */")],
        ];
        for (const [format, out] of outputs) {
          const bad = FORBIDDEN.exec(out);
          assert.equal(
            bad,
            null,
            `${format}: U+${bad?.[0].codePointAt(0)?.toString(16)} in ${JSON.stringify(out.slice(Math.max(0, (bad?.index ?? 0) - 40), (bad?.index ?? 0) + 40))}`,
          );
        }
      }),
      { numRuns: 60 },
    );
  });

  it("jsonl holds the signed records unchanged (base64url has nothing to strip), so they still verify", async () => {
    const out = formatJsonl(collection);
    assert.equal(FORBIDDEN.exec(out), null);
    assert.deepEqual(
      out
        .trim()
        .split("\n")
        .map((l) => (JSON.parse(l) as { jws: string }).jws),
      collection.records.map((r) => r.jws),
    );
    assert.equal(await renderExport("jsonl", collection), out);
  });
});
