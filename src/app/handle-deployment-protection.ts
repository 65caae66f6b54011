import type { BreakglassDeps } from "./deps.ts";
import type { GitHubPort } from "./github-port.ts";
import { RequestSession } from "./request-session.ts";

/** The fields of GitHub's `deployment_protection_rule.requested` payload this handler reads. */
export interface DeploymentProtectionPayload {
  environment: string;
  event?: string;
  /** `…/repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule`: the only place the payload names the run. */
  deployment_callback_url?: string;
}

const RUN_IN_CALLBACK = /\/actions\/runs\/(\d{1,20})\/deployment_protection_rule$/;
const ISSUE_IN_TITLE = /#(\d{1,9})\b/;

/**
 * A custom deployment protection rule for `breakglass*` environments: the waiting grant job may
 * start only if it is a run of the grant workflow whose title (the workflow's `run-name`) names an
 * approved request; otherwise it is rejected with the reason. This gate is in addition to the OIDC
 * exchange's own checks, so a job that is wrongly let through still gets no credential.
 */
export async function handleDeploymentProtection(deps: BreakglassDeps, port: GitHubPort, payload: DeploymentProtectionPayload): Promise<"approved" | "rejected" | "ignored"> {
  if (!payload.environment.startsWith("breakglass")) return "ignored";
  const runId = RUN_IN_CALLBACK.exec(payload.deployment_callback_url ?? "")?.[1];
  if (!runId) return "ignored"; // Without a run there is nothing to review.
  const review = async (state: "approved" | "rejected", comment: string) => {
    await port.reviewDeploymentProtection(Number(runId), { environment_name: payload.environment, state, comment });
    return state;
  };
  const run = await port.getWorkflowRun(Number(runId));
  if (!run) return review("rejected", `Breakglass cannot see workflow run ${runId}.`);
  if (run.path.split("/").pop() !== deps.grantWorkflow) {
    return review("rejected", `Only the grant workflow (${deps.grantWorkflow}) may use the ${payload.environment} environment; this run is ${run.path}.`);
  }
  const match = ISSUE_IN_TITLE.exec(run.display_title);
  if (!match) return review("rejected", "The run does not name a break-glass request (#issue) in its title; keep the grant workflow's run-name.");
  const session = await RequestSession.open(deps, port, Number(match[1]));
  if (session.state.status === "approved") return review("approved", `Request #${session.number} is approved.`);
  return review("rejected", `Request #${session.number} is ${session.state.status.replace(/_/g, " ")}, not approved.`);
}
