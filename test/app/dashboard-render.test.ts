/**
 * renderDashboard on hostile and edge-case data: every value people control (resource, role, login,
 * error text, links) must come out as text, links only to http(s), failed revocations first and in red.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { DashboardData, DashboardRow } from "../../src/app/http/dashboard/collect-dashboard.ts";
import { renderDashboard } from "../../src/app/http/dashboard/render-dashboard.ts";

const NOW = "2026-03-01T12:00:00.000Z";
const at = (minutesFromNow: number) => new Date(Date.parse(NOW) + minutesFromNow * 60_000).toISOString();

function row(over: Partial<DashboardRow> = {}): DashboardRow {
  return {
    repository: "acme/ops",
    issue: 7,
    url: "https://github.com/acme/ops/issues/7",
    status: "active",
    requester: "dave",
    resource: "prod-database",
    role: "read",
    severity: "high",
    drill: false,
    break_glass: false,
    requested_at: at(-20),
    expires_at: at(40),
    ended_at: null,
    approvers: ["@acme/dba"],
    approvals: ["carol"],
    revocation_error: null,
    uses: 0,
    last_use: null,
    ...over,
  };
}

function data(over: Partial<DashboardData> = {}): DashboardData {
  return { generated_at: NOW, active: [], pending: [], failed: [], recent: [], last_drill: null, ...over };
}

/** The inner HTML of `<section id="…">`, or null when the page has no such section. */
function section(html: string, id: string): string | null {
  const m = new RegExp(`<section id="${id}">([\\s\\S]*?)</section>`).exec(html);
  return m ? m[1]! : null;
}

const hrefs = (html: string) => [...html.matchAll(/<a href="([^"]*)"/g)].map((m) => m[1]!);

/** Every tag the page may contain; anything else means a value escaped into markup. */
const ALLOWED_TAGS = new Set([
  "!doctype",
  "html",
  "head",
  "meta",
  "title",
  "style",
  "body",
  "h1",
  "h2",
  "p",
  "span",
  "section",
  "table",
  "thead",
  "tbody",
  "tr",
  "th",
  "td",
  "a",
  "code",
  "strong",
]);
function tagsOf(html: string): string[] {
  const withoutStyle = html.replace(/<style>[\s\S]*?<\/style>/, "<style></style>");
  return [...withoutStyle.matchAll(/<\/?([!a-zA-Z][a-zA-Z0-9-]*)/g)].map((m) => m[1]!.toLowerCase());
}

const HOSTILE = [
  "<script>alert(1)</script>",
  '"><img src=x onerror=alert(1)>',
  "' onmouseover='alert(1)",
  "</td></tr></table><iframe src=//evil.example>",
  "&lt;script&gt;",
  "<svg/onload=alert(1)>",
  "</style><script>x()</script>",
  "</title><script>x()</script>",
];

describe("renderDashboard escapes hostile values", () => {
  it("resource, role, login, approvers, error, repository and status come out as text", () => {
    for (const evil of HOSTILE) {
      const hostile = row({
        resource: evil,
        role: evil,
        requester: evil,
        approvers: [evil],
        approvals: [evil],
        revocation_error: evil,
        repository: evil,
        status: evil,
        severity: evil,
      });
      const html = renderDashboard(
        data({
          active: [hostile],
          pending: [{ ...hostile, issue: 8 }],
          failed: [{ ...hostile, issue: 9 }],
          recent: [{ ...hostile, issue: 10, ended_at: at(-5) }],
          last_drill: { ...hostile, issue: 11, drill: true },
        }),
      );
      assert.deepEqual(
        tagsOf(html).filter((t) => !ALLOWED_TAGS.has(t)),
        [],
        `no markup from ${JSON.stringify(evil)}`,
      );
      assert.doesNotMatch(
        html,
        /<script|<img|<iframe|<svg|<[^>]*\son[a-z]+=/i,
        "no new element and no event handler inside a tag",
      );
      assert.ok(!html.includes(evil), `the raw value ${JSON.stringify(evil)} never appears`);
      // The page stays one document: one <title>, one <style>, no extra </section> from a value.
      assert.equal(html.match(/<title>/g)?.length, 1);
      assert.equal(html.match(/<\/style>/g)?.length, 1);
      assert.equal(html.match(/<section /g)?.length, html.match(/<\/section>/g)?.length);
    }
  });

  it("shows the escaped text so people can still read what was written", () => {
    const html = renderDashboard(
      data({ active: [row({ resource: "<script>alert(1)</script>", requester: 'o"brien' })] }),
    );
    assert.ok(html.includes("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert.ok(html.includes("o&quot;brien"));
    // An already-escaped value is escaped again, not decoded.
    assert.ok(renderDashboard(data({ active: [row({ role: "&lt;b&gt;" })] })).includes("&amp;lt;b&amp;gt;"));
  });

  it("links only to http(s); javascript:, data: and look-alikes become #", () => {
    const bad = [
      "javascript:alert(1)",
      "JavaScript:alert(1)",
      " javascript:alert(1)",
      "\tjavascript:alert(1)",
      "java\nscript:alert(1)",
      "data:text/html,<script>alert(1)</script>",
      "vbscript:msgbox(1)",
      "//evil.example/x",
      "/relative",
      "",
      "httpx://evil",
      "file:///etc/passwd",
    ];
    for (const url of bad) {
      const html = renderDashboard(
        data({
          active: [row({ url })],
          pending: [row({ url, issue: 8 })],
          failed: [row({ url, issue: 9 })],
          recent: [row({ url, issue: 10 })],
          last_drill: row({ url, issue: 11 }),
        }),
      );
      const links = hrefs(html);
      assert.equal(links.length, 5, `five links for ${JSON.stringify(url)}`);
      assert.deepEqual(links, ["#", "#", "#", "#", "#"], `${JSON.stringify(url)} is not linked`);
    }
  });

  it("keeps a good link, with quotes in it escaped so it cannot leave the attribute", () => {
    const good = renderDashboard(data({ active: [row()] }));
    assert.deepEqual(hrefs(good), ["https://github.com/acme/ops/issues/7"]);
    const html = renderDashboard(
      data({ active: [row({ url: 'https://github.com/acme/ops/issues/7" onclick="alert(1)' })] }),
    );
    assert.doesNotMatch(html, /" onclick="/);
    assert.match(
      html,
      /<a href="https:\/\/github\.com\/acme\/ops\/issues\/7&quot; onclick=&quot;alert\(1\)">/,
    );
  });

  it("never emits markup from arbitrary strings (property)", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), fc.string(), (resource, requester, error, url) => {
        const r = row({ resource, requester, revocation_error: error, url, approvers: [requester] });
        const html = renderDashboard(
          data({ failed: [{ ...r, status: "revoke_failed" }], active: [r], pending: [r] }),
        );
        const extra = tagsOf(html).filter((t) => !ALLOWED_TAGS.has(t));
        const badLink = hrefs(html).find((h) => h !== "#" && !/^https?:\/\//.test(h));
        return extra.length === 0 && badLink === undefined && !/<script/i.test(html);
      }),
      { numRuns: 300 },
    );
  });
});

describe("renderDashboard layout", () => {
  it("shows failed revocations first, in red, with the error, and says FAILED in the title", () => {
    const html = renderDashboard(
      data({
        failed: [
          row({ issue: 3, status: "revoke_failed", revocation_error: "AWS said AccessDenied on DeleteRole" }),
        ],
        active: [row({ issue: 4 })],
        pending: [row({ issue: 5, status: "requested", expires_at: null })],
        recent: [row({ issue: 6, status: "expired", ended_at: at(-90) })],
      }),
    );
    const order = ["failed", "active", "pending", "drill", "recent"].map((id) =>
      html.indexOf(`<section id="${id}">`),
    );
    assert.ok(
      order.every((i) => i > 0),
      `every section present: ${order.join(",")}`,
    );
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      order,
      "failed first, then active, pending, drills, ended",
    );
    const failed = section(html, "failed")!;
    assert.match(failed, /Failed revocations/);
    assert.match(failed, /acme\/ops#3/);
    assert.match(failed, /<span class="bad">AWS said AccessDenied on DeleteRole<\/span>/);
    assert.match(html, /#failed table \{[^}]*#cf222e/, "the failed table is drawn in red");
    assert.match(html, /#failed h2 \{[^}]*color: #cf222e/);
    assert.match(html, /<title>[^<]*1 FAILED<\/title>/);
    assert.doesNotMatch(
      section(html, "active")!,
      /acme\/ops#3\b/,
      "a failed revocation is not listed as a normal active grant",
    );
  });

  it("leaves the red section out and the title calm when nothing failed", () => {
    const html = renderDashboard(data({ active: [row()] }));
    assert.equal(section(html, "failed"), null);
    assert.doesNotMatch(html, /FAILED/);
    assert.match(html, /<title>Breakglass — 1 active, 0 pending<\/title>/);
  });

  it("has a meta refresh, 15 s by default or as asked", () => {
    assert.match(renderDashboard(data()), /<meta http-equiv="refresh" content="15">/);
    assert.match(renderDashboard(data()), /refreshes every 15 s/);
    assert.match(renderDashboard(data(), 60), /<meta http-equiv="refresh" content="60">/);
  });

  it("shows time left, waiting time, who may approve, outcome and drill result", () => {
    const html = renderDashboard(
      data({
        active: [row({ issue: 4, expires_at: at(95), approvals: ["carol", "bob"], break_glass: true })],
        pending: [
          row({ issue: 5, status: "requested", requested_at: at(-12), approvers: ["@acme/dba", "carol"] }),
        ],
        recent: [
          row({ issue: 6, status: "revoke_failed_then_cleaned", ended_at: at(-90) }),
          row({ issue: 8, status: "expired", ended_at: at(-3) }),
        ],
        last_drill: row({ issue: 9, drill: true, status: "expired", requested_at: at(-60 * 26) }),
      }),
    );
    const active = section(html, "active")!;
    assert.match(active, /<strong>1h35m<\/strong>/);
    assert.match(active, /carol, bob/);
    assert.match(active, /break-glass/);
    const pending = section(html, "pending")!;
    assert.match(pending, /<td>12m<\/td>/);
    assert.match(pending, /@acme\/dba, carol/);
    const recent = section(html, "recent")!;
    assert.match(recent, /1h30m ago/);
    assert.match(recent, /3m ago/);
    assert.match(recent, /<td>expired<\/td>/);
    assert.match(
      section(html, "drill")!,
      /Last drill: <a href="https:\/\/github\.com\/acme\/ops\/issues\/7">acme\/ops#9<\/a> — <strong>expired<\/strong>, 1d2h ago/,
    );
    // An expiry already past shows 0s, not a negative time.
    assert.match(
      section(renderDashboard(data({ active: [row({ expires_at: at(-5) })] })), "active")!,
      /<strong>0s<\/strong>/,
    );
  });

  it("says so when every list is empty", () => {
    const html = renderDashboard(data());
    assert.match(section(html, "active")!, /No active grants\./);
    assert.match(section(html, "pending")!, /Nothing waiting\./);
    assert.match(section(html, "recent")!, /Nothing ended recently\./);
    assert.match(section(html, "drill")!, /No drill in the last 7 days\./);
  });
});

describe("hidden characters", () => {
  it("bidi controls and invisible characters in any value never reach the page", () => {
    const sneaky = "prod\u202e-db\u2066x\u2069\u200b\u200d\ufeff\u{e0041}";
    const r = row({
      resource: sneaky,
      role: sneaky,
      requester: sneaky,
      revocation_error: sneaky,
      status: "revoke_failed",
    });
    const page = renderDashboard(data({ active: [r], pending: [r], failed: [r], recent: [r] }));
    assert.doesNotMatch(page, /[\u202a-\u202e\u2066-\u2069\u200b-\u200f\ufeff]|\u{e0041}/u);
    assert.ok(page.includes("prod-dbx"), "the visible text stays");
  });
});

describe("governance on the dashboard", () => {
  it("tags a retroactive record, and lists unconfirmed access reviews with the overdue ones in red, every value escaped", () => {
    const html = renderDashboard(
      data({
        pending: [row({ status: "requested", retroactive: true, expires_at: null })],
        access_reviews: [
          {
            repository: "acme/ops",
            period: "2026-02",
            issue: 12,
            resource: "<b>prod</b>",
            status: "overdue",
            due_at: "2026-02-15T00:00:00.000Z",
            confirmed_by: null,
            confirmed_at: null,
            approvers: ["bob", "carol"],
            unused: ["carol"],
            started_at: "2026-02-01T00:00:00.000Z",
            overdue_notified_at: "2026-02-16T08:00:00.000Z",
          },
        ],
      }),
    );
    assert.match(section(html, "pending")!, /<span class="tag bad">retroactive<\/span>/);
    const reviews = section(html, "access-reviews")!;
    assert.match(reviews, /Access reviews to confirm \(1 overdue\)/);
    assert.match(reviews, /<code>&lt;b&gt;prod&lt;\/b&gt;<\/code>/);
    assert.match(reviews, /<span class="bad">overdue since 2026-02-15<\/span> · owners told 2026-02-16/);
    assert.equal(section(renderDashboard(data()), "access-reviews"), null, "nothing to confirm: no section");
  });
});
