import * as core from "@actions/core";
import { AppRefusal } from "./app-client.ts";
import { runRelease } from "./run-grant.ts";

/** Post step: revoke what this run obtained when the job ends (`--post src/action/post.ts` under local-action). */
export async function run(): Promise<void> {
  try {
    await runRelease(core);
  } catch (error) {
    if (error instanceof AppRefusal)
      core.setFailed(`Breakglass refused to release the grant (${error.code}): ${error.message}`);
    else core.setFailed(`Could not release the grant: ${(error as Error).message}`);
  }
}
