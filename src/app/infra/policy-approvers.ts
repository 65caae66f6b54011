import {
  ownersWithWritableTeams,
  resolveApprovers,
  teamsAmong,
  type Eligibility,
  type Permission,
} from "../../core/approvers.ts";
import type { Policy } from "../../core/types.ts";
import type { GitHubPort } from "../../github/github-port.ts";
import { POLICY_DIR, type RepoConfig } from "./repo-config.ts";

/** The owners of the policy file, from CODEOWNERS (or the policy's explicit list). */
export function policyOwners(config: RepoConfig, policy: Policy): string[] {
  if (policy.approvals.from !== "codeowners") return policy.approvals.from;
  return config.codeowners?.ownersOf(`${POLICY_DIR}/${policy.path.split("/").pop()}`).owners ?? [];
}

/**
 * Who may approve this policy's requests, teams expanded through the API: the one rule for approvals,
 * access-review confirmations and anything else an owner of a resource does. A CODEOWNERS team counts
 * only while the team itself has write access, as GitHub requires.
 */
export async function eligibleApprovers(
  port: GitHubPort,
  config: RepoConfig,
  policy: Policy,
  teamPermissions: (teams: readonly string[]) => Promise<Map<string, Permission>> = async (teams) =>
    new Map(
      await Promise.all(teams.map(async (t) => [t.toLowerCase(), await port.teamPermission(t)] as const)),
    ),
): Promise<Map<string, Eligibility>> {
  const owners = policyOwners(config, policy);
  const teams = teamsAmong(owners);
  const owning =
    policy.approvals.from === "codeowners"
      ? ownersWithWritableTeams(owners, await teamPermissions(teams))
      : owners;
  const pairs = await Promise.all(
    teamsAmong(owning).map(async (t) => [t, await port.teamMembers(t)] as const),
  );
  return resolveApprovers(policy, owning, new Map(pairs));
}
