/**
 * The trust policy of a break-glass IAM role: who may call AssumeRoleWithWebIdentity with a GitHub
 * Actions OIDC token. AWS evaluates only `aud` and `sub` of GitHub's tokens ("Support for custom claims
 * for OIDC is unavailable in AWS"), so everything the role trusts has to be spelled into `sub`:
 *
 * - the repository, in GitHub's legacy format (`repo:OWNER/REPO`) and/or the immutable one
 *   (`repo:OWNER@OWNER_ID/REPO@REPO_ID`, the default for repositories created, renamed or transferred
 *   since 2026-07-15);
 * - the environment the policy's grant job runs in (`environment:NAME`), or the default branch's ref;
 * - with a customized subject template (`repo`, `context`, `job_workflow_ref`), the grant workflow's
 *   file on the default branch, so no other workflow of the repository can assume the role even in
 *   that environment.
 *
 * Values are compared with StringEquals: no wildcard in them, so an environment or branch name can
 * never stretch a pattern over another repository's subject.
 */

export const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";
export const PINNED_CLAIM_KEYS = ["repo", "context", "job_workflow_ref"] as const;

export type SubjectFormat = "legacy" | "immutable";

export interface TrustPolicyInput {
  /** The AWS account (12 digits) that holds the role and the IAM OIDC provider. */
  account: string;
  /** owner/name of the repository whose grant workflow receives the credentials. */
  repository: string;
  /** GitHub's numeric ids, needed for the immutable format. */
  ownerId?: string;
  repoId?: string;
  /** The environments the grant job runs in for this role; null = a policy without one (the job runs on the default branch's ref). */
  environments: ReadonlyArray<string | null>;
  defaultBranch: string;
  /** The grant workflow's file under .github/workflows/. */
  workflow: string;
  /** The audience the Action asks for (the app's BREAKGLASS_OIDC_AUDIENCE), also the IAM OIDC provider's client ID. */
  audience: string;
  formats: readonly SubjectFormat[];
  /** Pin `job_workflow_ref` through the customized subject template (PINNED_CLAIM_KEYS). */
  pinWorkflow: boolean;
  /** `aws` unless the role is in another partition (aws-cn, aws-us-gov). */
  partition?: string;
}

export interface TrustPolicy {
  document: { Version: "2012-10-17"; Statement: Array<Record<string, unknown>> };
  /** Every `sub` the policy accepts. */
  subjects: string[];
  /** The body for `PUT /repos/{owner}/{repo}/actions/oidc/customization/sub` the subjects need, or null for GitHub's default template. */
  subjectCustomization: { use_default: false; include_claim_keys: string[] } | null;
}

const OWNER = /^[A-Za-z0-9][A-Za-z0-9_-]{0,38}$/;
const REPO_NAME = /^[A-Za-z0-9._-]{1,100}$/;
const ID = /^[1-9]\d{0,19}$/;
const ACCOUNT = /^\d{12}$/;
const WORKFLOW_FILE = /^[^/@:]+\.ya?ml$/;

/** Builds the role's trust policy, or throws with what to fix. */
export function awsTrustPolicy(input: TrustPolicyInput): TrustPolicy {
  const [owner, name, ...rest] = input.repository.split("/");
  if (!owner || !name || rest.length || !OWNER.test(owner) || !REPO_NAME.test(name))
    throw new Error(`"${input.repository}" is not a repository: write owner/name, e.g. acme/ops.`);
  if (!ACCOUNT.test(input.account))
    throw new Error(`"${input.account}" is not an AWS account id (12 digits).`);
  if (!WORKFLOW_FILE.test(input.workflow))
    throw new Error(`"${input.workflow}" is not a workflow file name such as breakglass-grant.yml.`);
  if (input.formats.length === 0) throw new Error("name at least one subject format (legacy or immutable).");
  if (input.formats.includes("immutable") && (!input.ownerId || !input.repoId)) {
    throw new Error(
      `the immutable subject format needs the owner's and the repository's ids (gh api repos/${input.repository} --jq '.owner.id, .id').`,
    );
  }
  for (const id of [input.ownerId, input.repoId])
    if (id !== undefined && !ID.test(id)) throw new Error(`"${id}" is not a GitHub id (digits only).`);
  if (input.environments.length === 0)
    throw new Error("name at least one environment (or none, for a policy without one).");
  if (input.environments.includes(null) && !input.pinWorkflow) {
    throw new Error(
      `without an environment the grant job's subject is the default branch's (repo:${input.repository}:ref:refs/heads/${input.defaultBranch}), which every workflow on that branch gets: pin the workflow, or give the policy an environment.`,
    );
  }
  const repos = input.formats.map((format) =>
    format === "legacy" ? input.repository : `${owner}@${input.ownerId}/${name}@${input.repoId}`,
  );
  const contexts = [...new Set(input.environments)].map((environment) =>
    environment === null ? `ref:refs/heads/${input.defaultBranch}` : `environment:${environment}`,
  );
  const workflowRef = `${input.repository}/.github/workflows/${input.workflow}@refs/heads/${input.defaultBranch}`;
  const subjects = repos.flatMap((repo) =>
    contexts.map(
      (context) => `repo:${repo}:${context}${input.pinWorkflow ? `:job_workflow_ref:${workflowRef}` : ""}`,
    ),
  );
  const partition = input.partition ?? "aws";
  return {
    document: {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "BreakglassGrantWorkflow",
          Effect: "Allow",
          Principal: {
            Federated: `arn:${partition}:iam::${input.account}:oidc-provider/${GITHUB_OIDC_HOST}`,
          },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: {
            StringEquals: {
              [`${GITHUB_OIDC_HOST}:aud`]: input.audience,
              [`${GITHUB_OIDC_HOST}:sub`]: subjects.length === 1 ? subjects[0]! : subjects,
            },
          },
        },
      ],
    },
    subjects,
    subjectCustomization: input.pinWorkflow
      ? { use_default: false, include_claim_keys: [...PINNED_CLAIM_KEYS] }
      : null,
  };
}
