import { formatDuration } from "../../../core/duration.ts";
import { escapeHtml } from "../../../core/escape-html.ts";
import type { DashboardData, DashboardRow } from "./collect-dashboard.ts";

const esc = (s: string | null | undefined): string => escapeHtml(s ?? "");

const safeUrl = (url: string): string => (/^https?:\/\//.test(url) ? esc(url) : "#");

function link(r: DashboardRow): string {
  return `<a href="${safeUrl(r.url)}">${esc(r.repository)}#${r.issue}</a>`;
}

function what(r: DashboardRow): string {
  return `<code>${esc(r.role)}</code> on <code>${esc(r.resource)}</code>${r.drill ? ' <span class="tag">drill</span>' : ""}${r.retroactive ? ' <span class="tag bad">retroactive</span>' : ""}${r.break_glass ? ' <span class="tag bad">break-glass</span>' : ""}`;
}

function ago(now: number, iso: string | null): string {
  return iso ? formatDuration(Math.max(0, (now - Date.parse(iso)) / 1000)) : "—";
}

/**
 * The dashboard page: server-rendered HTML, no scripts of its own, refreshed every 15 s. Every value
 * is escaped; links go only to http(s) URLs.
 */
export function renderDashboard(data: DashboardData, refreshSeconds = 15): string {
  const now = Date.parse(data.generated_at);
  const table = (id: string, title: string, headers: string[], rows: string[][], empty: string) => `
  <section id="${id}">
    <h2>${esc(title)} <span class="count">${rows.length}</span></h2>
    ${rows.length === 0 ? `<p class="empty">${esc(empty)}</p>` : `<table><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`).join("")}</tbody></table>`}
  </section>`;
  const failed = table(
    "failed",
    "Failed revocations",
    ["Request", "What", "Requester", "Error"],
    data.failed.map((r) => [
      link(r),
      what(r),
      esc(r.requester),
      `<span class="bad">${esc(r.revocation_error)}</span>`,
    ]),
    "None.",
  );
  const notifyFailures = data.notification_failures ?? [];
  const notifications = table(
    "notification-failures",
    "Notifications that did not arrive",
    ["When", "Target", "Request", "Event", "Reason"],
    notifyFailures.map((f) => [
      esc(f.at),
      `${esc(f.target)} <code>${esc(f.url_env)}</code>`,
      `${esc(f.repository)}#${f.issue}`,
      esc(f.event),
      `<span class="bad">${esc(f.reason)}</span>`,
    ]),
    "None.",
  );
  const active = table(
    "active",
    "Active grants",
    ["Request", "What", "Requester", "Approved by", "Time left", "Uses"],
    data.active.map((r) => [
      link(r),
      what(r),
      esc(r.requester),
      esc(r.approvals.join(", ")),
      `<strong>${r.expires_at ? formatDuration(Math.max(0, (Date.parse(r.expires_at) - now) / 1000)) : "—"}</strong>`,
      `<span class="uses">${r.uses}</span>${r.last_use ? ` (last ${ago(now, r.last_use)} ago)` : ""}`,
    ]),
    "No active grants.",
  );
  const pending = table(
    "pending",
    "Pending requests",
    ["Request", "What", "Requester", "Waiting", "Who may approve"],
    data.pending.map((r) => [
      link(r),
      what(r),
      esc(r.requester),
      ago(now, r.requested_at),
      esc(r.approvers.join(", ")),
    ]),
    "Nothing waiting.",
  );
  const recent = table(
    "recent",
    "Ended in the last 7 days",
    ["Request", "What", "Requester", "Outcome", "Ended"],
    data.recent.map((r) => [
      link(r),
      what(r),
      esc(r.requester),
      esc(r.status.replace("_", " ")),
      `${ago(now, r.ended_at)} ago`,
    ]),
    "Nothing ended recently.",
  );
  const reviews = data.access_reviews ?? [];
  const overdueReviews = reviews.filter((r) => r.status === "overdue").length;
  const accessReviews = table(
    "access-reviews",
    `Access reviews to confirm${overdueReviews ? ` (${overdueReviews} overdue)` : ""}`,
    ["Review", "Resource", "Due", "Who may confirm", "Unused eligibility"],
    reviews.map((r) => [
      r.issue !== null
        ? `<a href="https://github.com/${esc(r.repository)}/issues/${r.issue}">${esc(r.repository)}#${r.issue}</a> ${esc(r.period)}`
        : `${esc(r.repository)} ${esc(r.period)}`,
      `<code>${esc(r.resource)}</code>`,
      r.status === "overdue"
        ? `<span class="bad">overdue since ${esc(r.due_at.slice(0, 10))}</span>${r.overdue_notified_at ? ` · owners told ${esc(r.overdue_notified_at.slice(0, 10))}` : ""}`
        : esc(r.due_at.slice(0, 10)),
      esc(r.approvers.join(", ")),
      esc(r.unused.join(", ")) || "—",
    ]),
    "Every access review is confirmed.",
  );
  const drill = data.last_drill
    ? `<p>Last drill: ${link(data.last_drill)} — <strong>${esc(data.last_drill.status)}</strong>, ${ago(now, data.last_drill.requested_at)} ago.</p>`
    : `<p class="empty">No drill in the last 7 days.</p>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${refreshSeconds}">
<title>Breakglass — ${data.active.length} active, ${data.pending.length} pending${data.failed.length ? `, ${data.failed.length} FAILED` : ""}</title>
<style>
  body { font: 14px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #1f2328; padding: 0 1rem; }
  h1 { font-size: 1.6rem; margin-bottom: 0; } h2 { font-size: 1.15rem; margin-top: 2rem; }
  .count { background: #eaeef2; border-radius: 1em; padding: 0 .6em; font-size: .85em; }
  table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #d0d7de; vertical-align: top; }
  th { background: #f6f8fa; } code { background: #f6f8fa; padding: 0 .3em; border-radius: 4px; }
  .bad { color: #cf222e; font-weight: 600; } #failed table { border: 2px solid #cf222e; } #failed h2 { color: #cf222e; }
  .tag { font-size: .8em; border: 1px solid #8c959f; border-radius: 1em; padding: 0 .5em; } .tag.bad { border-color: #cf222e; }
  .empty { color: #656d76; } .meta { color: #656d76; }
</style>
</head>
<body>
<h1>Breakglass</h1>
<p class="meta">Updated ${esc(data.generated_at)} · refreshes every ${refreshSeconds} s</p>
${data.failed.length ? failed : ""}
${notifyFailures.length ? notifications : ""}
${reviews.length ? accessReviews : ""}
${active}
${pending}
<section id="drill"><h2>Drills</h2>${drill}</section>
${recent}
</body>
</html>`;
}
