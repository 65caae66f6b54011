import { subcommandHelp } from "../subcommand.ts";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { loadPolicies } from "../../core/policy.ts";
import { awsTrustPolicy, GITHUB_OIDC_HOST, type SubjectFormat } from "../../providers/aws-trust-policy.ts";
import { UsageError, UserError, type CliIO } from "../io.ts";
import { readRepoFiles } from "../repo-files.ts";

const HELP = `Usage: breakglass aws trust-policy --repo owner/name [options]

Prints the trust policy (JSON) of a break-glass IAM role: only the repository's grant workflow, on its
default branch, in the environment the role's policy names, may assume the role with its OIDC token.
  --repo owner/name      the repository whose grant workflow receives the credentials (required)
  --role-arn ARN         the role; its account, and the environment of every policy under --root
                         whose aws role has this role_arn
  --account ID           the AWS account (12 digits), when --role-arn is not given
  --environment NAME     the grant job's environment (repeatable); default: from the policies
  --owner-id N           the numeric id of the repository's owner  } both needed for GitHub's
  --repo-id N            the numeric id of the repository          } immutable subjects
  --format F             both (default with ids), legacy (default without) or immutable
  --default-subject      trust GitHub's default subject (repo + environment) instead of also pinning
                         job_workflow_ref, which needs the repository's customized subject template
  --workflow FILE        the grant workflow (default breakglass-grant.yml)
  --branch NAME          the default branch (default main)
  --audience AUD         the audience the Action asks for, BREAKGLASS_OIDC_AUDIENCE (default breakglass)
  --root DIR             where policies/ is (default .)

Repositories created, renamed or transferred since 2026-07-15 get immutable subjects
(repo:OWNER@OWNER_ID/REPO@REPO_ID:…); older ones keep repo:OWNER/REPO:… unless they opt in. Get the ids
with: gh api repos/OWNER/REPO --jq '.owner.id, .id'. After a rename or transfer, print the policy again.
`;

const ROLE_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/[\w+=,.@/-]+$/;
const FORMATS: Record<string, SubjectFormat[]> = {
  both: ["legacy", "immutable"],
  legacy: ["legacy"],
  immutable: ["immutable"],
};

export async function run(args: string[], io: CliIO): Promise<number> {
  const helped = subcommandHelp(args, io, HELP);
  if (helped !== null) return helped;
  const [sub, ...rest] = args as [string, ...string[]];
  if (sub !== "trust-policy")
    throw new UsageError(`unknown subcommand "${sub}": use \`breakglass aws trust-policy\` (see --help).`);
  return trustPolicyCommand(rest, io);
}

async function trustPolicyCommand(args: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args,
    allowPositionals: false,
    options: {
      repo: { type: "string" },
      "role-arn": { type: "string" },
      account: { type: "string" },
      environment: { type: "string", multiple: true },
      "owner-id": { type: "string" },
      "repo-id": { type: "string" },
      format: { type: "string" },
      "default-subject": { type: "boolean" },
      workflow: { type: "string" },
      branch: { type: "string" },
      audience: { type: "string" },
      root: { type: "string" },
    },
  });
  const repository = values.repo;
  if (!repository) throw new UsageError("--repo is required: write --repo owner/name.");
  if (!/^[^/\s]+\/[^/\s]+$/.test(repository))
    throw new UsageError(`--repo "${repository}" is not owner/name.`);
  const ownerId = values["owner-id"];
  const repoId = values["repo-id"];
  if ((ownerId === undefined) !== (repoId === undefined))
    throw new UsageError(
      "--owner-id and --repo-id go together: give both (gh api repos/OWNER/REPO --jq '.owner.id, .id').",
    );
  for (const [flag, id] of [
    ["--owner-id", ownerId],
    ["--repo-id", repoId],
  ] as const)
    if (id !== undefined && !/^[1-9]\d*$/.test(id))
      throw new UsageError(`${flag} "${id}" is not a numeric GitHub id.`);
  const formatName = values.format ?? (ownerId ? "both" : "legacy");
  const formats = FORMATS[formatName];
  if (!formats) throw new UsageError(`--format "${formatName}" is not one of both, legacy, immutable.`);
  if (formats.includes("immutable") && !ownerId)
    throw new UsageError(`--format ${formatName} needs --owner-id and --repo-id.`);
  const roleArn = values["role-arn"];
  const arn = roleArn === undefined ? null : ROLE_ARN.exec(roleArn);
  if (roleArn !== undefined && !arn)
    throw new UsageError(
      `--role-arn "${roleArn}" is not an IAM role ARN such as arn:aws:iam::123456789012:role/breakglass-admin.`,
    );
  if (values.account !== undefined && !/^\d{12}$/.test(values.account))
    throw new UsageError(`--account "${values.account}" is not an AWS account id (12 digits).`);

  let environments: Array<string | null> = values.environment ?? [];
  let account = arn?.[2] ?? values.account;
  const partition = arn?.[1] ?? "aws";
  if (environments.length === 0 || !account) {
    const root = resolve(io.cwd, values.root ?? ".");
    const { policies } = loadPolicies((await readRepoFiles(root)).policyFiles);
    const matching = [...policies.values()].flatMap((policy) =>
      Object.values(policy.roles)
        .filter(
          (role) =>
            role.provider === "aws" &&
            typeof role.settings.role_arn === "string" &&
            (roleArn === undefined || role.settings.role_arn === roleArn),
        )
        .map((role) => ({ policy, arn: String(role.settings.role_arn) })),
    );
    if (matching.length === 0) {
      throw new UserError(
        `no policy under ${root}/policies has an aws role${roleArn ? ` with role_arn ${roleArn}` : ""}: pass --environment (and --account), or --root to where the policies are.`,
      );
    }
    if (environments.length === 0)
      environments = [...new Set(matching.map((m) => m.policy.environment ?? null))];
    if (!account) {
      const accounts = [
        ...new Set(
          matching.map((m) => ROLE_ARN.exec(m.arn)?.[2]).filter((a): a is string => a !== undefined),
        ),
      ];
      if (accounts.length !== 1)
        throw new UsageError(
          `the policies' aws roles are in ${accounts.length} accounts (${accounts.join(", ")}): name one with --role-arn or --account.`,
        );
      account = accounts[0]!;
    }
  }

  let policy;
  try {
    policy = awsTrustPolicy({
      account,
      repository,
      ...(ownerId && repoId ? { ownerId, repoId } : {}),
      environments,
      defaultBranch: values.branch ?? "main",
      workflow: values.workflow ?? "breakglass-grant.yml",
      audience: values.audience ?? "breakglass",
      formats,
      pinWorkflow: values["default-subject"] !== true,
      partition,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  io.stdout(`${JSON.stringify(policy.document, null, 2)}\n`);
  if (policy.subjectCustomization) {
    io.stderr(
      `The subjects pin job_workflow_ref: set the repository's subject template first (needs admin):\n` +
        `  gh api -X PUT repos/${repository}/actions/oidc/customization/sub --input - <<<'${JSON.stringify(policy.subjectCustomization)}'\n`,
    );
  }
  if (!formats.includes("immutable")) {
    io.stderr(
      `Only the legacy subject format (repo:${repository}:…): a repository created, renamed or transferred since 2026-07-15 gets immutable subjects that this policy never matches; pass --owner-id and --repo-id.\n`,
    );
  } else if (formats.includes("legacy")) {
    io.stderr(
      `The legacy subject names the repository only by name: once the repository uses immutable subjects, print the policy again with --format immutable so a recycled name cannot match.\n`,
    );
  }
  io.stderr(
    `Create the IAM OIDC provider for https://${GITHUB_OIDC_HOST} with client ID "${values.audience ?? "breakglass"}" in account ${account} first.\n`,
  );
  return 0;
}
