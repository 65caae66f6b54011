import { existsSync } from "node:fs";
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { createNodeMiddleware, Probot, ProbotOctokit } from "probot";
import { pino } from "pino";
import Bottleneck from "bottleneck";
import { breakglassApp } from "./app.ts";
import type { BreakglassDeps } from "./deps.ts";
import { createExpiryScheduler, type ExpiryScheduler } from "./expiry-scheduler.ts";
import type { GitHubPort } from "./github-port.ts";
import { createRoutes } from "./http-routes.ts";
import { createIssueLock } from "./issue-lock.ts";
import { octokitPort, type PortOctokit } from "./octokit-port.ts";
import { DEFAULT_LEDGER_REPO } from "./git-ledger.ts";
import { createOidcVerifier } from "./oidc-verifier.ts";
import { introspectFromRecords } from "./introspect-from-records.ts";
import { reconcileRepository, type ReconcileReport } from "./reconcile.ts";
import { dashboardRoute, type DashboardAuth } from "./dashboard/dashboard-route.ts";
import { collectDashboard } from "./dashboard/collect-dashboard.ts";
import { ConfigError, configErrorLine } from "./config-error.ts";
import { createAppMetrics, type AppMetrics } from "./metrics.ts";
import { opsRoutes } from "./ops-routes.ts";

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
  stop(): Promise<void>;
}

/**
 * Octokit throttling settings on top of Probot's. Probot gives up at once on a secondary rate limit
 * ("does not retry, only logs"), which would leave a handler half done (an approval recorded, its
 * grant workflow never dispatched); GitHub asks clients to wait `retry-after` and try again, so
 * Breakglass does, twice.
 */
function throttleFor(mode: boolean | "rate-limits-only", log: { warn(message: string): void }): Record<string, unknown> {
  if (mode === false) return { enabled: false };
  return {
    onSecondaryRateLimit: (retryAfter: number, options: { method: string; url: string }, _octokit: unknown, retryCount: number) => {
      log.warn(`Secondary rate limit on ${options.method} ${options.url}; retrying in ${retryAfter} s (attempt ${retryCount + 1} of 2).`);
      return retryCount < 2;
    },
    ...(mode === "rate-limits-only" ? { write: new Bottleneck.Group({ maxConcurrent: 1, minTime: 0 }) } : {}),
  };
}

/** The app's JSON logger (server and Actions mode): tokens and secrets are redacted wherever they appear. */
export function appLogger(level: ServerConfig["logLevel"] = "info") {
  return pino({ level, redact: { paths: ["token", "secrets", "*.token", "*.secrets"], censor: "[redacted]" } });
}

/** Every notification that did not arrive: one warning in the log and one count in the metrics. */
export function reportNotificationFailures(deps: BreakglassDeps, metrics: Pick<AppMetrics, "notificationFailed">, log: { warn(obj: object, msg: string): void }): void {
  deps.notificationFailures?.onFailure((failure) => {
    log.warn({ notification_failure: failure }, `notification to ${failure.url_env} failed: ${failure.reason}`);
    metrics.notificationFailed(failure.target);
  });
}

/** Starts Probot's webhook middleware and Breakglass's routes on one HTTP server. */
export async function startBreakglassServer(config: ServerConfig): Promise<RunningServer> {
  const log = appLogger(config.logLevel);
  const probot = new Probot({
    appId: config.appId,
    privateKey: config.privateKey,
    secret: config.webhookSecret,
    ...(config.baseUrl ? { baseUrl: config.baseUrl } : {}),
    log: log.child({ name: "probot" }),
    Octokit: ProbotOctokit.defaults((options: Record<string, unknown>) => ({ ...options, throttle: { ...(options.throttle as object), ...throttleFor(config.throttle ?? true, log) } })),
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
          return octokitPort((await probot.auth(data.id)) as unknown as PortOctokit, owner, repo, config.deps.ledgerRepo);
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
    const installations = await appOctokit.paginate(appOctokit.rest.apps.listInstallations, { per_page: 100 });
    const ports: GitHubPort[] = [];
    for (const installation of installations) {
      const octokit = await probot.auth(installation.id);
      const repos = await octokit.paginate(octokit.rest.apps.listReposAccessibleToInstallation, { per_page: 100 });
      for (const repo of repos as unknown as Array<{ name: string; owner: { login: string } }>) {
        if (repo.name.toLowerCase() === (config.deps.ledgerRepo ?? DEFAULT_LEDGER_REPO).toLowerCase()) continue;
        ports.push(octokitPort(octokit as unknown as PortOctokit, repo.owner.login, repo.name, config.deps.ledgerRepo));
      }
    }
    return ports;
  }
  const webhooks = await createNodeMiddleware(breakglassApp(deps, lock), { probot });
  const routes = createRoutes({
    deps,
    verify: createOidcVerifier(deps.oidc, deps.now),
    portFor,
    lock,
    log,
    onRefusal: (path, code) => metrics.exchangeRefused(path, code),
    extra: [
      dashboardRoute(deps, config.dashboard ?? { mode: "off" }, installedPorts),
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
          res.once("finish", () => metrics.webhookHandled(event.slice(0, 64), Number(process.hrtime.bigint() - started) / 1e9));
        }
        await webhooks(req, res, () => res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not_found"}'));
      })
      .catch((error: unknown) => {
        log.error({ err: error }, "request failed");
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" }).end('{"error":"internal"}');
      });
  });
  await new Promise<void>((resolve) => server.listen(config.port ?? 3000, config.host ?? "127.0.0.1", resolve));
  const address = server.address() as AddressInfo;
  const url = `http://${config.host ?? "127.0.0.1"}:${address.port}`;

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
    async runDue() {
      for (const { port, issue } of scheduler.due(deps.now())) {
        await reconcileRepository(deps, port, issue);
      }
    },
    async stop() {
      scheduler.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  // `npm run setup` (Probot's manifest flow) writes APP_ID, PRIVATE_KEY and WEBHOOK_SECRET to .env.
  if (existsSync(".env")) process.loadEnvFile(".env");
  const { serverConfigFromEnv } = await import("./config-from-env.ts");
  const config = await serverConfigFromEnv(process.env).catch((error: unknown) => {
    if (!(error instanceof ConfigError)) throw error;
    // One line a log pipeline can alert on, naming the variable; no stack trace for a setting.
    console.error(configErrorLine(error, Date.now()));
    process.exit(1);
  });
  const running = await startBreakglassServer(config);
  console.log(JSON.stringify({ level: 30, msg: `Breakglass listening on ${running.url}` }));
  running.reconcileAll().catch((error) => console.error("start-up reconcile failed; the sweep will catch up", error));
}
