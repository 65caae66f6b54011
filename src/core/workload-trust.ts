import { ok, type Result } from "./result.ts";

/**
 * Which workflow runs may receive credentials, in the spirit of Octo-STS's trust policies: every
 * claim the decision rests on is compared exactly (case-sensitive), and a claim that is missing is a
 * refusal, never a pass. A writer can push a branch with a changed workflow file and dispatch it on
 * that branch (GitHub then runs the branch's copy, and its token names the branch in `ref` and
 * `job_workflow_ref`), so only the default branch's copy of the file is trusted.
 */
export interface WorkloadClaims {
  repository: string;
  repository_id: string;
  repository_owner_id: string;
  job_workflow_ref: string;
  job_workflow_sha?: string;
  ref?: string;
  event_name: string;
  environment?: string;
}

export interface WorkloadTrustPolicy {
  repository: { full_name: string; id: number | string; owner_id: number | string; default_branch: string };
  /** The workflow file name under .github/workflows/, e.g. `breakglass-grant.yml`. */
  workflow: string;
  events: readonly string[];
  /**
   * The GitHub environment the job must run in: a name (exactly that), null (no environment at all),
   * or undefined (not checked: routes that hand out nothing, like the sweep).
   */
  environment?: string | null;
  /** When set, the commit the workflow file came from must be exactly this one. */
  workflowSha?: string;
}

/** The events each Breakglass workflow runs on: the app dispatches the grant workflow; drill and sweep also run on a schedule. */
export const DISPATCH_EVENTS: readonly string[] = ["workflow_dispatch"];
export const SCHEDULED_EVENTS: readonly string[] = ["schedule", "workflow_dispatch"];

export type WorkloadRefusalCode =
  | "wrong_repository"
  | "wrong_workflow"
  | "wrong_ref"
  | "wrong_event"
  | "wrong_environment"
  | "wrong_workflow_sha";

export interface WorkloadRefusal {
  code: WorkloadRefusalCode;
  message: string;
}

const WORKFLOW_REF = /^(.+)\/\.github\/workflows\/([^/@]+)@(refs\/.+)$/;

/** `owner/repo/.github/workflows/file.yml@refs/heads/main` → its parts, or null when it is not of that form. */
export function parseJobWorkflowRef(ref: string): { repository: string; file: string; ref: string } | null {
  const match = WORKFLOW_REF.exec(ref);
  return match ? { repository: match[1]!, file: match[2]!, ref: match[3]! } : null;
}

/** The workflow file a token's job ran, if it is a workflow of `repository` (exact match), else null. */
export function workflowFileOf(
  claims: Pick<WorkloadClaims, "job_workflow_ref">,
  repository: string,
): string | null {
  const parsed = parseJobWorkflowRef(claims.job_workflow_ref);
  return parsed && parsed.repository === repository ? parsed.file : null;
}

const refuse = (code: WorkloadRefusalCode, message: string): { ok: false; error: WorkloadRefusal } => ({
  ok: false,
  error: { code, message },
});

/** Decides whether a verified workflow token may act for this repository under `policy`. */
export function checkWorkloadTrust(
  claims: WorkloadClaims,
  policy: WorkloadTrustPolicy,
): Result<true, WorkloadRefusal> {
  const repo = policy.repository;
  // Names can be deleted and re-registered by someone else: the numeric ids identify the repository.
  if (
    claims.repository_id !== String(repo.id) ||
    claims.repository_owner_id !== String(repo.owner_id) ||
    claims.repository !== repo.full_name
  ) {
    return refuse(
      "wrong_repository",
      `The token was issued to ${claims.repository} (id ${claims.repository_id}), not to ${repo.full_name} (id ${repo.id}).`,
    );
  }
  const branchRef = `refs/heads/${repo.default_branch}`;
  const expected = `${repo.full_name}/.github/workflows/${policy.workflow}@${branchRef}`;
  const parsed = parseJobWorkflowRef(claims.job_workflow_ref);
  if (!parsed || parsed.repository !== repo.full_name || parsed.file !== policy.workflow) {
    return refuse(
      "wrong_workflow",
      `Only ${expected} may do this; the token came from ${claims.job_workflow_ref}.`,
    );
  }
  if (parsed.ref !== branchRef || claims.ref !== branchRef) {
    return refuse(
      "wrong_ref",
      `Only the ${repo.default_branch} branch's copy of ${policy.workflow} is trusted; this run used ${parsed.ref !== branchRef ? parsed.ref : (claims.ref ?? "no ref")}. A workflow changed on another branch must be reviewed and merged first.`,
    );
  }
  if (!policy.events.includes(claims.event_name)) {
    return refuse(
      "wrong_event",
      `The workflow must run on ${policy.events.join(" or ")}, not on ${claims.event_name}.`,
    );
  }
  if (policy.environment !== undefined) {
    const given = claims.environment ? claims.environment : null;
    if (given !== policy.environment) {
      return refuse(
        "wrong_environment",
        policy.environment === null
          ? `This request's policy names no environment, but the job ran in "${given}".`
          : `The policy requires the job to run in the "${policy.environment}" environment${given ? `, not "${given}"` : ", but it ran in none"}.`,
      );
    }
  }
  if (policy.workflowSha !== undefined && claims.job_workflow_sha !== policy.workflowSha) {
    return refuse(
      "wrong_workflow_sha",
      `The workflow must come from commit ${policy.workflowSha}; this run's came from ${claims.job_workflow_sha ?? "an unknown commit"}.`,
    );
  }
  return ok(true);
}
