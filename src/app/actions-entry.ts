import { readFile } from "node:fs/promises";
import { Probot, ProbotOctokit } from "probot";
import { breakglassApp, commentFromPayload, issueFromPayload, type RawIssuePayload } from "./app.ts";
import { catchUpIssue, type CatchUpReport } from "./webhooks/catch-up-issue.ts";
import { serverConfigFromEnv } from "./infra/config-from-env.ts";
import type { BreakglassDeps } from "./infra/deps.ts";
import { createIssueLock } from "./infra/issue-lock.ts";
import { octokitPort, type PortOctokit } from "../github/octokit-port.ts";
import { reconcileRepository } from "./grant/reconcile.ts";
import type { ReconcileReport } from "../core/app-wire.ts";
import { appLogger } from "./server.ts";

/** Events the app handles in a workflow run; `schedule` and `workflow_dispatch` run the sweep. */
export const ACTIONS_EVENTS = ["issues", "issue_comment", "schedule", "workflow_dispatch"] as const;

/**
 * Serverless mode: the app runs once per event inside a GitHub Actions job
 * (`.github/workflows/breakglass-app.yml`) instead of as a server. It authenticates as the GitHub App
 * (APP_ID, PRIVATE_KEY), not with the job's GITHUB_TOKEN, so its comments and records come from the
 * app's own bot exactly as in server mode; @probot/adapter-github-actions does the latter and pins
 * probot 13, which is why it is not used. There are no timers between runs: expiry is the scheduled
 * run's sweep, so a grant ends within the schedule's interval of its expiry.
 */
export async function runInActions(
  env: Record<string, string | undefined>,
): Promise<{ event: string; report?: ReconcileReport; caughtUp?: CatchUpReport & { issue: number } }> {
  const name = env.GITHUB_EVENT_NAME ?? "";
  const [owner, repo] = (env.GITHUB_REPOSITORY ?? "").split("/");
  if (!owner || !repo) throw new Error("GITHUB_REPOSITORY is not set: run this inside a GitHub Actions job.");
  if (!(ACTIONS_EVENTS as readonly string[]).includes(name)) return { event: `${name} (ignored)` };
  // Webhooks are not received in this mode; the variable is only required by the server.
  const config = await serverConfigFromEnv({ WEBHOOK_SECRET: "unused-in-actions-mode", ...env });
  const log = appLogger(config.logLevel);
  const probot = new Probot({
    appId: config.appId,
    privateKey: config.privateKey,
    ...(config.baseUrl ? { baseUrl: config.baseUrl } : {}),
    log: log.child({ name: "probot" }),
    Octokit: ProbotOctokit,
  });
  const lock = createIssueLock();
  const deps: BreakglassDeps = { ...config.deps, lock };
  const appOctokit = await probot.auth();
  const { data: installation } = await appOctokit.rest.apps.getRepoInstallation({ owner, repo });
  const octokit = (await probot.auth(installation.id)) as unknown as PortOctokit & CatchUpOctokit;
  const port = octokitPort(octokit, owner, repo, deps.ledgerRepo);
  const payload = env.GITHUB_EVENT_PATH
    ? (JSON.parse(await readFile(env.GITHUB_EVENT_PATH, "utf8")) as Record<string, unknown>)
    : {};
  const dispatchedIssue = Number((payload.inputs as { issue?: unknown } | undefined)?.issue ?? "");
  if (
    name === "schedule" ||
    (name === "workflow_dispatch" && !(Number.isSafeInteger(dispatchedIssue) && dispatchedIssue > 0))
  ) {
    const report = await reconcileRepository(deps, port);
    log.info({ report }, "sweep");
    return { event: name, report };
  }
  await probot.load(breakglassApp(deps, lock));
  const issueNumber =
    name === "workflow_dispatch"
      ? dispatchedIssue
      : Number((payload.issue as { number?: unknown } | undefined)?.number);
  // A new comment is handled by the catch-up below, with every other comment no run handled yet.
  if (name !== "workflow_dispatch" && !(name === "issue_comment" && payload.action === "created")) {
    // An Actions event payload names no installation; the app's is the repository's.
    await probot.receive({
      id: `${env.GITHUB_RUN_ID ?? "0"}-${env.GITHUB_RUN_ATTEMPT ?? "1"}`,
      name,
      payload: { ...payload, installation: { id: installation.id } },
    } as Parameters<Probot["receive"]>[0]);
  }
  const caughtUp = {
    issue: issueNumber,
    ...(await catchUpIssue(
      deps,
      port,
      lock,
      catchUpSource(octokit, owner, repo, issueNumber, deps.identity.login),
    )),
  };
  log.info({ caughtUp }, "caught up");
  return {
    event:
      name === "workflow_dispatch"
        ? `workflow_dispatch for #${issueNumber}`
        : `${name}.${String(payload.action ?? "")}`,
    caughtUp,
  };
}

/** The REST calls catching up needs beyond the port: comments with updated_at, and reactions. */
interface CatchUpOctokit {
  paginate: <T>(route: unknown, parameters: Record<string, unknown>) => Promise<T[]>;
  rest: {
    issues: {
      get(p: { owner: string; repo: string; issue_number: number }): Promise<{ data: unknown }>;
      listComments: unknown;
    };
    reactions: { listForIssueComment: unknown };
  };
}

function catchUpSource(
  octokit: CatchUpOctokit,
  owner: string,
  repo: string,
  issue: number,
  appLogin: string,
) {
  type RawComment = Parameters<typeof commentFromPayload>[0] & { updated_at: string };
  return {
    issue: async () =>
      issueFromPayload(
        (await octokit.rest.issues.get({ owner, repo, issue_number: issue })).data as RawIssuePayload,
      ),
    comments: async () =>
      (
        await octokit.paginate<RawComment>(octokit.rest.issues.listComments, {
          owner,
          repo,
          issue_number: issue,
          per_page: 100,
        })
      ).map((c) => ({ ...commentFromPayload(c), updated_at: c.updated_at })),
    appReacted: async (commentId: number) =>
      (
        await octokit.paginate<{ user: { login: string } | null }>(
          octokit.rest.reactions.listForIssueComment,
          { owner, repo, comment_id: commentId, per_page: 100 },
        )
      ).some((r) => r.user?.login === appLogin),
  };
}
