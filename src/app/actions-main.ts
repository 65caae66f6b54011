/** Serverless mode's entry point: the breakglass-app workflow runs this once per event. */
import { runInActions } from "./actions-entry.ts";

runInActions(process.env).then(
  (result) =>
    console.log(
      JSON.stringify({
        level: 30,
        msg: `Breakglass handled ${result.event} in Actions mode${result.report ? `: checked ${result.report.checked}, revoked ${result.report.revoked.length}, closed ${result.report.finished.length}, failed ${result.report.failed.length}` : ""}${result.caughtUp ? `; caught up #${result.caughtUp.issue}: intake ${result.caughtUp.intake ? "yes" : "no"}, commands ${result.caughtUp.commands.length}, edited before handling ${result.caughtUp.skippedEdited.length}` : ""}`,
      }),
    ),
  (error: unknown) => {
    console.error(`::error::Breakglass (Actions mode) failed: ${(error as Error).message}`);
    process.exitCode = 1;
  },
);
