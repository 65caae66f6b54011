import { handStartedRunRefusal } from "../core/hand-started-run.ts";
import { escapeInline, mention } from "../core/markdown.ts";
import type { RepositoryIdentity, WorkflowRunSummary } from "./github-port.ts";
import type { RequestSession } from "./request-session.ts";

export interface RunRefusal {
  code: "unknown_run" | "not_approved";
  message: string;
}

/**
 * Whether a grant workflow run may collect a request's credentials. A run the app recorded for the
 * request always may. A run without a record may only when GitHub itself says it is the grant
 * workflow on the default branch, dispatched, and started either by the app (its dispatch answer
 * was not recorded yet, or GitHub gave no run id) or by an eligible approver other than the
 * requester (started by hand). Everything else — a branch's copy, a writer's own run — is refused.
 */
export async function trustedRunRefusal(session: RequestSession, repository: RepositoryIdentity, run: WorkflowRunSummary | null, runId: number): Promise<RunRefusal | { byApp: boolean } > {
  const { deps } = session;
  const file = `.github/workflows/${deps.grantWorkflow}`;
  if (!run || run.path !== file || run.head_branch !== repository.default_branch || run.event !== "workflow_dispatch") {
    return { code: "unknown_run", message: `Run ${runId} is not a run of ${file} on ${repository.default_branch} that Breakglass knows of.` };
  }
  // The default branch's run-name names the request the run was started for; a run for another
  // request never collects this one.
  const named = requestNamedIn(run.display_title);
  if (named !== session.number) {
    return { code: "unknown_run", message: `Run ${runId} was started for ${named ? `#${named}` : "no request (its title names none)"}, not for #${session.number}.` };
  }
  if (run.actor === deps.identity.login) return { byApp: true };
  const starter = await session.actor({ login: run.actor, type: /\[bot\]$/i.test(run.actor) ? "Bot" : "User" });
  const why = handStartedRunRefusal(session.state, starter);
  return why ? { code: "unknown_run", message: `Breakglass did not start run ${runId}, and ${why}` } : { byApp: false };
}

/** The request a grant run's title (the workflow's `run-name`, "… for #N") names, or null. */
export function requestNamedIn(title: string): number | null {
  const match = /#(\d{1,9})\b/.exec(title);
  return match ? Number(match[1]) : null;
}

/** Makes sure the exchanging run is one the request's records name, recording it first if GitHub vouches for it. */
export async function acceptRun(session: RequestSession, repository: RepositoryIdentity, runId: number): Promise<RunRefusal | null> {
  const { deps, port } = session;
  if (session.state.runs.includes(String(runId))) return null;
  const run = await port.getWorkflowRun(runId);
  const decided = await trustedRunRefusal(session, repository, run, runId);
  if ("code" in decided) return decided;
  const starter = run!.actor;
  const recorded = await session.record(
    `dispatched:${runId}`,
    { type: "dispatched", actor: decided.byApp ? deps.identity.login : starter, run_id: String(runId), ...(decided.byApp ? {} : { by_hand: true }) },
    decided.byApp
      ? `🏃 Grant workflow [run ${runId}](${runUrl(session, runId)}), started by Breakglass, is collecting the credentials.`
      : `🏃 ${mention(starter)}, an approver of this request, started grant workflow [run ${runId}](${runUrl(session, runId)}) by hand on \`${escapeInline(repository.default_branch, 80)}\`; it is accepted as the run that receives the credentials.`,
  );
  return recorded.ok ? null : { code: "not_approved", message: recorded.refusal.message };
}

/** The run's page, on the same GitHub host as the request issue. */
export function runUrl(session: Pick<RequestSession, "url">, runId: number): string {
  return `${session.url.replace(/\/issues\/\d+$/, "")}/actions/runs/${runId}`;
}
