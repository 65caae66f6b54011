import type { Permission } from "../../core/approvers.ts";
import type { GitHubPort } from "../../github/github-port.ts";
import type { PortOctokit } from "../../github/octokit-port.ts";

export interface CheckAnnotation {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: "notice" | "warning" | "failure";
  message: string;
  title?: string;
}

export interface CheckOutput {
  title: string;
  summary: string;
  text?: string;
  annotations?: CheckAnnotation[];
}

/**
 * What the policy pull-request check needs from GitHub: the files of a pull request, files at a
 * ref (never the default branch implicitly), team members, and check runs. Narrow so tests pass a fake.
 */
export interface PolicyCheckPort {
  changedFiles(pull: number): Promise<string[]>;
  readFileAt(ref: string, path: string): Promise<string | null>;
  /** Names of the files directly in a directory at a ref; [] when it does not exist there. */
  listDirectoryAt(ref: string, path: string): Promise<string[]>;
  teamMembers: GitHubPort["teamMembers"];
  teamPermission(team: string): Promise<Permission>;
  createCheckRun(input: {
    name: string;
    head_sha: string;
    status: "in_progress";
    output?: CheckOutput;
    details_url?: string;
  }): Promise<number>;
  updateCheckRun(
    id: number,
    input: { output: CheckOutput; conclusion?: "success" | "failure" | "neutral" },
  ): Promise<void>;
}

const isStatus = (error: unknown, status: number): boolean =>
  typeof error === "object" && error !== null && (error as { status?: number }).status === status;

export function octokitPolicyCheckPort(
  octokit: PortOctokit,
  owner: string,
  repo: string,
  base: Pick<GitHubPort, "teamMembers" | "teamPermission">,
): PolicyCheckPort {
  return {
    async changedFiles(pull) {
      const files = await octokit.paginate(octokit.rest.pulls.listFiles, {
        owner,
        repo,
        pull_number: pull,
        per_page: 100,
      });
      return files.flatMap((f) => [f.filename, ...(f.previous_filename ? [f.previous_filename] : [])]);
    },
    async readFileAt(ref, path) {
      try {
        const { data } = await octokit.rest.repos.getContent({ owner, repo, path, ref });
        if (Array.isArray(data) || data.type !== "file" || !("content" in data)) return null;
        return Buffer.from(data.content, "base64").toString("utf8");
      } catch (error) {
        if (isStatus(error, 404)) return null;
        throw error;
      }
    },
    async listDirectoryAt(ref, path) {
      try {
        const { data } = await octokit.rest.repos.getContent({ owner, repo, path, ref });
        return Array.isArray(data) ? data.filter((e) => e.type === "file").map((e) => e.name) : [];
      } catch (error) {
        if (isStatus(error, 404)) return [];
        throw error;
      }
    },
    teamMembers: (team) => base.teamMembers(team),
    teamPermission: (team) => base.teamPermission(team),
    async createCheckRun(input) {
      const { data } = await octokit.rest.checks.create({ owner, repo, ...input });
      return data.id;
    },
    async updateCheckRun(id, input) {
      await octokit.rest.checks.update({ owner, repo, check_run_id: id, ...input });
    },
  };
}
