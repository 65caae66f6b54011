/**
 * `breakglass aws trust-policy` prints a role trust policy; here its conditions are evaluated (by the IAM
 * condition evaluator of test/support) against tokens the sandbox OIDC issuer mints in GitHub's legacy and
 * immutable subject formats: the grant job gets in, every near miss stays out.
 */
import assert from "node:assert/strict";
import { mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { decodeJwt } from "jose";
import type { CliIO } from "../../src/cli/io.ts";
import { main } from "../../src/cli/main.ts";
import { PINNED_CLAIM_KEYS } from "../../src/providers/aws-trust-policy.ts";
import {
  startOidcIssuer,
  type ClaimsInput,
  type OidcIssuer,
  type SubjectSettings,
} from "../../src/sandbox/oidc-issuer.ts";
import { githubTokenContext, trustPolicyAllows } from "../support/iam-condition.ts";

const ACCOUNT = "123456789012";
const ROLE = `arn:aws:iam::${ACCOUNT}:role/breakglass-admin`;
const FEDERATED = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;
const ENV = "breakglass-aws-production";
const OWNER_ID = "100001";
const REPO_ID = "200001";

function fakeIO(cwd = process.cwd()): CliIO & { out: () => string; err: () => string } {
  let out = "";
  let err = "";
  return {
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    readStdin: async () => "",
    cwd,
    env: {},
    out: () => out,
    err: () => err,
  };
}

async function printPolicy(args: string[], cwd?: string): Promise<{ Statement: unknown }> {
  const io = fakeIO(cwd);
  const code = await main(["aws", "trust-policy", ...args], io);
  assert.equal(code, 0, io.err());
  return JSON.parse(io.out()) as { Statement: unknown };
}

let issuer: OidcIssuer;
before(async () => {
  issuer = await startOidcIssuer();
});
after(() => issuer.close());

/** The grant job of acme/ops: default branch's breakglass-grant.yml, dispatched by the app, in the policy's environment. */
const grantJob: ClaimsInput = {
  repository: "acme/ops",
  repository_owner_id: OWNER_ID,
  repository_id: REPO_ID,
  ref: "refs/heads/main",
  environment: ENV,
  event_name: "workflow_dispatch",
  aud: "breakglass",
};

/** A token the issuer mints for `claims` with the repository's subject settings as GitHub would apply them. */
async function token(
  claims: ClaimsInput,
  subject: SubjectSettings,
): Promise<{ aud: string | string[]; sub: string }> {
  issuer.setSubjectSettings(String(claims.repository), subject);
  const payload = decodeJwt(await issuer.mint(claims));
  return { aud: payload.aud!, sub: payload.sub! };
}
const allows = (policy: { Statement: unknown }, claims: { aud: string | string[]; sub: string }) =>
  trustPolicyAllows(policy, {
    federated: FEDERATED,
    action: "sts:AssumeRoleWithWebIdentity",
    context: githubTokenContext(claims),
  });

const legacyPinned: SubjectSettings = { format: "legacy", includeClaimKeys: PINNED_CLAIM_KEYS };
const immutablePinned: SubjectSettings = { format: "immutable", includeClaimKeys: PINNED_CLAIM_KEYS };

describe("breakglass aws trust-policy", () => {
  const ids = ["--owner-id", OWNER_ID, "--repo-id", REPO_ID];

  it("lets the grant job in, with a legacy subject and with an immutable one", async () => {
    const policy = await printPolicy([
      "--repo",
      "acme/ops",
      "--role-arn",
      ROLE,
      "--environment",
      ENV,
      ...ids,
    ]);
    const statement = (policy.Statement as Array<Record<string, unknown>>)[0]!;
    assert.equal(statement.Action, "sts:AssumeRoleWithWebIdentity");
    assert.deepEqual(statement.Principal, { Federated: FEDERATED });
    assert.equal(
      allows(policy, await token(grantJob, legacyPinned)),
      true,
      "legacy: repo:acme/ops:environment:…:job_workflow_ref:…",
    );
    const immutable = await token(grantJob, immutablePinned);
    assert.match(
      immutable.sub,
      /^repo:acme@100001\/ops@200001:environment:breakglass-aws-production:job_workflow_ref:acme\/ops\/\.github\/workflows\/breakglass-grant\.yml@refs\/heads\/main$/,
    );
    assert.equal(allows(policy, immutable), true);
  });

  it("the README's example is exactly what the command prints; the policy it replaced (one legacy sub) shut out a repository with immutable subjects", async () => {
    const readme = await readFile(new URL("../../src/providers/README.md", import.meta.url), "utf8");
    const example = /and prints:\n\n```json\n([\s\S]*?)\n```/.exec(readme);
    assert.ok(example, "src/providers/README.md shows the printed trust policy");
    const printed = await printPolicy([
      "--repo",
      "acme/ops",
      "--role-arn",
      ROLE,
      "--environment",
      ENV,
      ...ids,
    ]);
    assert.deepEqual(JSON.parse(example[1]!), printed, "the README shows the command's real output");
    // What the README documented before immutable subjects (issue 16, finding 3), verbatim but for the environment.
    const before = {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Federated: FEDERATED },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: {
            StringEquals: {
              "token.actions.githubusercontent.com:aud": "breakglass",
              "token.actions.githubusercontent.com:sub": `repo:acme/ops:environment:${ENV}`,
            },
          },
        },
      ],
    };
    const defaultSubject = (format: "legacy" | "immutable"): SubjectSettings => ({ format });
    assert.equal(
      allows(before, await token(grantJob, defaultSubject("legacy"))),
      true,
      "it matched the legacy subject",
    );
    assert.equal(
      allows(before, await token(grantJob, defaultSubject("immutable"))),
      false,
      "and never a repository created after 2026-07-15",
    );
  });

  it("keeps out a branch's copy of the workflow, another workflow, another environment, another audience and another repository", async () => {
    const policy = await printPolicy([
      "--repo",
      "acme/ops",
      "--role-arn",
      ROLE,
      "--environment",
      ENV,
      ...ids,
    ]);
    for (const subject of [legacyPinned, immutablePinned]) {
      const misses: Array<[string, ClaimsInput]> = [
        ["dispatched on a branch", { ...grantJob, ref: "refs/heads/fix" }],
        [
          "the default branch's ref but another branch's workflow file",
          { ...grantJob, workflow_ref: "acme/ops/.github/workflows/breakglass-grant.yml@refs/heads/fix" },
        ],
        [
          "another workflow in the same environment",
          { ...grantJob, workflow_ref: "acme/ops/.github/workflows/deploy.yml@refs/heads/main" },
        ],
        ["another environment", { ...grantJob, environment: "staging" }],
        ["no environment", { ...grantJob, environment: undefined }],
        [
          "an environment name that extends the real one",
          { ...grantJob, environment: `${ENV}:job_workflow_ref:x` },
        ],
        ["the STS default audience", { ...grantJob, aud: "sts.amazonaws.com" }],
        [
          "another repository",
          {
            ...grantJob,
            repository: "evil/ops",
            repository_owner_id: "999",
            repository_id: "998",
            workflow_ref: "evil/ops/.github/workflows/breakglass-grant.yml@refs/heads/main",
          },
        ],
      ];
      for (const [what, claims] of misses)
        assert.equal(allows(policy, await token(claims, subject)), false, `${subject.format}: ${what}`);
    }
    assert.equal(
      allows(policy, await token(grantJob, { format: "immutable" })),
      false,
      "the repository's default template (no job_workflow_ref) does not match a pinned policy",
    );
  });

  it("a renamed repository no longer matches the policy printed for its old name; printed again, it does", async () => {
    const old = await printPolicy(["--repo", "acme/ops", "--role-arn", ROLE, "--environment", ENV, ...ids]);
    const renamed = { ...grantJob, repository: "acme/ops-renamed" };
    // GitHub moves a renamed repository to immutable subjects: same ids, the new name.
    const afterRename = await token(renamed, immutablePinned);
    assert.equal(allows(old, afterRename), false);
    const again = await printPolicy([
      "--repo",
      "acme/ops-renamed",
      "--role-arn",
      ROLE,
      "--environment",
      ENV,
      ...ids,
      "--format",
      "immutable",
    ]);
    assert.equal(allows(again, afterRename), true);
    assert.equal(
      allows(again, await token({ ...grantJob, repository: "acme/ops-renamed" }, legacyPinned)),
      false,
      "--format immutable drops the name-only subject",
    );
  });

  it("a recycled name (same owner/name, another repository id) matches only the legacy subject: --format immutable shuts it out", async () => {
    const both = await printPolicy(["--repo", "acme/ops", "--role-arn", ROLE, "--environment", ENV, ...ids]);
    const immutableOnly = await printPolicy([
      "--repo",
      "acme/ops",
      "--role-arn",
      ROLE,
      "--environment",
      ENV,
      ...ids,
      "--format",
      "immutable",
    ]);
    const recycled = { ...grantJob, repository_id: "777777" };
    assert.equal(
      allows(both, await token(recycled, legacyPinned)),
      true,
      "this is what a name-only subject trusts",
    );
    assert.equal(allows(both, await token(recycled, immutablePinned)), false);
    assert.equal(allows(immutableOnly, await token(recycled, legacyPinned)), false);
    assert.equal(allows(immutableOnly, await token(grantJob, immutablePinned)), true);
  });

  it("--default-subject trusts repo + environment only (every workflow in that environment), and says nothing about customizing", async () => {
    const io = fakeIO();
    assert.equal(
      await main(
        [
          "aws",
          "trust-policy",
          "--repo",
          "acme/ops",
          "--account",
          ACCOUNT,
          "--environment",
          ENV,
          ...ids,
          "--default-subject",
        ],
        io,
      ),
      0,
      io.err(),
    );
    const policy = JSON.parse(io.out()) as { Statement: unknown };
    assert.doesNotMatch(io.err(), /customization/);
    assert.equal(allows(policy, await token(grantJob, { format: "legacy" })), true);
    assert.equal(allows(policy, await token(grantJob, { format: "immutable" })), true);
    assert.equal(
      allows(
        policy,
        await token(
          { ...grantJob, workflow_ref: "acme/ops/.github/workflows/deploy.yml@refs/heads/main" },
          { format: "immutable" },
        ),
      ),
      true,
      "not pinned: why the pinned form is the default",
    );
    assert.equal(
      allows(policy, await token({ ...grantJob, environment: "staging" }, { format: "immutable" })),
      false,
    );
    assert.equal(
      allows(policy, await token({ ...grantJob, environment: undefined }, { format: "legacy" })),
      false,
      "the default branch's ref is not trusted",
    );
  });

  it("takes the environment and account from the policies whose aws role has that role_arn, and says what to set on GitHub", async () => {
    const root = await mkdtemp(join(tmpdir(), "bg-trust-"));
    try {
      await mkdir(join(root, "policies"));
      const policyFile = (environment: string | null, arn: string) =>
        [
          "description: AWS",
          "roles:",
          "  admin:",
          "    provider: aws",
          "    settings:",
          `      role_arn: ${arn}`,
          "max_duration: 1h",
          "approvals:",
          "  required: 1",
          "  from: codeowners",
          ...(environment ? [`environment: ${environment}`] : []),
          "",
        ].join("\n");
      await writeFile(join(root, "policies", "aws-prod.yml"), policyFile(ENV, ROLE));
      await writeFile(
        join(root, "policies", "aws-other.yml"),
        policyFile("elsewhere", `arn:aws:iam::${ACCOUNT}:role/other`),
      );
      const io = fakeIO(root);
      assert.equal(
        await main(["aws", "trust-policy", "--repo", "acme/ops", "--role-arn", ROLE, ...ids], io),
        0,
        io.err(),
      );
      const policy = JSON.parse(io.out()) as { Statement: unknown };
      assert.equal(allows(policy, await token(grantJob, immutablePinned)), true);
      assert.equal(
        allows(policy, await token({ ...grantJob, environment: "elsewhere" }, immutablePinned)),
        false,
        "only the environment of this role's policy",
      );
      assert.match(io.err(), /gh api -X PUT repos\/acme\/ops\/actions\/oidc\/customization\/sub/);
      assert.match(io.err(), /"include_claim_keys":\["repo","context","job_workflow_ref"\]/);
      assert.match(io.err(), /--format immutable/);

      const legacyOnly = fakeIO(root);
      assert.equal(
        await main(["aws", "trust-policy", "--repo", "acme/ops", "--role-arn", ROLE], legacyOnly),
        0,
        legacyOnly.err(),
      );
      assert.match(
        legacyOnly.err(),
        /immutable subjects that this policy never matches; pass --owner-id and --repo-id/,
      );
      assert.equal(
        allows(
          JSON.parse(legacyOnly.out()) as { Statement: unknown },
          await token(grantJob, immutablePinned),
        ),
        false,
      );

      const none = fakeIO(root);
      assert.equal(
        await main(
          ["aws", "trust-policy", "--repo", "acme/ops", "--role-arn", `arn:aws:iam::${ACCOUNT}:role/unknown`],
          none,
        ),
        1,
      );
      assert.match(
        none.err(),
        /no policy under .* has an aws role with role_arn arn:aws:iam::123456789012:role\/unknown: pass --environment/,
      );
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("a policy without an environment is trusted on the default branch only when the workflow is pinned", async () => {
    const pinned = await printPolicy([
      "--repo",
      "acme/ops",
      "--account",
      ACCOUNT,
      ...ids,
      "--environment",
      ENV,
    ]);
    assert.ok(pinned);
    const io = fakeIO();
    const root = await mkdtemp(join(tmpdir(), "bg-trust-"));
    try {
      await mkdir(join(root, "policies"));
      await writeFile(
        join(root, "policies", "aws.yml"),
        [
          "description: AWS",
          "roles:",
          "  admin:",
          "    provider: aws",
          "    settings:",
          `      role_arn: ${ROLE}`,
          "max_duration: 1h",
          "approvals:",
          "  required: 1",
          "  from: codeowners",
          "",
        ].join("\n"),
      );
      const policy = await printPolicy(["--repo", "acme/ops", "--role-arn", ROLE, ...ids], root);
      const onMain = { ...grantJob, environment: undefined };
      assert.equal(allows(policy, await token(onMain, immutablePinned)), true);
      assert.equal(
        allows(
          policy,
          await token(
            { ...onMain, workflow_ref: "acme/ops/.github/workflows/deploy.yml@refs/heads/main" },
            immutablePinned,
          ),
        ),
        false,
      );
      assert.equal(
        await main(
          ["aws", "trust-policy", "--repo", "acme/ops", "--role-arn", ROLE, ...ids, "--default-subject"],
          { ...io, cwd: root },
        ),
        2,
      );
      assert.match(
        io.err(),
        /every workflow on that branch gets: pin the workflow, or give the policy an environment/,
      );
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("answers a wrong command line with one line and the usage, exit 2", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["--environment", ENV, "--account", ACCOUNT], /--repo is required/],
      [["--repo", "acme", "--account", ACCOUNT, "--environment", ENV], /--repo "acme" is not owner\/name/],
      [
        ["--repo", "acme/ops", "--account", ACCOUNT, "--environment", ENV, "--owner-id", "1"],
        /--owner-id and --repo-id go together/,
      ],
      [
        [
          "--repo",
          "acme/ops",
          "--account",
          ACCOUNT,
          "--environment",
          ENV,
          "--owner-id",
          "x1",
          "--repo-id",
          "2",
        ],
        /--owner-id "x1" is not a numeric GitHub id/,
      ],
      [
        ["--repo", "acme/ops", "--account", ACCOUNT, "--environment", ENV, "--format", "immutable"],
        /--format immutable needs --owner-id and --repo-id/,
      ],
      [
        ["--repo", "acme/ops", "--account", ACCOUNT, "--environment", ENV, "--format", "new"],
        /--format "new" is not one of both, legacy, immutable/,
      ],
      [
        ["--repo", "acme/ops", "--role-arn", "arn:aws:iam::12:role/x", "--environment", ENV],
        /--role-arn .* is not an IAM role ARN/,
      ],
      [
        ["--repo", "acme/ops", "--account", "12345", "--environment", ENV],
        /--account "12345" is not an AWS account id/,
      ],
      [
        ["--repo", "acme/ops", "--account", ACCOUNT, "--environment", ENV, "--workflow", "../x.yml"],
        /is not a workflow file name/,
      ],
      [["--repo", "acme/ops", "--acount", ACCOUNT], /unknown option --acount: did you mean --account\?/],
    ];
    for (const [args, message] of cases) {
      const io = fakeIO();
      assert.equal(await main(["aws", "trust-policy", ...args], io), 2, args.join(" "));
      assert.match(io.err().split("\n")[0]!, message);
      assert.match(io.err(), /Usage: breakglass aws trust-policy/);
    }
    const io = fakeIO();
    assert.equal(await main(["aws", "trust"], io), 2);
    assert.match(io.err(), /unknown subcommand "trust": use `breakglass aws trust-policy`/);
  });
});
