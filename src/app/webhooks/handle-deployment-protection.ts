import { checkWorkloadTrust, DISPATCH_EVENTS, SCHEDULED_EVENTS } from "../../core/workload-trust.ts";
import type { BreakglassDeps } from "../infra/deps.ts";
import type { GitHubPort, RepositoryIdentity, WorkflowRunSummary } from "../../github/github-port.ts";
import { loadRepoConfig } from "../infra/repo-config.ts";
import { RequestSession } from "../infra/request-session.ts";
import { requestNamedIn, trustedRunRefusal } from "../grant/trusted-run.ts";
import { partForRun } from "../grant/part-for-run.ts";

/** The fields of GitHub's `deployment_protection_rule.requested` payload this handler reads. */
export interface DeploymentProtectionPayload {
  environment: string;
  event?: string;
  /** `…/repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule`: the only place the payload names the run. */
  deployment_callback_url?: string;
}

const RUN_IN_CALLBACK = /\/actions\/runs\/(\d{1,20})\/deployment_protection_rule$/;

/**
 * What a job of `run` would claim in its OIDC token, from GitHub's own record of the run: the same
 * trust check then decides here as at the exchange, so the gate and the exchange cannot disagree.
 */
function claimsOfRun(repository: RepositoryIdentity, run: WorkflowRunSummary, environment: string) {
  const ref = run.head_branch === null ? "" : `refs/heads/${run.head_branch}`;
  return {
    repository: repository.full_name,
    repository_id: String(repository.id),
    repository_owner_id: String(repository.owner_id),
    job_workflow_ref: `${repository.full_name}/${run.path}@${ref}`,
    ref,
    event_name: run.event,
    environment,
  };
}

/**
 * A custom deployment protection rule for `breakglass*` environments: the waiting job may start
 * only if the exchange would hand it credentials — the default branch's grant workflow, dispatched,
 * in the environment of the request's policy, for an approved (non-drill) request, as a run the app
 * started or recorded (or an approver started by hand) — or the default branch's drill workflow in a
 * drill policy's environment. The title only points at the request; the records decide. This gate is
 * in addition to the exchange's own checks, so a job wrongly let through still gets no credential.
 */
export async function handleDeploymentProtection(
  deps: BreakglassDeps,
  port: GitHubPort,
  payload: DeploymentProtectionPayload,
): Promise<"approved" | "rejected" | "ignored"> {
  if (!payload.environment.startsWith("breakglass")) return "ignored";
  const runId = RUN_IN_CALLBACK.exec(payload.deployment_callback_url ?? "")?.[1];
  if (!runId) return "ignored"; // Without a run there is nothing to review.
  const review = async (state: "approved" | "rejected", comment: string) => {
    await port.reviewDeploymentProtection(Number(runId), {
      environment_name: payload.environment,
      state,
      comment,
    });
    return state;
  };
  const run = await port.getWorkflowRun(Number(runId));
  if (!run) return review("rejected", `Breakglass cannot see workflow run ${runId}.`);
  const repository = await port.repository();
  const claims = claimsOfRun(repository, run, payload.environment);

  if (run.path === `.github/workflows/${deps.drillWorkflow}`) {
    const trusted = checkWorkloadTrust(claims, {
      repository,
      workflow: deps.drillWorkflow,
      events: SCHEDULED_EVENTS,
    });
    if (!trusted.ok) return review("rejected", `${trusted.error.message} (${trusted.error.code})`);
    const config = await loadRepoConfig(port);
    const drillEnvironments = [...config.policies.values()]
      .filter((p) => p.drill?.enabled && p.environment)
      .map((p) => p.environment);
    if (!drillEnvironments.includes(payload.environment))
      return review(
        "rejected",
        `The drill workflow may only use a drill policy's environment, not ${payload.environment}.`,
      );
    return review(
      "approved",
      `The ${repository.default_branch} branch's drill workflow, in a drill policy's environment.`,
    );
  }
  const trusted = checkWorkloadTrust(claims, {
    repository,
    workflow: deps.grantWorkflow,
    events: DISPATCH_EVENTS,
  });
  if (!trusted.ok) return review("rejected", `${trusted.error.message} (${trusted.error.code})`);
  const named = requestNamedIn(run.display_title);
  if (named === null)
    return review(
      "rejected",
      "The run does not name a break-glass request (#issue) in its title; keep the grant workflow's run-name.",
    );
  const opened = await RequestSession.open(deps, port, named);
  // A request naming several resources: the run is judged for the resource it is for (as at the exchange).
  const target = await partForRun(opened, runId, async () => run.display_title);
  if (!target.ok) return review("rejected", `${target.message} (${target.code})`);
  const session = target.part;
  const { state } = session;
  if (state.request?.drill)
    return review("rejected", `Request #${session.number} is a drill: only the drill workflow collects it.`);
  if (state.status !== "approved")
    return review(
      "rejected",
      `Request #${session.number} is ${state.status.replace(/_/g, " ")}, not approved.`,
    );
  const policy = session.policy();
  if (!policy) return review("rejected", `The policy of request #${session.number} no longer exists.`);
  const environment = checkWorkloadTrust(claims, {
    repository,
    workflow: deps.grantWorkflow,
    events: DISPATCH_EVENTS,
    environment: policy.environment ?? null,
  });
  if (!environment.ok) return review("rejected", `${environment.error.message} (${environment.error.code})`);
  if (!state.runs.includes(runId)) {
    const decided = await trustedRunRefusal(session, repository, run, Number(runId));
    if ("code" in decided) return review("rejected", `${decided.message} (${decided.code})`);
  }
  const what = session.part === null ? "" : ` (${session.part})`;
  return review("approved", `Request #${session.number}${what} is approved and this is its grant run.`);
}
