import { compileCodeowners } from "../core/codeowners.ts";
import { loadPolicies } from "../core/policy.ts";
import type { Policy } from "../core/types.ts";
import { SANDBOX_OWNER } from "../sandbox/start-sandbox.ts";
import { UserError } from "./io.ts";

/** Who plays which part in `breakglass demo`, read from a repository's own policies and CODEOWNERS. */
export interface DemoCast {
  /** The organisation the sandbox pretends to be: the one owning the policy's CODEOWNERS teams. */
  owner: string;
  resource: string;
  role: string;
  policy: Policy;
  /** Teams of that organisation, with made-up members (GitHub's member lists are not in the repository). */
  teams: Record<string, string[]>;
  users: string[];
  requester: string;
  /** People who may approve, as many as the policy requires. */
  approvers: string[];
  /** Someone with write access who owns nothing: their /approve must not count. */
  outsider: string;
  /** `default_duration`, capped at 30 minutes: the story waits for it to pass. */
  durationSeconds: number;
  /**
   * A second JWT resource the same approvers may approve, for a request naming several resources;
   * null when the repository has none.
   */
  second: { resource: string; role: string; durationSeconds: number } | null;
}

const DEMO_MAX_SECONDS = 30 * 60;

/**
 * Picks a policy with a JWT role (the one provider that needs no outside service), then casts the
 * story from the files: approvers are that policy's CODEOWNERS (or its `approvals.from` list), with
 * each owning team given made-up members; the requester is someone who owns nothing, added to a
 * `requesters.teams` team when the policy asks for one.
 */
export function castDemo(files: Record<string, string>): DemoCast {
  const policyFiles = Object.entries(files)
    .filter(([path]) => /^policies\/[^/]+\.ya?ml$/.test(path))
    .map(([path, text]) => ({ path, text }));
  const { policies } = loadPolicies(policyFiles);
  const candidates = [...policies.values()]
    .filter((p) => p.resource !== "drill")
    .sort((a, b) => a.resource.localeCompare(b.resource));
  const policy = candidates.find((p) => Object.values(p.roles).some((r) => r.provider === "jwt"));
  if (!policy) {
    throw new UserError(
      `no policy in policies/ has a \`provider: jwt\` role, and the demo grants through the JWT provider (the only one that needs no outside service). Add one, e.g. \`breakglass init --provider jwt\`${candidates.length ? ` (found: ${candidates.map((p) => p.resource).join(", ")})` : ""}.`,
    );
  }
  const role = Object.entries(policy.roles).find(([, r]) => r.provider === "jwt")![0];
  const owners = ownersOf(policy, files);
  const teamOwners = owners.filter((o) => o.includes("/"));
  const owner = teamOwners[0]?.slice(1).split("/")[0] ?? SANDBOX_OWNER;
  const teams: Record<string, string[]> = {};
  const approvers: string[] = [];
  const required = policy.approvals.required;
  for (const o of owners) {
    if (o.includes("/")) {
      const [org, slug] = o.slice(1).split("/") as [string, string];
      // A team of another organisation cannot own anything in this one (GitHub ignores it), so it gets no members.
      if (org.toLowerCase() !== owner.toLowerCase()) continue;
      const members = Array.from({ length: Math.max(1, required) }, (_, i) =>
        `${slug}-${i + 1}`.toLowerCase(),
      );
      teams[`${org}/${slug}`] = members;
      for (const m of members) if (!approvers.includes(m)) approvers.push(m);
    } else {
      const login = o.slice(1).toLowerCase();
      if (!approvers.includes(login)) approvers.push(login);
    }
  }
  if (approvers.length < required) {
    throw new UserError(
      `policies/${policy.resource}.yml needs ${required} approval(s), but its owners (${owners.join(" ") || "none"}) are fewer people than that: check CODEOWNERS or \`approvals.from\`.`,
    );
  }
  const requester = ["dave", "requester"].find((l) => !approvers.includes(l))!;
  const outsider = ["mallory", "outsider"].find((l) => !approvers.includes(l) && l !== requester)!;
  for (const team of policy.requesters.teams ?? []) {
    const key = team.replace(/^@/, "");
    teams[key] = [...new Set([...(teams[key] ?? []), requester])];
    break;
  }
  const durationSeconds = Math.min(
    policy.default_duration_seconds,
    policy.max_duration_seconds,
    DEMO_MAX_SECONDS,
  );
  const second = secondResource(candidates, policy, files, approvers.slice(0, required), teams);
  return {
    second,
    owner,
    resource: policy.resource,
    role,
    policy,
    teams,
    users: [requester, outsider, ...approvers],
    requester,
    approvers: approvers.slice(0, required),
    outsider,
    durationSeconds,
  };
}

/**
 * Another policy with a JWT role whose approvals the cast's approvers can give (each is one of its
 * owners, directly or through a team they were made members of), shorter than the first resource's
 * grant so the story waits for nothing more.
 */
function secondResource(
  candidates: Policy[],
  first: Policy,
  files: Record<string, string>,
  approvers: string[],
  teams: Record<string, string[]>,
): DemoCast["second"] {
  for (const p of candidates) {
    if (p.resource === first.resource || p.drill?.enabled) continue;
    const role = Object.entries(p.roles).find(([, r]) => r.provider === "jwt")?.[0];
    if (!role) continue;
    const owners = ownersOf(p, files).map((o) => o.slice(1).toLowerCase());
    const can = approvers.filter((a) =>
      owners.some(
        (o) =>
          o === a ||
          (teams[o] ?? Object.entries(teams).find(([k]) => k.toLowerCase() === o)?.[1] ?? []).includes(a),
      ),
    );
    if (can.length < p.approvals.required) continue;
    const durationSeconds = Math.min(p.default_duration_seconds, p.max_duration_seconds, DEMO_MAX_SECONDS);
    return { resource: p.resource, role, durationSeconds };
  }
  return null;
}

/** The approvers a policy names: its `approvals.from` list, or the CODEOWNERS of its file. */
function ownersOf(policy: Policy, files: Record<string, string>): string[] {
  if (policy.approvals.from !== "codeowners") return policy.approvals.from.filter((o) => o.startsWith("@"));
  const text = files[".github/CODEOWNERS"] ?? files["CODEOWNERS"] ?? files["docs/CODEOWNERS"];
  if (text === undefined)
    throw new UserError(
      "no CODEOWNERS (.github/, the root or docs/): the policy's approvers are its CODEOWNERS, so there is nobody to approve.",
    );
  return compileCodeowners(text)
    .ownersOf(policy.path)
    .owners.filter((o) => o.startsWith("@"));
}
