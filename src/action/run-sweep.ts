import { APP_ROUTES, relativeRoute, type ReconcileReport, type SweepRequest } from "../core/app-wire.ts";
import type { ActionCore } from "./action-core.ts";
import { postToApp } from "./app-client.ts";
import { idToken } from "./id-token.ts";

/** Sweep mode: the scheduled backstop. Asks the app to reconcile the repository now, and reports. */
export async function runSweep(
  core: ActionCore,
  inputs: { appUrl: string; audience: string; repository: string },
): Promise<ReconcileReport> {
  const token = await idToken(core, inputs.audience);
  const report = await postToApp<ReconcileReport, SweepRequest>(
    inputs.appUrl,
    relativeRoute(APP_ROUTES.sweep),
    { token, repository: inputs.repository },
    { timeoutMs: 120_000 },
  );
  const list = (ns: number[]) => (ns.length ? ns.map((n) => `#${n}`).join(", ") : "—");
  core.info(
    `Sweep: ${report.checked} open request(s) checked; revoked ${list(report.revoked)}; failed ${list(report.failed)}; closed ${list(report.finished)}.`,
  );
  await core.summary
    .addHeading("🧹 Break-glass sweep", 2)
    .addTable([
      [
        { data: "What", header: true },
        { data: "Issues", header: true },
      ],
      ["Checked", String(report.checked)],
      ["Revoked now (overdue)", list(report.revoked)],
      ["Revocation failed", list(report.failed)],
      ["Closed with checklist", list(report.finished)],
      ["Escalated", list(report.escalated)],
      ["Timed out", list(report.timed_out)],
      ["Still active", report.scheduled.map((s) => `#${s.issue} until ${s.expires_at}`).join("<br>") || "—"],
    ])
    .write();
  if (report.failed.length) core.setFailed(`Revocation failed for ${list(report.failed)}; see those issues.`);
  return report;
}
