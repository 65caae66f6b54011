import { accessReviewsHtml } from "./access-review-export.ts";
import { formatDuration } from "../core/duration.ts";
import { escapeHtml } from "../core/escape-html.ts";
import type { AuditRow } from "./audit-row.ts";
import type { AuditCollection } from "./collect.ts";
import { chartData, FLAG_LABELS, reportTotals } from "./report-stats.ts";
import { describeApproval, describeChecklist, describeUse } from "./row-text.ts";
import { visibleStrings } from "./format-json.ts";

/**
 * The report forbids itself every network load: it must open the same on an air-gapped laptop, and
 * if some text ever slipped past the escaping, injected markup could still load or send nothing.
 */
const CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

export { escapeHtml };

/**
 * JSON that can sit inside a <script> element: nothing in it can close the element or open a comment,
 * and no string in it carries an invisible or bidi character into the charts.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value, visibleStrings)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/**
 * One self-contained HTML file: summary, charts (Chart.js inlined from `chartJs`) and a sortable,
 * filterable table of every request. All text people wrote is escaped; the table reads fine without
 * scripts, the charts need them.
 */
export function formatHtml(collection: AuditCollection, chartJs: string): string {
  if (/<\/script|<!--/i.test(chartJs))
    throw new TypeError("formatHtml: the chart library cannot be inlined (it contains </script or <!--)");
  const t = reportTotals(collection.rows);
  const charts = chartData(collection.rows);
  const f = collection.filters;
  const filters = [
    f.since && `since ${f.since}`,
    f.until && `until ${f.until}`,
    f.resource && `resource ${f.resource}`,
  ]
    .filter(Boolean)
    .join(" · ");
  const banner = !collection.verified
    ? `<p class="banner warn"><strong>Audit chains were not verified</strong>: no keys were given, so the rows show what the records claim, not what is proven. Export again with <code>--jwks</code> or run <code>breakglass audit verify</code>.</p>`
    : t.chains.broken > 0
      ? `<p class="banner bad"><strong>${t.chains.broken} audit chain(s) are broken</strong>: see the Chain column. ${t.chains.verified} verified.</p>`
      : `<p class="banner ok">All ${t.chains.verified} audit chain(s) verified against the app's keys.</p>`;
  const dur = (s: number | null) => (s === null ? "—" : formatDuration(s));
  const tiles: Array<[string, string, string?]> = [
    ["Requests", String(t.requests)],
    ["Granted", String(t.granted)],
    ["Break-glass", String(t.break_glass), t.break_glass ? "warn" : ""],
    ["Revoke failed", String(t.by_status.revoke_failed ?? 0), t.by_status.revoke_failed ? "bad" : ""],
    ["With flags", String(t.flagged), t.flagged ? "warn" : ""],
    ["Drills passed", `${t.drills.passed} / ${t.drills.total}`, t.drills.failed ? "bad" : ""],
    ["Median time to approve", dur(t.median_time_to_approve_seconds)],
    ["Median time to revoke", dur(t.median_time_to_revoke_seconds)],
  ];
  const title = `Break-glass audit — ${collection.repository}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>Break-glass audit <span class="repo">${escapeHtml(collection.repository)}</span></h1>
<p class="meta">Generated ${escapeHtml(collection.generated_at.replace("T", " ").replace(/\.\d{3}Z$/, " UTC"))}${filters ? ` · ${escapeHtml(filters)}` : ""} · ${t.requests} request(s)</p>
</header>
<main>
${banner}
<section class="tiles">
${tiles.map(([label, value, tone]) => `<div class="tile ${tone ?? ""}"><div class="value">${escapeHtml(value)}</div><div class="label">${escapeHtml(label)}</div></div>`).join("\n")}
</section>
<section class="charts">
${chart("chart-timeline", `Requests per resource (per ${charts.timeline.period})`, "wide")}
${chart("chart-approve", "Time to approve")}
${chart("chart-revoke", "Time to revoke after it was due")}
${chart("chart-flags", "Break-glass and overuse flags")}
${chart("chart-drills", "Drill results")}
</section>
<section>
<h2>Requests</h2>
<p><label>Filter <input type="search" id="filter" placeholder="requester, resource, status…" autocomplete="off"></label> <span id="shown"></span></p>
<div class="scroll">
<table id="requests">
<thead><tr>${HEADERS.map(([label, type]) => `<th data-type="${type}" aria-sort="none"><button type="button">${escapeHtml(label)}</button></th>`).join("")}</tr></thead>
<tbody>
${collection.rows.map(renderRow).join("\n")}
</tbody>
</table>
</div>
${collection.rows.length === 0 ? `<p class="empty">No requests match.</p>` : ""}
</section>
${collection.access_reviews ? accessReviewsHtml(collection.access_reviews.rows) : ""}
</main>
<footer>Flags: ${(Object.entries(FLAG_LABELS) as Array<[string, string]>).map(([key, label]) => `<code>${escapeHtml(key)}</code> ${escapeHtml(label)}`).join(" · ")}</footer>
<script type="application/json" id="report-data">${scriptJson(charts)}</script>
<script>${chartJs}</script>
<script>${CLIENT}</script>
</body>
</html>
`;
}

const HEADERS: Array<[string, "num" | "text"]> = [
  ["Issue", "num"],
  ["Requested (UTC)", "text"],
  ["Requester", "text"],
  ["Resource", "text"],
  ["Role", "text"],
  ["Severity", "num"],
  ["Status", "text"],
  ["Approved by", "text"],
  ["Used / requested", "num"],
  ["To approve", "num"],
  ["To revoke", "num"],
  ["Credential", "text"],
  ["Review", "text"],
  ["Flags", "text"],
  ["Chain", "text"],
  ["Justification", "text"],
];

const SEVERITY_RANK: Record<string, number> = { low: 1, medium: 2, high: 3, critical: 4 };
const STATUS_TONE: Record<string, string> = {
  revoke_failed: "bad",
  active: "warn",
  approved: "warn",
  requested: "warn",
  expired: "ok",
  revoked: "ok",
};

function renderRow(r: AuditRow): string {
  const cell = (content: string, sort?: string | number | null, cls = "") =>
    `<td${cls ? ` class="${cls}"` : ""}${sort === undefined || sort === null ? "" : ` data-sort="${escapeHtml(sort)}"`}>${content}</td>`;
  const link = /^https?:\/\//i.test(r.url)
    ? `<a href="${escapeHtml(r.url)}" rel="noopener noreferrer">#${r.issue}</a>`
    : `#${r.issue}`;
  const dur = (s: number | null) => (s === null ? "—" : escapeHtml(formatDuration(s)));
  const justification = r.justification ?? "";
  const short =
    justification.length > 200 ? `${Array.from(justification).slice(0, 199).join("")}…` : justification;
  const chain = `${r.chain_entries} ${r.chain_status}${r.chain_problem && r.chain_status !== "unverified" ? `: ${r.chain_problem}` : ""}`;
  return `<tr class="${r.flags.length ? "flagged" : ""}">${[
    cell(link, r.issue),
    cell(escapeHtml(r.requested_at?.replace("T", " ").replace(/\.\d{3}Z$/, "") ?? "—"), r.requested_at ?? ""),
    cell(escapeHtml(r.requester ?? "—")),
    cell(escapeHtml(r.resource ?? "—")),
    cell(escapeHtml(r.role ?? "—")),
    cell(escapeHtml(r.severity ?? "—"), SEVERITY_RANK[r.severity ?? ""] ?? 0),
    cell(
      `<span class="status ${STATUS_TONE[r.status] ?? "muted"}">${escapeHtml(r.status)}</span>${r.ended_reason && r.ended_reason !== r.status ? ` <small>${escapeHtml(r.ended_reason)}</small>` : ""}${r.drill ? ` <small class="drill">drill ${escapeHtml(r.drill_result ?? "")}</small>` : ""}`,
    ),
    cell(escapeHtml(r.approvals.map(describeApproval).join(", ") || "—")),
    cell(escapeHtml(describeUse(r)), r.duration_used_seconds),
    cell(dur(r.time_to_approve_seconds), r.time_to_approve_seconds),
    cell(dur(r.time_to_revoke_seconds), r.time_to_revoke_seconds),
    cell(
      r.credential_id ? `${escapeHtml(r.provider ?? "")} <code>${escapeHtml(r.credential_id)}</code>` : "—",
    ),
    cell(escapeHtml(describeChecklist(r) || "—")),
    cell(
      r.flags.map((flag) => `<span class="flag">${escapeHtml(FLAG_LABELS[flag] ?? flag)}</span>`).join(" ") ||
        "—",
    ),
    cell(
      escapeHtml(chain),
      null,
      r.chain_status === "broken" ? "bad" : r.chain_status === "unverified" ? "muted" : "",
    ),
    `<td title="${escapeHtml(Array.from(justification).slice(0, 2000).join(""))}">${escapeHtml(short || "—")}</td>`,
  ].join("")}</tr>`;
}

function chart(id: string, caption: string, size = ""): string {
  return `<figure class="${size}"><figcaption>${escapeHtml(caption)}</figcaption><div class="canvas"><canvas id="${id}" role="img" aria-label="${escapeHtml(caption)}"></canvas></div></figure>`;
}

const STYLE = `
:root{--fg:#1f2328;--muted:#656d76;--line:#d0d7de;--bg:#f6f8fa;--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:var(--fg);background:#fff}
header{padding:20px 28px 8px;border-bottom:1px solid var(--line);background:var(--bg)}
h1{margin:0;font-size:22px}h1 .repo{color:var(--muted);font-weight:400}
h2{font-size:17px;margin:28px 0 8px}
.meta{color:var(--muted);margin:4px 0 8px}
main{padding:12px 28px 28px}
.banner{padding:10px 14px;border-radius:6px;border:1px solid}
.banner.ok{background:#dafbe1;border-color:#4ac26b}.banner.warn{background:#fff8c5;border-color:#d4a72c}.banner.bad{background:#ffebe9;border-color:#ff8182}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px;margin:14px 0}
.tile{border:1px solid var(--line);border-radius:6px;padding:10px 12px}
.tile .value{font-size:22px;font-weight:600}.tile .label{color:var(--muted);font-size:12px}
.tile.warn .value{color:var(--warn)}.tile.bad .value{color:var(--bad)}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:14px}
figure{margin:0;border:1px solid var(--line);border-radius:6px;padding:10px 12px}
figure.wide{grid-column:1/-1}
figcaption{font-weight:600;margin-bottom:6px}
.canvas{position:relative;height:240px}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
th{background:var(--bg);position:sticky;top:0;white-space:nowrap}
th button{all:unset;cursor:pointer;font-weight:600}
th[aria-sort=ascending] button::after{content:" ▲"}th[aria-sort=descending] button::after{content:" ▼"}
tr.flagged td:first-child{box-shadow:inset 3px 0 var(--warn)}
td.bad,.status.bad{color:var(--bad);font-weight:600}.status.ok{color:var(--ok)}.status.warn{color:var(--warn)}.muted{color:var(--muted)}
.flag{display:inline-block;border:1px solid var(--warn);color:var(--warn);border-radius:10px;padding:0 6px;margin:1px;font-size:11px;white-space:nowrap}
.drill{color:#8250df}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}
footer{padding:12px 28px;color:var(--muted);font-size:12px;border-top:1px solid var(--line)}
.empty{color:var(--muted)}
@media print{.canvas{height:200px}th{position:static}}
`;

/** Builds the charts and makes the table sortable and filterable. Runs in the reader's browser. */
const CLIENT = `
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var palette = ["#2f6fdf", "#1a7f37", "#bf3989", "#9a6700", "#8250df", "#0a7a8a", "#cf222e", "#57606a", "#d4a72c", "#4ac26b"];
  if (typeof Chart !== "undefined") {
    Chart.defaults.animation = false;
    Chart.defaults.maintainAspectRatio = false;
    var count = { beginAtZero: true, ticks: { precision: 0 } };
    var bars = function (id, hist, colors, extra) {
      var el = document.getElementById(id);
      if (!el) return;
      new Chart(el, {
        type: "bar",
        data: { labels: hist.labels, datasets: [{ label: "requests", data: hist.counts, backgroundColor: colors }] },
        options: Object.assign({ plugins: { legend: { display: false } }, scales: { y: count } }, extra || {})
      });
    };
    new Chart(document.getElementById("chart-timeline"), {
      type: "bar",
      data: {
        labels: data.timeline.labels,
        datasets: data.timeline.series.map(function (s, i) { return { label: s.resource, data: s.counts, backgroundColor: palette[i % palette.length] }; })
      },
      options: { scales: { x: { stacked: true }, y: Object.assign({ stacked: true }, count) } }
    });
    bars("chart-approve", data.time_to_approve, "#2f6fdf");
    bars("chart-revoke", data.time_to_revoke, data.time_to_revoke.labels.map(function (_, i, all) { return i === all.length - 1 ? "#cf222e" : "#1a7f37"; }));
    bars("chart-flags", data.flags, "#9a6700", { indexAxis: "y", scales: { x: count } });
    new Chart(document.getElementById("chart-drills"), {
      type: "doughnut",
      data: { labels: data.drills.labels, datasets: [{ data: data.drills.counts, backgroundColor: ["#1a7f37", "#cf222e", "#8c959f"] }] },
      options: { plugins: { legend: { position: "right" } } }
    });
  }
  var table = document.getElementById("requests");
  var body = table.tBodies[0];
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var key = function (row, index, numeric) {
    var cell = row.cells[index];
    var raw = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent;
    return numeric ? (raw === "" ? NaN : Number(raw)) : raw.toLowerCase();
  };
  headers.forEach(function (th, index) {
    th.querySelector("button").addEventListener("click", function () {
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      var numeric = th.getAttribute("data-type") === "num";
      headers.forEach(function (other) { other.setAttribute("aria-sort", "none"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = key(a, index, numeric), y = key(b, index, numeric);
        // Rows without a value ("—") stay at the bottom whichever way the column is sorted.
        if (numeric && (isNaN(x) || isNaN(y))) return isNaN(x) === isNaN(y) ? 0 : isNaN(x) ? 1 : -1;
        var order = numeric ? x - y : x < y ? -1 : x > y ? 1 : 0;
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
  var filter = document.getElementById("filter");
  var shown = document.getElementById("shown");
  var apply = function () {
    var query = filter.value.trim().toLowerCase();
    var visible = 0;
    Array.prototype.forEach.call(body.rows, function (row) {
      var match = query === "" || row.textContent.toLowerCase().indexOf(query) !== -1;
      row.hidden = !match;
      if (match) visible++;
    });
    shown.textContent = visible + " of " + body.rows.length + " shown";
  };
  filter.addEventListener("input", apply);
  apply();
})();
`;
