import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { collectAudit, type AuditCollection } from "../../src/audit/collect.ts";
import { formatMarkdown } from "../../src/audit/format-md.ts";
import { buildRepo, DAY, fakePort, mixedHistory, T0 } from "./history-fixtures.ts";

describe("markdown export", () => {
  let verified: AuditCollection;
  let unverified: AuditCollection;
  before(async () => {
    const { specs, reviews } = mixedHistory();
    const repo = await buildRepo(specs, reviews);
    verified = await collectAudit(fakePort(repo), { jwks: repo.jwks, now: T0 + 30 * DAY });
    unverified = await collectAudit(fakePort(repo), { now: T0 + 30 * DAY });
  });

  it("is a table with one line per request and a totals table", () => {
    const md = formatMarkdown(verified);
    const lines = md.split("\n");
    assert.equal(lines[0], "# Break-glass audit: acme/ops");
    const header = lines.findIndex((l) => l.startsWith("| Issue | Requested (UTC) | Requester |"));
    assert.ok(header > 0);
    const body = lines.slice(header + 2, header + 2 + verified.rows.length);
    assert.ok(
      body.every((l) => l.startsWith("| [#")),
      body.join("\n"),
    );
    assert.equal(lines[header + 2 + verified.rows.length], "");
    assert.match(md, /Audit chains: 11 verified, 0 broken\./);
    assert.match(md, /## Totals/);
    assert.match(md, /\| Requests \| 11 \|/);
    assert.match(md, /\| Break-glass self-approvals \| 2 \|/);
    assert.match(md, /\| Drills \| 1 \(1 passed, 0 failed, 0 in progress\) \|/);
    assert.match(md, /\| Median time to approve \| 1m \|/);
    assert.match(md, /^Generated 2026-04-01 09:00:00 UTC\. 11 request\(s\)\.$/m);
    assert.match(md, /\| revoked \(job_ended\) \|/);
    assert.match(md, /\| denied \|/);
    assert.match(
      md,
      /\| \[#4\]\(https:\/\/github\.com\/acme\/ops\/issues\/4\) \|.*\| revoke_failed \|.*\| outlived expiry, revoke failed \|/,
    );
  });

  it("escapes what people wrote: no HTML, no table breakout, no mentions", () => {
    const md = formatMarkdown(verified);
    assert.ok(!md.includes("<script>"));
    assert.ok(md.includes("&lt;script&gt;"));
    const hostile = {
      ...verified.rows[0]!,
      justification: "ping @acme/security | evil | cell\nnew line",
      requester: "dave",
    };
    const out = formatMarkdown({ ...verified, rows: [hostile] });
    const row = out.split("\n").find((l) => l.startsWith("| [#1]"))!;
    assert.ok(!/(^|[^\\])\|\s*evil/.test(row), row);
    assert.ok(!row.includes("@acme/security"), "no live mention");
    assert.equal(
      out.split("\n").filter((l) => l.startsWith("| [#1]")).length,
      1,
      "a line break cannot split the row",
    );
  });

  it("says loudly when nothing was verified", () => {
    assert.match(formatMarkdown(unverified), /\*\*Audit chains were not verified\*\* \(no keys given\)/);
    assert.match(formatMarkdown(unverified), /\| Audit chains \| 0 verified, 0 broken, 11 unverified \|/);
  });

  it("a link is only made from a web address", () => {
    const out = formatMarkdown({ ...verified, rows: [{ ...verified.rows[0]!, url: "javascript:alert(1)" }] });
    assert.ok(!out.includes("javascript:alert(1)"));
    assert.match(out, /\| #1 \|/);
  });
});
