import {
  createServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { Probot, ProbotOctokit } from "probot";
import { pino } from "pino";
import Bottleneck from "bottleneck";
import { writePriority } from "./infra/write-priority.ts";
import { breakglassApp } from "./app.ts";
import type { BreakglassDeps } from "./infra/deps.ts";
import { createExpiryScheduler, type ExpiryScheduler } from "./infra/expiry-scheduler.ts";
import type { GitHubPort } from "../github/github-port.ts";
import { createRoutes } from "./http/http-routes.ts";
import { createIssueLock } from "./infra/issue-lock.ts";
import { octokitPort, type PortOctokit } from "../github/octokit-port.ts";
import { DEFAULT_LEDGER_REPO } from "../github/git-ledger.ts";
import { createOidcVerifier } from "./grant/oidc-verifier.ts";
import { introspectFromRecords } from "./grant/introspect-from-records.ts";
import { startWebhookProxy } from "./webhooks/webhook-proxy.ts";
import { reconcileRepository } from "./grant/reconcile.ts";
import type { ReconcileReport } from "../core/app-wire.ts";
import { dashboardRoute, type DashboardAuth } from "./http/dashboard/dashboard-route.ts";
import { webauthnRoutes, type WebAuthnConfig } from "./http/passkeys/webauthn-routes.ts";
import { collectDashboard } from "./http/dashboard/collect-dashboard.ts";
import { createAppMetrics, type AppMetrics } from "./infra/metrics.ts";
import { opsRoutes } from "./http/ops-routes.ts";
import { webhookIntake, type WebhookIntake } from "./webhooks/webhook-intake.ts";
import { catchUp, type CatchUpReport } from "./webhooks/catch-up.ts";

export interface ServerConfig {
  appId: number;
  privateKey: string;
  webhookSecret: string;
  /** GitHub API base URL; the sandbox passes its emulator's `/api/v3`. */
  baseUrl?: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  deps: Omit<BreakglassDeps, "scheduler">;
  /** Real timers for expiry (false with the sandbox's fake clock: call `runDue()` after moving it). */
  realTimers?: boolean;
  logLevel?: "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";
  /**
   * Octokit's throttling: on by default (writes spaced ~1 s apart as GitHub asks of apps, and rate
   * limits honoured with their `retry-after`). `"rate-limits-only"` keeps the rate-limit handling but
   * not the spacing (the sandbox's fault tests); `false` turns it off (the sandbox's fast default).
   */
  throttle?: boolean | "rate-limits-only";
  /** How the /breakglass dashboard is protected (default: off). */
  dashboard?: DashboardAuth;
  /** Passkey pages (/breakglass/passkeys, /breakglass/approve/…), served with Sign in with GitHub (`dashboard.mode: github`). */
  webauthn?: WebAuthnConfig;
  /** A smee.io channel whose deliveries are forwarded to the webhook route (WEBHOOK_PROXY_URL, development). */
  webhookProxyUrl?: string;
  /** Extra HTTP handlers. */
  extraRoutes?: Array<(req: IncomingMessage, res: ServerResponse) => Promise<boolean>>;
}

export interface RunningServer {
  url: string;
  port: number;
  deps: BreakglassDeps;
  probot: Probot;
  scheduler: ExpiryScheduler;
  metrics: AppMetrics;
  portFor(owner: string, repo: string): Promise<GitHubPort | null>;
  /** Reconciles every repository the app is installed on (start-up, and the sandbox's clock jumps). */
  reconcileAll(): Promise<ReconcileReport[]>;
  /** Fires the timers that are due by the deps' clock. */
  runDue(): Promise<void>;
  /** Finds and does work acknowledged by a process that died before doing it (catch-up.ts), on every repository. */
  catchUpAll(): Promise<CatchUpReport[]>;
  /** Webhooks are answered before their work is done: this is the work (idle/pause/resume for tests). */
  intake: Pick<WebhookIntake, "idle" | "pending" | "pause" | "resume">;
  stop(): Promise<void>;
}

/**
 * Octokit throttling settings on top of Probot's. Probot gives up at once on a secondary rate limit
 * ("does not retry, only logs"), which would leave a handler half done (an approval recorded, its
 * grant workflow never dispatched); GitHub asks clients to wait `retry-after` and try again, so
 * Breakglass does, twice.
 *
 * Writes keep one lane per installation, shaped by GitHub's documented numbers instead of Octokit's
 * fixed spacing: GitHub asks for at least one second between mutating requests when making "a large
 * number" of them, and allows at most 80 content-generating requests a minute. So a burst of up to
 * WRITE_BURST writes goes at once (one event's handful of writes answers in about a second), and
 * sustained writing is one a second: in any minute at most WRITE_BURST + 60 < 80. Octokit's default
 * (every write a second apart, and three seconds between comments, which GitHub does not document)
 * made an `/approve` take 8 s. The groups are made once per server, so every Octokit of an
 * installation (each webhook gets its own) shares the same lane.
 */
export const WRITE_BURST = 15;
function throttleFor(
  mode: boolean | "rate-limits-only",
  log: { warn(message: string): void },
): Record<string, unknown> {
  if (mode === false) return { enabled: false };
  const unspaced = () => new Bottleneck.Group({ maxConcurrent: 1, minTime: 0 });
  const lanes = new Bottleneck.Group({
    maxConcurrent: 1,
    reservoir: WRITE_BURST,
    reservoirIncreaseInterval: 1000,
    reservoirIncreaseAmount: 1,
    reservoirIncreaseMaximum: WRITE_BURST,
  });
  // Octokit's throttling only ever asks the write group for `key(id).schedule(options, job)`: each
  // write is queued with the priority of the work it belongs to (write-priority.ts), so a waiting
  // mirror comment or label never delays another request's ledger record or dispatch.
  const writeLane = {
    key: (id: string) => {
      const lane = lanes.key(id);
      return {
        schedule: <T>(options: Bottleneck.JobOptions, job: () => Promise<T>) =>
          lane.schedule({ ...options, priority: options.priority ?? writePriority() }, job),
      };
    },
  };
  return {
    onSecondaryRateLimit: (
      retryAfter: number,
      options: { method: string; url: string },
      _octokit: unknown,
      retryCount: number,
    ) => {
      log.warn(
        `Secondary rate limit on ${options.method} ${options.url}; retrying in ${retryAfter} s (attempt ${retryCount + 1} of 2).`,
      );
      return retryCount < 2;
    },
    notifications: unspaced(),
    write: mode === "rate-limits-only" ? unspaced() : writeLane,
  };
}

/** The app's JSON logger (server and Actions mode): tokens and secrets are redacted wherever they appear. */
export function appLogger(level: ServerConfig["logLevel"] = "info") {
  return pino({
    level,
    redact: { paths: ["token", "secrets", "*.token", "*.secrets"], censor: "[redacted]" },
  });
}

/** Every notification that did not arrive: one warning in the log and one count in the metrics. */
export function reportNotificationFailures(
  deps: BreakglassDeps,
  metrics: Pick<AppMetrics, "notificationFailed">,
  log: { warn(obj: object, msg: string): void },
): void {
  deps.notificationFailures?.onFailure((failure) => {
    log.warn(
      { notification_failure: failure },
      `notification to ${failure.url_env} failed: ${failure.reason}`,
    );
    metrics.notificationFailed(failure.target);
  });
}

/** Starts Probot's webhook middleware and Breakglass's routes on one HTTP server. */
export async function startBreakglassServer(config: ServerConfig): Promise<RunningServer> {
  const log = appLogger(config.logLevel);
  const throttle = throttleFor(config.throttle ?? true, log);
  const probot = new Probot({
    appId: config.appId,
    privateKey: config.privateKey,
    secret: config.webhookSecret,
    ...(config.baseUrl ? { baseUrl: config.baseUrl } : {}),
    log: log.child({ name: "probot" }),
    Octokit: ProbotOctokit.defaults((options: Record<string, unknown>) => ({
      ...options,
      throttle: { ...(options.throttle as object), ...throttle },
    })),
  });
  const lock = createIssueLock();
  const installationPorts = new Map<string, Promise<GitHubPort | null>>();
  const portFor = (owner: string, repo: string): Promise<GitHubPort | null> => {
    const k = `${owner}/${repo}`.toLowerCase();
    let found = installationPorts.get(k);
    if (!found) {
      found = (async () => {
        const appOctokit = await probot.auth();
        try {
          const { data } = await appOctokit.rest.apps.getRepoInstallation({ owner, repo });
          return octokitPort(
            (await probot.auth(data.id)) as unknown as PortOctokit,
            owner,
            repo,
            config.deps.ledgerRepo,
          );
        } catch (error) {
          if ((error as { status?: number }).status === 404) return null;
          throw error;
        }
      })();
      found.catch(() => installationPorts.delete(k));
      installationPorts.set(k, found);
    }
    return found;
  };
  const deps: BreakglassDeps = { ...config.deps, lock, portFor };
  const metrics = createAppMetrics(async () => {
    const data = await collectDashboard(deps, await installedPorts());
    return { active: data.active.length, pending: data.pending.length, revokeFailed: data.failed.length };
  });
  deps.counters = metrics;
  reportNotificationFailures(deps, metrics, log);
  if (config.deps.introspect) deps.introspect = introspectFromRecords(deps, portFor, config.deps.introspect);
  const scheduler = createExpiryScheduler({
    now: deps.now,
    retryBaseMs: deps.retryBaseMs,
    realTimers: config.realTimers ?? true,
    fire: async (port, issue) => {
      await reconcileRepository(deps, port, issue);
    },
    onError: (error) => log.error({ err: error }, "expiry timer failed; the sweep will retry"),
  });
  deps.scheduler = scheduler;
  /** Every repository the app is installed on, as ports. */
  async function installedPorts(): Promise<GitHubPort[]> {
    const appOctokit = await probot.auth();
    const installations = await appOctokit.paginate(appOctokit.rest.apps.listInstallations, {
      per_page: 100,
    });
    const ports: GitHubPort[] = [];
    for (const installation of installations) {
      const octokit = await probot.auth(installation.id);
      const repos = await octokit.paginate(octokit.rest.apps.listReposAccessibleToInstallation, {
        per_page: 100,
      });
      for (const repo of repos as unknown as Array<{ name: string; owner: { login: string } }>) {
        if (repo.name.toLowerCase() === (config.deps.ledgerRepo ?? DEFAULT_LEDGER_REPO).toLowerCase())
          continue;
        ports.push(
          octokitPort(octokit as unknown as PortOctokit, repo.owner.login, repo.name, config.deps.ledgerRepo),
        );
      }
    }
    return ports;
  }
  await probot.load(breakglassApp(deps, lock));
  const intake = webhookIntake(probot, log, (event, seconds, ok) => {
    metrics.webhookHandled(`${event}:work`, seconds);
    if (!ok) metrics.webhookHandled(`${event}:failed`, seconds);
  });
  const routes = createRoutes({
    deps,
    verify: createOidcVerifier(deps.oidc, deps.now),
    portFor,
    lock,
    log,
    onRefusal: (path, code) => metrics.exchangeRefused(path, code),
    extra: [
      dashboardRoute(deps, config.dashboard ?? { mode: "off" }, installedPorts),
      ...(config.webauthn && config.dashboard?.mode === "github"
        ? [webauthnRoutes(deps, config.dashboard.signIn, config.webauthn, portFor, installedPorts)]
        : []),
      opsRoutes(deps, config.dashboard ?? { mode: "off" }, metrics, {
        now: () => Date.now(),
        github: async () => {
          await (await probot.auth()).rest.apps.getAuthenticated();
        },
      }),
      ...(config.extraRoutes ?? []),
    ],
  });
  const server: HttpServer = createServer((req, res) => {
    routes(req, res)
      .then(async (handled) => {
        if (handled) return;
        const event = req.headers["x-github-event"];
        if (typeof event === "string") {
          const started = process.hrtime.bigint();
          res.once("finish", () =>
            metrics.webhookHandled(event.slice(0, 64), Number(process.hrtime.bigint() - started) / 1e9),
          );
        }
        if (await intake.handle(req, res)) return;
        res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not_found"}');
      })
      .catch((error: unknown) => {
        log.error({ err: error }, "request failed");
        if (!res.headersSent)
          res.writeHead(500, { "content-type": "application/json" }).end('{"error":"internal"}');
      });
  });
  await new Promise<void>((resolve) =>
    server.listen(config.port ?? 3000, config.host ?? "127.0.0.1", resolve),
  );
  const address = server.address() as AddressInfo;
  const url = `http://${config.host ?? "127.0.0.1"}:${address.port}`;
  // As Probot's own server does in development: the relay replays GitHub's signed deliveries here.
  const proxy = config.webhookProxyUrl
    ? await startWebhookProxy({
        source: config.webhookProxyUrl,
        target: `http://${config.host && config.host !== "0.0.0.0" ? config.host : "127.0.0.1"}:${address.port}/api/github/webhooks`,
        logger: {
          info: (m) => log.info(m),
          error: (m) => log.error(m instanceof Error ? { err: m } : {}, String(m)),
        },
      })
    : null;

  async function catchUpAll(): Promise<CatchUpReport[]> {
    const reports: CatchUpReport[] = [];
    for (const port of await installedPorts()) reports.push(await catchUp(deps, port));
    return reports;
  }

  async function reconcileAll(): Promise<ReconcileReport[]> {
    const reports: ReconcileReport[] = [];
    for (const port of await installedPorts()) {
      reports.push(await reconcileRepository(deps, port));
    }
    return reports;
  }

  return {
    url,
    port: address.port,
    deps,
    probot,
    scheduler,
    metrics,
    portFor,
    reconcileAll,
    catchUpAll,
    intake,
    async runDue() {
      for (const { port, issue } of scheduler.due(deps.now())) {
        await reconcileRepository(deps, port, issue);
      }
    },
    async stop() {
      intake.stop();
      await proxy?.stop();
      scheduler.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
