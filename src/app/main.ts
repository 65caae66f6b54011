/**
 * The app server's entry point (`npm start`, the Dockerfile): configuration from the environment,
 * the server, then the start-up catch-up and reconcile. Library code lives in server.ts.
 */
import { existsSync } from "node:fs";
import { ConfigError, configErrorLine } from "./infra/config-error.ts";
import { serverConfigFromEnv } from "./infra/config-from-env.ts";
import { startBreakglassServer } from "./server.ts";

// `npm run setup` (Probot's manifest flow) writes APP_ID, PRIVATE_KEY and WEBHOOK_SECRET to .env.
if (existsSync(".env")) process.loadEnvFile(".env");
const config = await serverConfigFromEnv(process.env).catch((error: unknown) => {
  if (!(error instanceof ConfigError)) throw error;
  // One line a log pipeline can alert on, naming the variable; no stack trace for a setting.
  console.error(configErrorLine(error, Date.now()));
  process.exit(1);
});
const running = await startBreakglassServer(config);
console.log(JSON.stringify({ level: 30, msg: `Breakglass listening on ${running.url}` }));

// Work a previous process acknowledged but did not do, then everything due by the clock.
running
  .catchUpAll()
  .catch((error) => console.error("start-up catch-up failed; restart or run the sweep to try again", error))
  .then(() => running.reconcileAll())
  .then((reports) => {
    if (!config.deps.retiredSealKeys?.length) return;
    // After a seal-key rotation this line says when the retired key may be removed: nothing left under it.
    const resealed = reports.flatMap((r) => r.resealed).length;
    const unopenable = reports.flatMap((r) => r.unopenable).length;
    const failed = reports.flatMap((r) => r.failed).length;
    console.log(
      JSON.stringify({
        level: unopenable || failed ? 40 : 30,
        msg: `seal key rotation: ${resealed} live grant handle(s) sealed again under the current key; ${unopenable} open with no configured key; ${failed} request(s) could not be read now (the sweep retries)`,
        resealed,
        unopenable,
        failed,
      }),
    );
  })
  .catch((error) => console.error("start-up reconcile failed; the sweep will catch up", error));
