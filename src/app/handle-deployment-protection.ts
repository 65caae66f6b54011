import type { BreakglassDeps } from "./deps.ts";
import type { GitHubPort } from "./github-port.ts";
import { RequestSession } from "./request-session.ts";

export interface DeploymentProtectionPayload {
  environment: string;
  deployment_callback_url?: string;
  deployment?: { payload?: unknown; ref?: string } | null;
  workflow_run?: { id?: number; display_title?: string } | null;
}

const ISSUE_IN_TITLE = /#(\d{1,9})\b/;

/**
 * A custom deployment protection rule for `breakglass-*` environments: the waiting grant job is
 * approved only when the issue it names (the run's title, set by the grant workflow's `run-name`)
 * is an approved request; otherwise it is rejected with the reason.
 */
export async function handleDeploymentProtection(deps: BreakglassDeps, port: GitHubPort, payload: DeploymentProtectionPayload): Promise<void> {
  if (!payload.environment.startsWith("breakglass") || !payload.workflow_run?.id) return;
  const runId = payload.workflow_run.id;
  const match = ISSUE_IN_TITLE.exec(payload.workflow_run.display_title ?? "");
  const review = async (state: "approved" | "rejected", comment: string) =>
    port.reviewDeploymentProtection(runId, { environment_name: payload.environment, state, comment });
  if (!match) return review("rejected", "The run does not name a break-glass request (#issue) in its title.");
  const session = await RequestSession.open(deps, port, Number(match[1]));
  if (session.state.status === "approved") return review("approved", `Request #${session.number} is approved.`);
  return review("rejected", `Request #${session.number} is ${session.state.status}, not approved.`);
}
