/**
 * `npm run setup`: Probot's GitHub App manifest flow. Open http://localhost:3000 (or $PORT), press
 * "Register a GitHub App": GitHub creates the app from app.yml (the least permissions Breakglass
 * needs) and Probot writes APP_ID, PRIVATE_KEY and WEBHOOK_SECRET to .env. Then stop this and run
 * `npm start`, which reads .env.
 */
import { run } from "probot";

if (process.env.APP_ID && process.env.PRIVATE_KEY) {
  console.log("APP_ID and PRIVATE_KEY are already set: the app exists. Run `npm start`.");
} else {
  await run(() => undefined);
}
