import * as core from "@actions/core";
import type { ActionCore } from "./action-core.ts";
import { AppRefusal } from "./app-client.ts";
import { MODES, type Mode } from "./contract.ts";
import { runGrant } from "./run-grant.ts";
import { runSweep } from "./run-sweep.ts";
import { runDrill } from "./run-drill.ts";

/** Entry point of the Action (bundled to dist/index.js). */
export async function main(actionCore: ActionCore, env: Record<string, string | undefined>): Promise<void> {
  try {
    const mode = actionCore.getInput("mode") || "grant";
    if (!(MODES as readonly string[]).includes(mode))
      throw new Error(`Unknown mode "${mode}"; use one of ${MODES.join(", ")}.`);
    const appUrl = actionCore.getInput("app-url", { required: true });
    const audience = actionCore.getInput("audience") || "breakglass";
    const repository = env.GITHUB_REPOSITORY ?? "";
    if (!/^[^/\s]+\/[^/\s]+$/.test(repository))
      throw new Error("GITHUB_REPOSITORY is not set: run this Action inside GitHub Actions.");
    switch (mode as Mode) {
      case "grant":
      case "revoke": {
        const issue = Number(actionCore.getInput("issue"));
        if (!Number.isSafeInteger(issue) || issue <= 0)
          throw new Error("The `issue` input must be the request's issue number.");
        if (mode === "grant")
          await runGrant(actionCore, {
            appUrl,
            issue,
            audience,
            exportEnv: actionCore.getBooleanInput("export-env"),
            repository,
          });
        else {
          const { runRelease } = await import("./run-grant.ts");
          actionCore.saveState(
            "breakglass-grant",
            JSON.stringify({ issue, appUrl, audience, repository, keep: false }),
          );
          await runRelease(actionCore);
        }
        return;
      }
      case "sweep":
        await runSweep(actionCore, { appUrl, audience, repository });
        return;
      case "drill":
        await runDrill(actionCore, env, { appUrl, audience, repository });
        return;
    }
  } catch (error) {
    if (error instanceof AppRefusal)
      actionCore.setFailed(`Breakglass refused (${error.code}): ${error.message}`);
    else actionCore.setFailed((error as Error).message);
  }
}

/**
 * What GitHub's `@github/local-action` calls (`local-action run . src/action/main.ts .env`): it
 * imports the entry point with @actions/core replaced by its stubs and calls `run()`.
 */
export function run(): Promise<void> {
  return main(core, process.env);
}
