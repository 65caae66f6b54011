import type { Octokit } from "@octokit/rest";

/** The slice of Octokit the port uses: `rest` endpoint methods, `paginate` and plain `request`. */
export type PortOctokit = Pick<Octokit, "rest" | "paginate" | "request">;
