import { REQUEST_LABEL, DRILL_LABEL, AUDIT_LABEL, statusLabel } from "../core/labels.ts";
import { readRecordMarker } from "../core/record-marker.ts";
import { Octokit } from "@octokit/rest";
import type { JSONWebKeySet } from "jose";
import {
  APP_ROUTES,
  relativeRoute,
  type ExchangeResult,
  type GrantRunRequest,
  type IntrospectResult,
  type ReleaseResult,
} from "../core/app-wire.ts";
import { verifyChain } from "../core/audit-chain.ts";
import { formatDuration, parseDuration } from "../core/duration.ts";
import { parsePolicy } from "../core/policy.ts";
import type { ActionCore } from "./action-core.ts";
import { postToApp } from "./app-client.ts";
import { idToken } from "./id-token.ts";

export interface DrillStep {
  name: string;
  ok: boolean;
  seconds: number;
  detail: string;
}

export interface DrillReport {
  issue: number | null;
  ok: boolean;
  steps: DrillStep[];
  timings: {
    time_to_acknowledge_seconds: number | null;
    time_to_approval_seconds: number | null;
    time_to_grant_seconds: number | null;
    time_to_revoke_seconds: number | null;
  };
  targets: { time_to_grant_seconds: number; time_to_revoke_seconds: number } | null;
}

export function drillBody(resource: string, runUrl: string): string {
  return [
    "### Resource",
    "",
    resource,
    "",
    "### Role",
    "",
    "drill",
    "",
    "### Duration",
    "",
    "",
    "",
    "### Severity",
    "",
    "low",
    "",
    "### Justification",
    "",
    `Scheduled break-glass drill: rehearses request, approval, grant, revocation and review end to end. Run: ${runUrl}`,
    "",
    "### Incident",
    "",
    "",
    "",
    "### Drill",
    "",
    "- [x] This is a drill",
    "",
  ].join("\n");
}

/**
 * Drill mode: rehearses the whole lifecycle for the `drill` policy and measures it. Opens a drill
 * request, waits for its (drill-only) auto-approval, exchanges this run's OIDC token for the
 * credential, proves it works, ends it, proves it no longer works, checks that the issue closed with
 * its review issue, verifies the audit chain, and fails when a step fails or misses its target.
 */
export async function runDrill(
  core: ActionCore,
  env: Record<string, string | undefined>,
  inputs: { appUrl: string; audience: string; repository: string },
): Promise<DrillReport> {
  const [owner, repo] = inputs.repository.split("/") as [string, string];
  const octokit = new Octokit({
    auth: core.getInput("github-token"),
    baseUrl: env.GITHUB_API_URL ?? "https://api.github.com",
    userAgent: "breakglass-drill",
  });
  const resource = core.getInput("drill-resource") || "drill";
  const timeout = parseDuration(core.getInput("drill-timeout") || "10m");
  if (!timeout.ok) throw new Error(`drill-timeout: ${timeout.error}`);
  const pollMs = Number(env.BREAKGLASS_DRILL_POLL_MS ?? 2000);
  const report: DrillReport = {
    issue: null,
    ok: true,
    steps: [],
    timings: {
      time_to_acknowledge_seconds: null,
      time_to_approval_seconds: null,
      time_to_grant_seconds: null,
      time_to_revoke_seconds: null,
    },
    targets: null,
  };
  const t0 = Date.now();
  const since = () => (Date.now() - t0) / 1000;
  const step = (name: string, ok: boolean, detail: string) => {
    report.steps.push({ name, ok, seconds: Math.round(since() * 10) / 10, detail });
    if (!ok) report.ok = false;
    (ok ? core.info : core.warning)(`${ok ? "✔" : "✘"} ${name}: ${detail}`);
    return ok;
  };
  const waitFor = async <T>(what: string, probe: () => Promise<T | null>): Promise<T | null> => {
    const deadline = Date.now() + timeout.value * 1000;
    while (Date.now() < deadline) {
      const found = await probe();
      if (found !== null) return found;
      await new Promise((r) => setTimeout(r, pollMs));
    }
    step(what, false, `not seen within ${formatDuration(timeout.value)}`);
    return null;
  };
  const labelsOf = async (n: number) =>
    (await octokit.rest.issues.get({ owner, repo, issue_number: n })).data;

  try {
    const policyFile = await octokit.rest.repos
      .getContent({ owner, repo, path: `policies/${resource}.yml` })
      .catch(() => null);
    const policyText =
      policyFile && !Array.isArray(policyFile.data) && "content" in policyFile.data
        ? Buffer.from(policyFile.data.content, "base64").toString("utf8")
        : null;
    const policy = policyText ? parsePolicy(`policies/${resource}.yml`, policyText) : null;
    if (!policy?.ok)
      throw new Error(
        `policies/${resource}.yml is missing or invalid: the drill needs a valid drill policy.`,
      );
    report.targets = policy.value.drill.targets;

    const runUrl = `${env.GITHUB_SERVER_URL ?? "https://github.com"}/${inputs.repository}/actions/runs/${env.GITHUB_RUN_ID ?? "0"}`;
    const { data: issue } = await octokit.rest.issues.create({
      owner,
      repo,
      title: `[breakglass] ${resource} drill`,
      body: drillBody(resource, runUrl),
      labels: [REQUEST_LABEL, DRILL_LABEL],
    });
    report.issue = issue.number;
    step("request opened", true, `#${issue.number}`);
    // Serverless mode: events made with the GITHUB_TOKEN start no workflow run (GitHub's rule, which
    // spares dispatches), so the app's workflow never hears of this issue unless it is dispatched for it.
    const appWorkflow = core.getInput("drill-app-workflow");
    if (appWorkflow) {
      const { data: repository } = await octokit.rest.repos.get({ owner, repo });
      await octokit.rest.actions.createWorkflowDispatch({
        owner,
        repo,
        workflow_id: appWorkflow,
        ref: repository.default_branch,
        inputs: { issue: String(issue.number) },
      });
      step("app workflow dispatched", true, `${appWorkflow} for #${issue.number}`);
    }

    const ack = await waitFor("request acknowledged", async () => {
      const { data } = await octokit.rest.issues.listComments({
        owner,
        repo,
        issue_number: issue.number,
        per_page: 100,
      });
      return data.some((c) => c.user?.type === "Bot" && c.body?.includes("breakglass:")) ? true : null;
    });
    if (ack) report.timings.time_to_acknowledge_seconds = since();
    if (ack) step("request acknowledged", true, "the app answered on the issue");

    const approved = await waitFor("approved", async () => {
      const data = await labelsOf(issue.number);
      const names = data.labels.map((l) => (typeof l === "string" ? l : l.name));
      if (names.includes(statusLabel("invalid")) || names.includes(statusLabel("denied"))) return "refused";
      return names.includes(statusLabel("approved")) ? "approved" : null;
    });
    if (approved !== "approved") {
      if (approved === "refused") step("approved", false, "the drill request was refused: see the issue");
      return await finish(core, octokit, owner, repo, report);
    }
    report.timings.time_to_approval_seconds = since();
    step("approved", true, "auto-approved by the drill policy");

    const token = await idToken(core, inputs.audience);
    const grant = await postToApp<ExchangeResult, GrantRunRequest>(
      inputs.appUrl,
      relativeRoute(APP_ROUTES.exchange),
      {
        token,
        repository: inputs.repository,
        issue: issue.number,
      },
    );
    for (const value of Object.values(grant.secrets)) core.setSecret(value);
    report.timings.time_to_grant_seconds = since();
    step("granted", true, `${grant.provider} credential ${grant.credential_id} until ${grant.expires_at}`);

    const credential = grant.secrets.BREAKGLASS_TOKEN;
    if (credential) {
      const before = await postToApp<IntrospectResult>(inputs.appUrl, relativeRoute(APP_ROUTES.introspect), {
        token: credential,
      });
      step(
        "credential works",
        before.active,
        before.active ? "introspection says active" : "introspection says inactive",
      );
    } else {
      step(
        "credential works",
        true,
        `${grant.provider} credential delivered (use-check only for the jwt provider)`,
      );
    }

    const revokeStart = Date.now();
    const releaseToken = await idToken(core, inputs.audience);
    const { outcome } = await postToApp<ReleaseResult, GrantRunRequest>(
      inputs.appUrl,
      relativeRoute(APP_ROUTES.release),
      {
        token: releaseToken,
        repository: inputs.repository,
        issue: issue.number,
      },
    );
    report.timings.time_to_revoke_seconds = (Date.now() - revokeStart) / 1000;
    step("revoked", outcome === "revoked", `release answered ${outcome}`);
    if (credential) {
      const after = await postToApp<IntrospectResult>(inputs.appUrl, relativeRoute(APP_ROUTES.introspect), {
        token: credential,
      });
      step(
        "credential no longer works",
        !after.active,
        after.active ? "STILL ACTIVE after revocation" : "introspection says inactive",
      );
    }

    const closed = await waitFor("issue closed", async () =>
      (await labelsOf(issue.number)).state === "closed" ? true : null,
    );
    if (closed) step("issue closed", true, "closed as completed");
    const checklist = await waitFor("review issue opened", async () => {
      const { data } = await octokit.rest.issues.listForRepo({
        owner,
        repo,
        labels: AUDIT_LABEL,
        state: "all",
        per_page: 100,
      });
      return data.find((i) => i.body?.includes(`#${issue.number}`))?.number ?? null;
    });
    if (checklist) step("review issue opened", true, `#${checklist}`);

    const jwks = (await (
      await fetch(
        new URL(
          relativeRoute(APP_ROUTES.jwks),
          inputs.appUrl.endsWith("/") ? inputs.appUrl : `${inputs.appUrl}/`,
        ),
      )
    ).json()) as JSONWebKeySet;
    const comments = await octokit.paginate(octokit.rest.issues.listComments, {
      owner,
      repo,
      issue_number: issue.number,
      per_page: 100,
    });
    const records = comments
      .filter((c) => c.user?.type === "Bot" && c.user.login !== "github-actions[bot]")
      .map((c) => readRecordMarker(c.body))
      .filter((j): j is string => Boolean(j));
    const verified = await verifyChain(records, jwks, { repo: inputs.repository, issue: issue.number });
    step(
      "audit chain verifies",
      verified.ok,
      verified.ok
        ? `${verified.entries.length} signed entries`
        : `broken at entry ${verified.index}: ${verified.reason}`,
    );
  } catch (error) {
    step("drill", false, (error as Error).message);
  }
  return finish(core, octokit, owner, repo, report);
}

async function finish(
  core: ActionCore,
  octokit: Octokit,
  owner: string,
  repo: string,
  report: DrillReport,
): Promise<DrillReport> {
  const t = report.timings;
  if (report.targets) {
    if (t.time_to_grant_seconds !== null && t.time_to_grant_seconds > report.targets.time_to_grant_seconds) {
      report.ok = false;
      report.steps.push({
        name: "time to grant within target",
        ok: false,
        seconds: t.time_to_grant_seconds,
        detail: `${formatDuration(t.time_to_grant_seconds)} > target ${formatDuration(report.targets.time_to_grant_seconds)}`,
      });
    }
    if (
      t.time_to_revoke_seconds !== null &&
      t.time_to_revoke_seconds > report.targets.time_to_revoke_seconds
    ) {
      report.ok = false;
      report.steps.push({
        name: "time to revoke within target",
        ok: false,
        seconds: t.time_to_revoke_seconds,
        detail: `${formatDuration(t.time_to_revoke_seconds)} > target ${formatDuration(report.targets.time_to_revoke_seconds)}`,
      });
    }
  }
  const fmt = (s: number | null) => (s === null ? "—" : `${s.toFixed(1)} s`);
  const table = [
    "| Step | Result | At | Detail |",
    "| --- | --- | --- | --- |",
    ...report.steps.map(
      (s) =>
        `| ${s.name} | ${s.ok ? "✅" : "❌"} | ${s.seconds.toFixed(1)} s | ${s.detail.replace(/\|/g, "\\|")} |`,
    ),
    "",
    "| Measure | Value | Target |",
    "| --- | --- | --- |",
    `| time to acknowledge | ${fmt(t.time_to_acknowledge_seconds)} | |`,
    `| time to approval | ${fmt(t.time_to_approval_seconds)} | |`,
    `| time to grant | ${fmt(t.time_to_grant_seconds)} | ${report.targets ? `${report.targets.time_to_grant_seconds} s` : ""} |`,
    `| time to revoke | ${fmt(t.time_to_revoke_seconds)} | ${report.targets ? `${report.targets.time_to_revoke_seconds} s` : ""} |`,
  ].join("\n");
  const title = report.ok ? "## ✅ Break-glass drill passed" : "## ❌ Break-glass drill FAILED";
  if (report.issue)
    await octokit.rest.issues
      .createComment({ owner, repo, issue_number: report.issue, body: `${title}\n\n${table}` })
      .catch(() => undefined);
  await core.summary.addRaw(`${title}\n\n${table}\n`).write();
  core.setOutput("drill-report", JSON.stringify(report));
  if (!report.ok)
    core.setFailed(
      `The drill failed: ${report.steps
        .filter((s) => !s.ok)
        .map((s) => `${s.name} (${s.detail})`)
        .join("; ")}`,
    );
  return report;
}
