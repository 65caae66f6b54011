import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { readChartJs } from "../../src/audit/chart-library.ts";
import { collectAudit, type AuditCollection } from "../../src/audit/collect.ts";
import { escapeHtml, formatHtml, scriptJson } from "../../src/audit/format-html.ts";
import { chartData } from "../../src/audit/report-stats.ts";
import { buildRepo, DAY, fakePort, mixedHistory, T0, XSS } from "./history-fixtures.ts";

const count = (text: string, pattern: RegExp) => (text.match(pattern) ?? []).length;

describe("html report", () => {
  let collection: AuditCollection;
  let chartJs: string;
  let html: string;
  before(async () => {
    const { specs, reviews } = mixedHistory();
    const repo = await buildRepo(specs, reviews);
    collection = await collectAudit(fakePort(repo), { jwks: repo.jwks, now: T0 + 30 * DAY });
    chartJs = await readChartJs();
    html = formatHtml(collection, chartJs);
  });

  it("is one file: Chart.js inlined, no external script, style, image or frame", () => {
    assert.match(chartJs, /Chart\.js v4\./);
    assert.ok(html.includes(chartJs), "the library is inlined whole");
    assert.ok(!/<script[^>]*\ssrc\s*=/i.test(html), "no <script src>");
    assert.ok(!/<link\b/i.test(html), "no <link>");
    assert.ok(
      !/<(img|iframe|object|embed|video|audio|source)\b/i.test(html.replace(chartJs, "")),
      "no embedded resources",
    );
    assert.ok(
      !/\b(src|href)\s*=\s*["']?\s*(https?:)?\/\//i.test(
        html.replace(
          /<a href="https:\/\/github\.com\/acme\/ops\/issues\/\d+" rel="noopener noreferrer">/g,
          "",
        ),
      ),
      "no network address in src/href except links to the issues",
    );
    assert.ok(!/@import|url\(/i.test(html.replace(chartJs, "")), "no CSS imports or urls");
    assert.match(
      html,
      /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:;/,
    );
  });

  it("escapes every text people wrote", () => {
    assert.ok(!html.includes(XSS));
    assert.ok(!html.includes('<script>alert("pwned")'));
    assert.ok(!html.includes("<img src=x"));
    assert.ok(
      html.includes(
        "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;",
      ),
    );
    assert.equal(count(html, /<script\b/gi), 3, "the data, Chart.js and our script, nothing else");
    assert.equal(count(html, /<\/script>/gi), 3);
  });

  it("carries the chart data as JSON that a hostile resource name cannot break out of", () => {
    const hostile = "</script><script>alert(1)</script><!--";
    const rows = [
      { ...collection.rows[0]!, resource: hostile, requester: "\u2028x", justification: "</ScRiPt>" },
    ];
    const page = formatHtml({ ...collection, rows }, chartJs);
    assert.equal(count(page, /<script\b/gi), 3);
    assert.equal(count(page, /<\/script>/gi), 3);
    assert.ok(!page.replace(chartJs, "").includes("<!--"));
    const json = /<script type="application\/json" id="report-data">([^<]*)<\/script>/.exec(page)?.[1];
    assert.ok(json, "the data element is intact");
    assert.deepEqual(JSON.parse(json), chartData(rows));
    assert.equal((JSON.parse(json) as ReturnType<typeof chartData>).timeline.series[0]!.resource, hostile);
  });

  it("has a sortable table with one row per request, the charts and the summary", () => {
    const tbody = /<tbody>([\s\S]*)<\/tbody>/.exec(html)![1]!;
    assert.equal(count(tbody, /<tr\b/g), collection.rows.length);
    assert.equal(count(html, /<th data-type="(num|text)" aria-sort="none"><button type="button">/g), 16);
    for (const id of ["chart-timeline", "chart-approve", "chart-revoke", "chart-flags", "chart-drills"])
      assert.match(html, new RegExp(`<canvas id="${id}"`));
    assert.match(html, /All 11 audit chain\(s\) verified/);
    assert.match(html, /<div class="value">2<\/div><div class="label">Break-glass<\/div>/);
    assert.match(tbody, /<span class="status bad">revoke_failed<\/span>/);
    assert.match(
      tbody,
      /<td data-sort="4"><a href="https:\/\/github\.com\/acme\/ops\/issues\/4" rel="noopener noreferrer">#4<\/a><\/td>/,
    );
  });

  it("warns when unverified and when a chain is broken", () => {
    const unverified = formatHtml(
      {
        ...collection,
        verified: false,
        rows: collection.rows.map((r) => ({ ...r, chain_status: "unverified" as const })),
      },
      chartJs,
    );
    assert.match(unverified, /class="banner warn"><strong>Audit chains were not verified<\/strong>/);
    const broken = formatHtml(
      {
        ...collection,
        rows: [{ ...collection.rows[0]!, chain_status: "broken", chain_problem: "entry 2: bad signature" }],
      },
      chartJs,
    );
    assert.match(broken, /class="banner bad"><strong>1 audit chain\(s\) are broken/);
    assert.match(broken, /<td class="bad">6 broken: entry 2: bad signature<\/td>/);
  });

  it("a link is only made from a web address", () => {
    const page = formatHtml(
      { ...collection, rows: [{ ...collection.rows[0]!, url: "javascript:alert(1)" }] },
      chartJs,
    );
    assert.ok(!page.includes("javascript:alert(1)"));
  });

  it("refuses a chart library that could close its script element", () => {
    assert.throws(() => formatHtml(collection, "var a = '</script>';"), /cannot be inlined/);
    assert.throws(() => formatHtml(collection, "var a = '<!--';"), /cannot be inlined/);
  });

  it("escapeHtml and scriptJson", () => {
    assert.equal(
      escapeHtml(`<a href="x" onclick='y'>&</a>`),
      "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;",
    );
    assert.equal(escapeHtml(null), "");
    const tricky = { s: "</script>&<!--\u2028\u2029" };
    const text = scriptJson(tricky);
    assert.ok(!/[<>&\u2028\u2029]/.test(text));
    assert.deepEqual(JSON.parse(text), tricky);
  });
});
