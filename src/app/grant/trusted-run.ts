import { handStartedRunRefusal } from "../../core/hand-started-run.ts";
import type { RepositoryIdentity, WorkflowRunSummary } from "../../github/github-port.ts";
import type { RequestSession } from "../infra/request-session.ts";
import { runCollecting } from "../../core/messages/grant-messages.ts";

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
export async function trustedRunRefusal(
  session: RequestSession,
  repository: RepositoryIdentity,
  run: WorkflowRunSummary | null,
  runId: number,
): Promise<RunRefusal | { byApp: boolean }> {
  const { deps } = session;
  const file = `.github/workflows/${deps.grantWorkflow}`;
  if (
    !run ||
    run.path !== file ||
    run.head_branch !== repository.default_branch ||
    run.event !== "workflow_dispatch"
  ) {
    return {
      code: "unknown_run",
      message: `Run ${runId} is not a run of ${file} on ${repository.default_branch} that Breakglass knows of.`,
    };
  }
  // The default branch's run-name names the request the run was started for; a run for another
  // request never collects this one.
  const named = requestNamedIn(run.display_title);
  if (named !== session.number) {
    return {
      code: "unknown_run",
      message: `Run ${runId} was started for ${named ? `#${named}` : "no request (its title names none)"}, not for #${session.number}.`,
    };
  }
  // A re-run keeps the run's id, commit and `actor` (GitHub runs it with the first starter's
  // privileges); whoever asked for the attempt is its triggering actor, and must be someone who may
  // start a grant run for this request: the app, or an approver who is not the requester.
  if (run.run_attempt > 1 && run.triggering_actor !== deps.identity.login) {
    const why = handStartedRunRefusal(session.state, await session.actor(userOf(run.triggering_actor)));
    if (why)
      return {
        code: "unknown_run",
        message: `Attempt ${run.run_attempt} of run ${runId} is a re-run, and ${why}`,
      };
  }
  if (run.actor === deps.identity.login) return { byApp: true };
  const why = handStartedRunRefusal(session.state, await session.actor(userOf(run.actor)));
  return why
    ? { code: "unknown_run", message: `Breakglass did not start run ${runId}, and ${why}` }
    : { byApp: false };
}

const userOf = (login: string) => ({ login, type: /\[bot\]$/i.test(login) ? "Bot" : "User" });

/** The request a grant run's title (the workflow's `run-name`, "… for #N") names, or null. */
export function requestNamedIn(title: string): number | null {
  const match = /#(\d{1,9})\b/.exec(title);
  return match ? Number(match[1]) : null;
}

/** Makes sure the exchanging run is one the request's records name, recording it first if GitHub vouches for it. */
export async function acceptRun(
  session: RequestSession,
  repository: RepositoryIdentity,
  runId: number,
  attempt = 1,
): Promise<RunRefusal | null> {
  const { deps, port } = session;
  const known = session.state.runs.includes(String(runId));
  const run = await port.getWorkflowRun(runId);
  // Only the run's current attempt counts: a token of an earlier attempt (it lives minutes) is replayed.
  if (run && run.run_attempt !== attempt) {
    return {
      code: "unknown_run",
      message: `The token is of attempt ${attempt} of run ${runId}, but the run is at attempt ${run.run_attempt} on GitHub.`,
    };
  }
  // The first attempt of a recorded run is the run the records name. Any later attempt was asked for
  // by someone (a re-run): GitHub says who, and it must be someone who may start the run at all.
  if (known && attempt === 1) return null;
  const decided = await trustedRunRefusal(session, repository, run, runId);
  if ("code" in decided) return decided;
  if (known) return null;
  const starter = run!.actor;
  const recorded = await session.record(
    `dispatched:${runId}`,
    {
      type: "dispatched",
      actor: decided.byApp ? deps.identity.login : starter,
      run_id: String(runId),
      ...(decided.byApp ? {} : { by_hand: true }),
    },
    runCollecting({
      runId,
      runUrl: runUrl(session, runId),
      startedBy: decided.byApp ? undefined : starter,
      defaultBranch: repository.default_branch,
    }),
  );
  return recorded.ok ? null : { code: "not_approved", message: recorded.refusal.message };
}

/** The run's page, on the same GitHub host as the request issue. */
export function runUrl(session: Pick<RequestSession, "url">, runId: number): string {
  return `${session.url.replace(/\/issues\/\d+$/, "")}/actions/runs/${runId}`;
}
