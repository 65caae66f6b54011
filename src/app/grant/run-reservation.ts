import type { GitHubPort } from "../../github/github-port.ts";
import { OidcRefusal, type ActionsClaims } from "./oidc-verifier.ts";

/** One workflow run attempt: the repository by id (names can be re-registered), the run and its attempt. */
export const runKey = (claims: Pick<ActionsClaims, "repository_id" | "run_id" | "run_attempt">): string =>
  `run-${claims.repository_id}-${claims.run_id}-${claims.run_attempt}`;

const replayed = () =>
  new OidcRefusal(
    "token_replayed",
    "This workflow run already exchanged a token; each run gets one grant. Re-run the workflow (a new attempt) if it needs credentials again.",
  );

/** A quick refusal before the issue lock for a run the ledger already holds; `reserveRun` is what decides. */
export async function refuseUsedRun(port: GitHubPort, claims: ActionsClaims): Promise<void> {
  if (await port.ledger.reserved(runKey(claims))) throw replayed();
}

/**
 * Takes the run in the ledger, atomically and before anything is minted: whichever replica or process
 * gets a second token of the same run, or the same token for another request at the same moment, finds
 * it taken and is refused. A run whose mint then fails stays used; a re-run is a new attempt.
 */
export async function reserveRun(port: GitHubPort, claims: ActionsClaims, issue: number): Promise<void> {
  if (!(await port.ledger.reserve(runKey(claims), issue))) throw replayed();
}
