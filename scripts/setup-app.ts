/**
 * `npm run setup`: Probot's GitHub App manifest flow. Open http://localhost:3000 (or $PORT), press
 * "Register a GitHub App": GitHub creates the app from app.yml (the least permissions Breakglass
 * needs) and Probot writes APP_ID, PRIVATE_KEY and WEBHOOK_SECRET to .env. Then stop this and run
 * `npm start`, which reads .env. As in every Probot app, GH_ORG registers the app under that
 * organization, and WEBHOOK_PROXY_URL (a smee.io channel) becomes the app's webhook URL; Probot reads
 * both from the environment, and they are checked here first.
 */
import { existsSync } from "node:fs";
import { run } from "probot";
import { ConfigError, configErrorLine } from "../src/app/infra/config-error.ts";
import { localDevelopmentFromEnv } from "../src/app/infra/local-development.ts";

if (existsSync(".env")) process.loadEnvFile(".env");
try {
  const development = localDevelopmentFromEnv(process.env);
  if (development.org)
    console.log(`The GitHub App will be registered under the organization ${development.org} (GH_ORG).`);
  if (development.webhookProxyUrl)
    console.log(
      `Its webhooks will go to ${development.webhookProxyUrl} (WEBHOOK_PROXY_URL); \`npm start\` forwards them here.`,
    );
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(configErrorLine(error, Date.now()));
  process.exit(1);
}
if (process.env.APP_ID && process.env.PRIVATE_KEY) {
  console.log("APP_ID and PRIVATE_KEY are already set: the app exists. Run `npm start`.");
} else {
  await run(() => undefined);
}
