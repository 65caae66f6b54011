import type { Policy } from "./types.ts";

export type Permission = "admin" | "maintain" | "write" | "triage" | "read" | "none";

export interface Eligibility {
  via: "codeowner" | "team" | "listed";
  /** The owning team through which the person is eligible, e.g. "@acme/dba". */
  team?: string;
}

/**
 * Who may approve requests for a policy: its CODEOWNERS (or the policy's explicit list), with teams
 * expanded by the caller. Emails in CODEOWNERS cannot be tied to a GitHub login and are skipped,
 * and so are owners listed for the policy file's path that are not people or teams.
 */
export function resolveApprovers(
  policy: Pick<Policy, "approvals">,
  codeowners: readonly string[],
  teamMembers: ReadonlyMap<string, readonly string[]>,
): Map<string, Eligibility> {
  const explicit = policy.approvals.from !== "codeowners";
  const owners = explicit ? (policy.approvals.from as string[]) : codeowners;
  const eligible = new Map<string, Eligibility>();
  for (const owner of owners) {
    if (!owner.startsWith("@")) continue;
    const name = owner.slice(1);
    if (name.includes("/")) {
      for (const member of teamMembers.get(owner) ?? []) {
        if (!eligible.has(member.toLowerCase())) {
          eligible.set(member.toLowerCase(), { via: explicit ? "listed" : "team", team: owner });
        }
      }
    } else {
      eligible.set(name.toLowerCase(), { via: explicit ? "listed" : "codeowner" });
    }
  }
  return eligible;
}

/** The teams ("@org/slug") among a list of owners, which the caller must expand through the API. */
export function teamsAmong(owners: readonly string[]): string[] {
  return owners.filter((o) => /^@[^/\s]+\/[^/\s]+$/.test(o));
}

const RANK: Record<Permission, number> = { none: 0, read: 1, triage: 2, write: 3, maintain: 4, admin: 5 };
export const permissionAtLeast = (permission: Permission, needed: Permission): boolean =>
  RANK[permission] >= RANK[needed];
export const hasWriteAccess = (permission: Permission): boolean => permissionAtLeast(permission, "write");

/**
 * The owners that can own a path as GitHub sees it: a team counts only when the team itself has
 * write access to the repository, even if each member has it personally.
 */
export function ownersWithWritableTeams(
  owners: readonly string[],
  teamPermissions: ReadonlyMap<string, Permission>,
): string[] {
  return owners.filter(
    (o) => !teamsAmong([o]).length || hasWriteAccess(teamPermissions.get(o.toLowerCase()) ?? "none"),
  );
}
