import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  checkWorkloadTrust,
  parseJobWorkflowRef,
  workflowFileOf,
  type WorkloadClaims,
  type WorkloadTrustPolicy,
} from "../../src/core/workload-trust.ts";

const policy: WorkloadTrustPolicy = {
  repository: { full_name: "acme/ops", id: 101, owner_id: 202, default_branch: "main" },
  workflow: "breakglass-grant.yml",
  events: ["workflow_dispatch"],
};
const good: WorkloadClaims = {
  repository: "acme/ops",
  repository_id: "101",
  repository_owner_id: "202",
  job_workflow_ref: "acme/ops/.github/workflows/breakglass-grant.yml@refs/heads/main",
  job_workflow_sha: "abc123",
  ref: "refs/heads/main",
  event_name: "workflow_dispatch",
};

function codeOf(
  claims: Partial<WorkloadClaims> & Record<string, unknown>,
  over: Partial<WorkloadTrustPolicy> = {},
): string {
  const merged = { ...good, ...claims } as WorkloadClaims;
  for (const [k, v] of Object.entries(claims))
    if (v === undefined) delete (merged as unknown as Record<string, unknown>)[k];
  const result = checkWorkloadTrust(merged, { ...policy, ...over });
  return result.ok ? "ok" : result.error.code;
}

describe("checkWorkloadTrust", () => {
  it("accepts the default branch's grant workflow, dispatched, with every claim exact", () => {
    assert.equal(codeOf({}), "ok");
  });

  const table: Array<
    [string, Partial<WorkloadClaims> & Record<string, unknown>, Partial<WorkloadTrustPolicy>, string]
  > = [
    ["another repository id (a re-registered name)", { repository_id: "999" }, {}, "wrong_repository"],
    ["another owner id", { repository_owner_id: "999" }, {}, "wrong_repository"],
    ["another repository name", { repository: "acme/ops2" }, {}, "wrong_repository"],
    ["the repository name in another case", { repository: "Acme/Ops" }, {}, "wrong_repository"],
    [
      "a branch's copy of the workflow (dispatch on a branch)",
      {
        job_workflow_ref: "acme/ops/.github/workflows/breakglass-grant.yml@refs/heads/evil",
        ref: "refs/heads/evil",
      },
      {},
      "wrong_ref",
    ],
    [
      "a branch whose name starts with the default branch's",
      {
        job_workflow_ref: "acme/ops/.github/workflows/breakglass-grant.yml@refs/heads/main-evil",
        ref: "refs/heads/main-evil",
      },
      {},
      "wrong_ref",
    ],
    [
      "the default branch's name as a tag",
      {
        job_workflow_ref: "acme/ops/.github/workflows/breakglass-grant.yml@refs/tags/main",
        ref: "refs/tags/main",
      },
      {},
      "wrong_ref",
    ],
    [
      "a pull request's merge ref",
      {
        job_workflow_ref: "acme/ops/.github/workflows/breakglass-grant.yml@refs/pull/7/merge",
        ref: "refs/pull/7/merge",
      },
      {},
      "wrong_ref",
    ],
    ["the workflow from main but the job's ref a branch", { ref: "refs/heads/evil" }, {}, "wrong_ref"],
    ["no ref claim at all", { ref: undefined }, {}, "wrong_ref"],
    [
      "the workflow file name in another case",
      { job_workflow_ref: "acme/ops/.github/workflows/Breakglass-grant.yml@refs/heads/main" },
      {},
      "wrong_workflow",
    ],
    [
      "the repository part in another case",
      { job_workflow_ref: "ACME/ops/.github/workflows/breakglass-grant.yml@refs/heads/main" },
      {},
      "wrong_workflow",
    ],
    [
      "another workflow file",
      { job_workflow_ref: "acme/ops/.github/workflows/ci.yml@refs/heads/main" },
      {},
      "wrong_workflow",
    ],
    [
      "a file whose name extends the grant workflow's",
      { job_workflow_ref: "acme/ops/.github/workflows/breakglass-grant.yml.evil.yml@refs/heads/main" },
      {},
      "wrong_workflow",
    ],
    [
      "a reusable workflow of another repository with the same file name",
      { job_workflow_ref: "evil/ops/.github/workflows/breakglass-grant.yml@refs/heads/main" },
      {},
      "wrong_workflow",
    ],
    [
      "a path outside .github/workflows",
      { job_workflow_ref: "acme/ops/.github/workflows/../breakglass-grant.yml@refs/heads/main" },
      {},
      "wrong_workflow",
    ],
    [
      "no @ref in job_workflow_ref",
      { job_workflow_ref: "acme/ops/.github/workflows/breakglass-grant.yml" },
      {},
      "wrong_workflow",
    ],
    ["another event", { event_name: "push" }, {}, "wrong_event"],
    [
      "an environment where the policy names none",
      { environment: "production" },
      { environment: null },
      "wrong_environment",
    ],
    [
      "no environment where the policy names one",
      {},
      { environment: "breakglass-prod-database" },
      "wrong_environment",
    ],
    [
      "another environment",
      { environment: "breakglass-prod-database-2" },
      { environment: "breakglass-prod-database" },
      "wrong_environment",
    ],
    [
      "the environment in another case",
      { environment: "Breakglass-Prod-Database" },
      { environment: "breakglass-prod-database" },
      "wrong_environment",
    ],
    [
      "the right environment",
      { environment: "breakglass-prod-database" },
      { environment: "breakglass-prod-database" },
      "ok",
    ],
    ["an environment not checked (sweep)", { environment: "anything" }, {}, "ok"],
    ["the pinned workflow commit", {}, { workflowSha: "abc123" }, "ok"],
    [
      "another workflow commit than the pinned one",
      { job_workflow_sha: "def456" },
      { workflowSha: "abc123" },
      "wrong_workflow_sha",
    ],
    [
      "no workflow commit where one is pinned",
      { job_workflow_sha: undefined },
      { workflowSha: "abc123" },
      "wrong_workflow_sha",
    ],
  ];
  for (const [what, claims, over, expected] of table) {
    it(`${expected === "ok" ? "accepts" : `refuses (${expected})`}: ${what}`, () =>
      assert.equal(codeOf(claims, over), expected));
  }

  it("checks the ref against the repository's actual default branch", () => {
    const trunk = { ...policy, repository: { ...policy.repository, default_branch: "trunk" } };
    assert.equal(checkWorkloadTrust(good, trunk).ok, false);
    const onTrunk = {
      ...good,
      job_workflow_ref: good.job_workflow_ref.replace("refs/heads/main", "refs/heads/trunk"),
      ref: "refs/heads/trunk",
    };
    assert.equal(checkWorkloadTrust(onTrunk, trunk).ok, true);
  });

  it("says what would work in every refusal", () => {
    const result = checkWorkloadTrust(
      { ...good, job_workflow_ref: good.job_workflow_ref.replace("main", "evil"), ref: "refs/heads/evil" },
      policy,
    );
    assert.ok(!result.ok);
    assert.match(result.error.message, /main branch.s copy .* refs\/heads\/evil\..*reviewed and merged/);
  });
});

describe("parseJobWorkflowRef / workflowFileOf", () => {
  it("splits a job_workflow_ref into repository, file and ref", () => {
    assert.deepEqual(parseJobWorkflowRef("acme/ops/.github/workflows/a.yml@refs/heads/x/y"), {
      repository: "acme/ops",
      file: "a.yml",
      ref: "refs/heads/x/y",
    });
    assert.equal(parseJobWorkflowRef("acme/ops/a.yml@refs/heads/main"), null);
  });
  it("names the workflow file only for the exact repository", () => {
    assert.equal(
      workflowFileOf(
        { job_workflow_ref: "acme/ops/.github/workflows/breakglass-drill.yml@refs/heads/main" },
        "acme/ops",
      ),
      "breakglass-drill.yml",
    );
    assert.equal(
      workflowFileOf(
        { job_workflow_ref: "evil/ops/.github/workflows/breakglass-drill.yml@refs/heads/main" },
        "acme/ops",
      ),
      null,
    );
    assert.equal(
      workflowFileOf(
        { job_workflow_ref: "acme/ops/.github/workflows/x-breakglass-drill.yml@refs/heads/main" },
        "acme/ops",
      ),
      "x-breakglass-drill.yml",
    );
  });
});
