import { createHash, randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { Octokit } from "@octokit/rest";
import { systemClock, type Clock } from "../clock.ts";
import { DEFAULT_OWNER, DEFAULT_REPO } from "../sandbox-identity.ts";
import {
  jwtUndecodable,
  TokenStore,
  type Authentication,
  type Caller,
  type InstallationTokenFormat,
  type TokenKind,
} from "./auth.ts";
import { actorOf, webhookEnvelope, type EmulatorContext } from "./context.ts";
import { Faults, type FaultRule } from "./faults.ts";
import { submitIssueForm } from "./issue-form-submit.ts";
import {
  compileRoutes,
  HttpError,
  matchRoute,
  notFound,
  templateFor,
  type CompiledRoute,
  type RouteRequest,
  type RouteResult,
} from "./router.ts";
import {
  actionRoutes,
  completeRun,
  requestProtection,
  runEnvironment,
  startRun,
  startRunsForEvent,
} from "./routes/actions.ts";
import { appRoutes } from "./routes/apps.ts";
import { commentRoutes, MAX_ISSUE_COMMENTS } from "./routes/comments.ts";
import { gitRoutes, seedGitRepository } from "./routes/git.ts";
import { checkRoutes } from "./routes/checks.ts";
import { openPull, pullRoutes, setPullState, synchronizePulls } from "./routes/pulls.ts";
import { issueRoutes } from "./routes/issues.ts";
import { labelRoutes } from "./routes/labels.ts";
import { orgRoutes } from "./routes/orgs.ts";
import { userRoutes } from "./routes/users.ts";
import { oauthWebFlow, type WebResult } from "./oauth-web-flow.ts";
import { reactionRoutes } from "./routes/reactions.ts";
import { artifactRoutes, serveArtifactDownload, uploadArtifact } from "./routes/artifacts.ts";
import { repoRoutes } from "./routes/repos.ts";
import { installationJson, type Urls } from "./shapes.ts";
import {
  type AppRecord,
  createState,
  findRepo,
  findUser,
  hasRole,
  levelCovers,
  nodeId,
  type AccessLevel,
  type EmulatorState,
  type RepoPermission,
  type RepoRecord,
  type UserRecord,
  type WorkflowRun,
} from "./state.ts";
import { WebhookQueue, type DeliveryRecord } from "./webhooks.ts";
import { RateLimiter, type Admission } from "./rate-limits.ts";

export type { DeliveryRecord } from "./webhooks.ts";
export type { FaultRule } from "./faults.ts";
export type { EmulatorState, WorkflowRun, RepoPermission } from "./state.ts";

export interface EmulatorOptions {
  /** The scenario clock: timestamps of issues, comments and runs. Default: the system clock. */
  clock?: Clock;
  /**
   * Judges credential lifetimes: app JWT iat/exp, installation-token expiry, rate-limit resets.
   * Default: the system clock, because the peers that hold credentials (Probot's JWT signer, Octokit's
   * token cache and throttling) read the wall clock and cannot be handed ours. Pass the FakeClock to
   * exercise expiry in tests.
   */
  credentialClock?: Clock;
  appId: number;
  appSlug?: string;
  /** Verifies the app's RS256 JWTs (SPKI or PKCS#1 PEM). */
  appPublicKeyPem: string;
  webhookSecret: string;
  webhookUrl?: string;
  owner?: string;
  repo?: string;
  /** More repositories of the same owner, also covered by the installation. */
  extraRepos?: string[];
  /** Files of the extra repositories' default branches, by repository name then path (e.g. the owner's `.github` defaults). */
  extraRepoFiles?: Record<string, Record<string, string>>;
  /** Repositories (by name) that are public; all others are private. */
  publicRepos?: string[];
  /** Files on the main repository's default branch, by path. */
  files?: Record<string, string>;
  users?: Array<{ login: string; type?: "User" | "Bot" }>;
  /** "acme/dba": ["bob", "carol"] */
  teams?: Record<string, string[]>;
  /**
   * Each team's own role on every repository of the owner ("acme/dba": "write", "none" for no access).
   * A team not listed keeps the default, write (see setTeamPermission).
   */
  teamRepoPermissions?: Record<string, RepoPermission>;
  /** Repository role per login; listed users default to "write". */
  permissions?: Record<string, RepoPermission>;
  /** Organisation members (author_association MEMBER, may see teams); default: team members and everyone with write access or more. Others are outside collaborators. */
  members?: string[];
  /** What the app was granted on installation. */
  installationPermissions?: Record<string, AccessLevel>;
  installationId?: number;
  /** Send `installation.created` as soon as the emulator starts. */
  announceInstallation?: boolean;
  /** How long the app may take to answer a delivery (GitHub: 10 s). */
  webhookTimeoutMs?: number;
  /** Installation tokens' format; default "stateless" (`ghs_APPID_JWT`, GitHub's rollout since 2026-04-27), "classic" for `ghs_` + 36 characters. */
  installationTokenFormat?: InstallationTokenFormat;
  /** "concurrent" (GitHub's documented behaviour): deliveries at once and out of order; "serial" (default): one at a time, in order. */
  webhookDelivery?: "serial" | "concurrent";
  /** Enforce GitHub's documented primary and secondary REST limits (rate-limits.ts); default off. */
  rateLimits?: boolean;
}

export interface ApiRequestRecord {
  method: string;
  /** The route template, e.g. /repos/{owner}/{repo}/issues/{issue_number}. */
  route: string;
  path: string;
  status: number;
  tokenKind: TokenKind;
  /** Login acting (the app's bot for installation tokens), when authenticated. */
  actor: string | null;
  /** Scenario-clock time it arrived. */
  at: number;
  durationMs: number;
  /** `performance.now()` when it was answered (for benchmarks that time what people see). */
  answeredAt: number;
  /** The `id` of what a 201/200 write created (a comment, an issue) or the run a dispatch started. */
  createdId: number | null;
}

export type WorkflowDispatchHandler = (run: WorkflowRun) => void | Promise<void>;

export interface GitHubEmulator {
  /** Origin of the server ("github.com" of the sandbox). */
  readonly url: string;
  /** REST base for Octokit's `baseUrl` / Probot's `baseUrl`: `${url}/api/v3`. */
  readonly apiUrl: string;
  /**
   * Answers a request in-process, with no socket: the same routes, rules, limits and state as over HTTP.
   * Handler unit tests give it to Octokit (`request.fetch`) so the app's real GitHub adapter runs against
   * the strict emulator in milliseconds.
   */
  readonly inProcessFetch: typeof fetch;
  readonly state: EmulatorState;
  readonly clock: Clock;
  readonly faults: Faults;
  readonly deliveries: readonly DeliveryRecord[];
  readonly apiRequests: readonly ApiRequestRecord[];
  /** The limiter counting requests against GitHub's limits, when `rateLimits` is on. */
  readonly rateLimiter: RateLimiter | null;
  readonly tokens: TokenStore;
  resetApiRequestLog(): void;
  setWebhookUrl(url: string | null): void;
  /** A `ghp_` token acting as this person (they must be a known user). */
  userToken(login: string): string;
  /** An installation token for the app, as POST /app/installations/{id}/access_tokens would give. */
  installationToken(options?: { repositories?: string[]; permissions?: Record<string, AccessLevel> }): string;
  /** A workflow's GITHUB_TOKEN: acts as github-actions[bot] on the main repository. */
  actionsToken(options?: { permissions?: Record<string, AccessLevel> }): string;
  /** Plain Octokit acting as this person. */
  octokitFor(login: string): Octokit;
  /** Handlers run after each dispatch; a returned promise is awaited by `waitForIdle`. Returns an unsubscribe function. */
  onWorkflowDispatch(handler: WorkflowDispatchHandler): () => void;
  /** Called when any run starts (its concurrency group lets it): event-triggered runs and dispatched ones. */
  onRunStarted(handler: WorkflowDispatchHandler): () => void;
  /** The run's job ended: the run completes and its concurrency group's pending run starts. */
  completeRun(runId: number, conclusion?: NonNullable<WorkflowRun["conclusion"]>): WorkflowRun;
  updateRun(runId: number, patch: Partial<Pick<WorkflowRun, "status" | "conclusion">>): WorkflowRun;
  /** Holds a run for an environment's protection rule and sends `deployment_protection_rule.requested`. */
  requestDeploymentProtection(runId: number, environment: string): DeliveryRecord;
  emitInstallationCreated(): DeliveryRecord;
  /** Add repositories (by name, in the emulator's organisation) to the installation, as the installation's settings page does, and send `installation_repositories.added`. */
  addRepositoriesToInstallation(names: string[]): DeliveryRecord;
  redeliver(idOrGuid: number | string): Promise<DeliveryRecord>;
  /** Delivers the webhooks parked by `faults.holdWebhooks`, late; resolves once they were answered. */
  releaseHeldWebhooks(): Promise<DeliveryRecord[]>;
  /** Resolves once no delivery is queued or in flight, no API request is in flight and no dispatch handler is running. */
  waitForIdle(options?: { timeoutMs?: number }): Promise<void>;
  /** The person's role on the owner's repositories, or with `repository` (a name) on that one only. */
  setPermission(login: string, role: RepoPermission, repository?: string): void;
  setTeamMembers(team: string, logins: string[]): void;
  /** The team's own role on the owner's repositories (null: none), as an org owner sets it under the team's repositories. */
  setTeamPermission(team: string, role: RepoPermission | null): void;
  /**
   * A user-to-server token (`ghu_`) of another GitHub App acting for this person: what it posts is
   * attributed to the person, with `performed_via_github_app` naming the app.
   */
  userToServerToken(login: string, appSlug: string): string;
  /**
   * Gives a repository of the installation its first commit (as creating it with `auto_init` does) and
   * makes it private to the listed people (none: only the app and the owner's admins reach it).
   */
  initLedgerRepository(name: string, collaborators?: Record<string, RepoPermission>): void;
  /** Changes a file of the main repository's default branch (null deletes it). */
  setFile(path: string, content: string | null): void;
  /** Adds an SSH signing key (`ssh-ed25519 AAAA…`) to a person's GitHub account, as they would in their settings. */
  addSigningKey(login: string, key: string, title?: string): void;
  /** The app's OAuth client credentials for the user web flow (GitHub shows them on the app's settings page). */
  readonly oauthClient: { clientId: string; clientSecret: string };
  /** The app's registered callback URLs: /login/oauth/authorize redirects only to one of these. */
  setOAuthCallbackUrls(urls: string[]): void;
  /** The value of the `emulator_session` cookie of a browser in which `login` is signed in to GitHub. */
  webSessionFor(login: string): string;
  /** Removes every signing key of a person's account that matches `key` (type and base64). */
  removeSigningKey(login: string, key: string): void;
  /**
   * `git push` by a person: creates or moves a branch of the main repository to the default branch's
   * files with `changes` applied (null deletes a file). Refused unless they have write access, as on GitHub.
   */
  pushBranch(login: string, branch: string, changes: Record<string, string | null>): void;
  /** A person opens a pull request from `head` (a pushed branch) into the default branch: `pull_request.opened`. */
  openPullRequest(
    login: string,
    options: { head: string; title: string; body?: string },
  ): { number: number; head_sha: string; base_sha: string };
  /** A person closes or reopens a pull request: `pull_request.closed` / `pull_request.reopened`. */
  setPullRequestState(login: string, number: number, state: "open" | "closed"): void;
  /**
   * A comment flood by a person: `count` comments on an issue, as `POST …/comments` would add them but
   * without a webhook each (a test shortcut for reaching GitHub's 2,500-comment limit quickly).
   */
  floodComments(login: string, issue: number, count: number): void;
  /**
   * Starts a workflow run the way an event would (the file and inputs read from `ref`), without
   * running the dispatch handlers: for tests that run the job themselves.
   */
  startWorkflowRun(options: {
    workflow: string;
    ref?: string;
    inputs?: Record<string, string>;
    actor: string;
    event?: WorkflowRun["event"];
  }): WorkflowRun;
  /** What a run's `actions/upload-artifact` step does: the files, zipped, as the run's artifact `name`. Returns its id. */
  uploadArtifact(runId: number, name: string, files: Record<string, Buffer>, retentionDays?: number): number;
  /** The environment a run's job names (evaluated), as its OIDC token's `environment` claim would say; null for none. */
  runEnvironment(run: WorkflowRun): string | null;
  /** Makes `path` a symbolic link to `target` (relative to its folder, as `ln -s` writes it); null removes it. */
  setSymlink(path: string, target: string | null): void;
  /**
   * Someone submits an issue form in the web UI (`template` is its file name under
   * `.github/ISSUE_TEMPLATE/`): the template's labels are applied only if they exist. Resolves once
   * the issue exists; its webhooks are queued.
   */
  submitIssueForm(
    login: string,
    input: { template: string; title?: string; body: string },
    repo?: string,
  ): { number: number; labels: string[] };
  close(): Promise<void>;
}

const DEFAULT_INSTALLATION_PERMISSIONS: Record<string, AccessLevel> = {
  actions: "write",
  contents: "read",
  deployments: "write",
  issues: "write",
  members: "read",
  metadata: "read",
};
const MAX_REQUEST_BYTES = 25 * 1024 * 1024;
const API_PREFIX = "/api/v3";

const ROUTES: CompiledRoute[] = compileRoutes([
  ...appRoutes,
  ...repoRoutes,
  ...orgRoutes,
  ...userRoutes,
  // Comment and reaction routes first: `/issues/comments` would otherwise look like issue "comments".
  ...reactionRoutes,
  ...commentRoutes,
  ...labelRoutes,
  ...issueRoutes,
  ...actionRoutes,
  ...artifactRoutes,
  ...gitRoutes,
  ...pullRoutes,
  ...checkRoutes,
]);

/**
 * A stateful stand-in for GitHub's REST API and webhooks, on 127.0.0.1 at a random port, under
 * /api/v3 like GitHub Enterprise Server so Octokit and Probot reach it with `baseUrl`.
 */
export async function startGitHubEmulator(options: EmulatorOptions): Promise<GitHubEmulator> {
  const clock = options.clock ?? systemClock;
  const credentialClock = options.credentialClock ?? systemClock;
  const state = createState({
    now: clock.now(),
    appId: options.appId,
    appSlug: options.appSlug ?? "breakglass",
    owner: options.owner ?? DEFAULT_OWNER,
    repo: options.repo ?? DEFAULT_REPO,
    extraRepos: options.extraRepos ?? [],
    files: options.files ?? {},
    users: options.users ?? [],
    teams: options.teams ?? {},
    permissions: options.permissions ?? {},
    installationPermissions: options.installationPermissions ?? DEFAULT_INSTALLATION_PERMISSIONS,
    installationId: options.installationId ?? 31_415_926,
    ...(options.members ? { members: options.members } : {}),
  });
  for (const [name, repoFiles] of Object.entries(options.extraRepoFiles ?? {})) {
    const repo = findRepo(state, state.org.login, name);
    if (!repo) throw new Error(`extraRepoFiles names "${name}", which is not in extraRepos`);
    Object.assign(repo.files, repoFiles);
  }
  for (const [key, role] of Object.entries(options.teamRepoPermissions ?? {})) {
    const team = state.teams.get(key.replace(/^@/, "").toLowerCase());
    if (!team) throw new Error(`teamRepoPermissions names "${key}", which is not in teams`);
    team.repoPermission = role === "none" ? null : role;
  }
  for (const name of options.publicRepos ?? []) {
    const repo = findRepo(state, state.org.login, name);
    if (!repo) throw new Error(`publicRepos names "${name}", which is not a repository of the emulator`);
    repo.private = false;
  }
  const tokens = new TokenStore(
    state.app,
    options.appPublicKeyPem,
    credentialClock,
    options.installationTokenFormat ?? "stateless",
  );
  const faults = new Faults();
  const apiRequests: ApiRequestRecord[] = [];
  // Limits are per wall-clock minute and hour (as the app's throttling measures them), not the scenario clock.
  const rateLimiter = options.rateLimits ? new RateLimiter(credentialClock) : null;
  const dispatchHandlers = new Set<WorkflowDispatchHandler>();
  const runStartHandlers = new Set<WorkflowDispatchHandler>();
  const idleWaiters = new Set<() => void>();
  let requestsInFlight = 0;
  let handlersRunning = 0;
  const notify = () => {
    for (const waiter of [...idleWaiters]) waiter();
  };
  const webhooks = new WebhookQueue({
    secret: options.webhookSecret,
    hookId: 424_242,
    appId: options.appId,
    clock,
    faults,
    timeoutMs: options.webhookTimeoutMs ?? 10_000,
    onChange: notify,
    ...(options.webhookDelivery ? { delivery: options.webhookDelivery } : {}),
  });
  webhooks.setUrl(options.webhookUrl ?? null);

  const oauthClient = {
    clientId: `Iv23${randomBytes(8).toString("hex")}`,
    clientSecret: randomBytes(20).toString("hex"),
  };
  let callbackUrls: string[] = [];
  const webSessions = new Map<string, UserRecord>();
  const oauth = oauthWebFlow({
    clock: credentialClock,
    ...oauthClient,
    callbackUrls: () => callbackUrls,
    userOf: (session) => webSessions.get(session),
    issueToken: (user) => tokens.userToServerToken(user, state.app),
    revokeToken: (token) => void tokens.revoke(token),
  });

  const server = createServer(
    (req, res) => void (isWebFlow(req) ? handleWebFlow(req, res) : handle(req, res)),
  );
  // Keep idle connections open longer than any client pause between calls (Node closes them after 5 s,
  // which races a client reusing the socket: ECONNRESET); GitHub keeps them far longer.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const urls: Urls = { api: `${origin}${API_PREFIX}`, web: origin };

  const ctx: EmulatorContext = {
    state,
    urls,
    clock,
    credentialClock,
    tokens,
    emit(event, payload, repo, sender) {
      const full = { ...payload, ...webhookEnvelope(ctx, repo, sender) };
      const delivery = webhooks.enqueue(event, full);
      if (repo && (event === "issues" || event === "issue_comment"))
        startRunsForEvent(ctx, repo, event, full, sender);
      return delivery;
    },
    runStarted(run) {
      // GitHub queues the run and answers the request first; runners pick it up afterwards.
      const handlers = [...runStartHandlers, ...(run.event === "workflow_dispatch" ? dispatchHandlers : [])];
      if (handlers.length === 0) return;
      handlersRunning++;
      setImmediate(() => {
        const running = handlers.map((handler) => Promise.resolve().then(() => handler(run)));
        void Promise.allSettled(running).then(() => {
          handlersRunning--;
          notify();
        });
      });
    },
  };

  function isWebFlow(req: IncomingMessage): boolean {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    return path === "/login/oauth/authorize" || path === "/login/oauth/access_token";
  }

  /** github.com's web pages of the OAuth flow (not the REST API): see oauth-web-flow.ts. */
  async function handleWebFlow(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", origin);
    let result: WebResult;
    try {
      const raw = await readBody(req);
      if (url.pathname === "/login/oauth/authorize" && req.method === "GET") {
        result = oauth.authorize(url.searchParams, headerValue(req.headers.cookie));
      } else if (url.pathname === "/login/oauth/access_token" && req.method === "POST") {
        const type = headerValue(req.headers["content-type"]) ?? "";
        const params: Record<string, string | undefined> = type.includes("json")
          ? Object.fromEntries(
              Object.entries((parseJson(raw) as Record<string, unknown>) ?? {}).map(([k, v]) => [
                k,
                typeof v === "string" ? v : undefined,
              ]),
            )
          : Object.fromEntries(new URLSearchParams(raw));
        for (const [k, v] of url.searchParams) params[k] ??= v;
        result = oauth.accessToken(params, headerValue(req.headers.accept));
      } else {
        result = { status: 405, body: "Method Not Allowed" };
      }
    } catch (error) {
      result = { status: 400, body: (error as Error).message };
    }
    res.writeHead(result.status, result.headers ?? { "content-type": "text/plain" }).end(result.body);
    apiRequests.push({
      method: req.method ?? "GET",
      route: url.pathname,
      path: url.pathname,
      status: result.status,
      tokenKind: "none",
      actor: null,
      at: clock.now(),
      durationMs: 0,
      answeredAt: performance.now(),
      createdId: null,
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    requestsInFlight++;
    notify();
    const started = performance.now();
    const at = clock.now();
    const method = (req.method ?? "GET").toUpperCase();
    const url = new URL(req.url ?? "/", origin);
    const path = url.pathname.startsWith(API_PREFIX)
      ? url.pathname.slice(API_PREFIX.length) || "/"
      : url.pathname;
    let route = path;
    let tokenKind: TokenKind = "none";
    let actor: string | null = null;
    let result: RouteResult;
    const download =
      method === "GET" && !url.pathname.startsWith(API_PREFIX)
        ? serveArtifactDownload(ctx, url.pathname)
        : null;
    if (download) {
      res
        .writeHead(download.status, {
          "content-type": download.status === 200 ? "application/zip" : "text/plain",
        })
        .end(download.body);
      requestsInFlight--;
      notify();
      return;
    }

    let admission: Admission | null = null;
    try {
      const raw = await readBody(req);
      const match = url.pathname.startsWith(API_PREFIX) ? matchRoute(ROUTES, method, path) : null;
      route = match?.route.template ?? templateFor(ROUTES, path) ?? path;
      const auth = await tokens.authenticate(headerValue(req.headers.authorization));
      tokenKind = auth.ok ? auth.caller.kind : auth.kind;
      actor = auth.ok ? actorOf(auth.caller).login : null;
      if (rateLimiter && auth.ok && url.pathname.startsWith(API_PREFIX)) {
        const c = auth.caller;
        const key =
          c.kind === "app"
            ? `app ID ${c.app.id}`
            : c.kind === "installation"
              ? `installation ID ${c.app.id}`
              : `user ${c.actor.login}`;
        const admitted = rateLimiter.admit(key, method, route);
        if (!admitted.ok) throw new LimitRefusal(admitted.result);
        admission = admitted.admission;
      }
      const fault = faults.take(method, route, path);
      if (fault?.latencyMs) await new Promise((resolve) => setTimeout(resolve, fault.latencyMs));
      const injected = fault ? faultResponse(fault, credentialClock) : null;
      if (injected) {
        result = injected;
      } else if (!match) {
        throw notFound();
      } else {
        const request: RouteRequest = {
          method,
          path,
          query: url.searchParams,
          body: parseJson(raw),
          headers: req.headers,
        };
        const { caller, repo } = authorize(match.route, match.params, auth);
        result = await match.route.handle({ req: request, params: match.params, caller, repo: repo!, ctx });
      }
    } catch (error) {
      if (error instanceof LimitRefusal) {
        result = error.result;
      } else if (error instanceof HttpError) {
        result = { status: error.status, body: error.body(), headers: error.headers };
      } else {
        result = {
          status: 500,
          body: {
            message: `Emulator error: ${(error as Error).message}`,
            documentation_url: "https://docs.github.com/rest",
          },
        };
      }
    }
    result = conditional(method, req, result);
    if (admission) result = { ...result, headers: { ...result.headers, ...admission.finish(result.status) } };
    send(res, result);
    const created =
      method === "POST" && result.body && typeof result.body === "object"
        ? ((result.body as { id?: unknown; workflow_run_id?: unknown }).workflow_run_id ??
          (result.body as { id?: unknown }).id)
        : null;
    apiRequests.push({
      method,
      route,
      path,
      status: result.status,
      tokenKind,
      actor,
      at,
      durationMs: performance.now() - started,
      answeredAt: performance.now(),
      createdId: typeof created === "number" ? created : null,
    });
    requestsInFlight--;
    notify();
  }

  function authorize(
    route: CompiledRoute,
    params: Record<string, string>,
    auth: Authentication,
  ): { caller: Caller; repo: RepoRecord | null } {
    if (!auth.ok) throw auth.error;
    const caller = auth.caller;
    if (route.auth === "app") {
      if (caller.kind !== "app") throw jwtUndecodable();
      return { caller, repo: null };
    }
    // A JWT only authenticates as the app itself, for the /app endpoints.
    if (caller.kind === "app") throw new HttpError(401, "Bad credentials");
    if (route.auth === "installation" && caller.kind !== "installation") {
      throw new HttpError(
        403,
        "You must authenticate with an installation access token in order to use this endpoint.",
      );
    }
    let repo: RepoRecord | null = null;
    if (route.auth === "repo") {
      repo =
        params.repository_id !== undefined
          ? (state.repositories.get(Number(params.repository_id)) ?? null)
          : (findRepo(state, params.owner ?? "", params.repo ?? "") ?? null);
      if (!repo) throw notFound();
      if (caller.kind === "installation") {
        // A public repository can be read by any token; only what the installation covers can be written.
        const readsPublic = !repo.private && route.method === "GET";
        if (caller.token.repoIds !== "all" && !caller.token.repoIds.includes(repo.id) && !readsPublic)
          throw notFound();
      } else if (!hasRole(state, caller.actor.login, "read", repo)) {
        // A private repository does not exist for people who cannot see it.
        throw notFound();
      } else if (route.userRole && !hasRole(state, caller.actor.login, route.userRole, repo)) {
        throw new HttpError(403, `Must have ${route.userRole} access to this repository.`);
      }
    }
    // A user-to-server token reaches only what both the person and the app's permissions allow.
    const appPermissions =
      caller.kind === "installation"
        ? caller.token.permissions
        : caller.kind === "user" && caller.token.app
          ? caller.token.app.permissions
          : null;
    if (appPermissions && route.permission) {
      const { name, level } = route.permission;
      const granted = name === "metadata" ? "read" : appPermissions[name];
      if (!levelCovers(granted, level)) {
        throw new HttpError(
          403,
          "Resource not accessible by integration",
          {},
          { "x-accepted-github-permissions": `${name}=${level}` },
        );
      }
    }
    return { caller, repo };
  }

  function busy(): boolean {
    return webhooks.busy || requestsInFlight > 0 || handlersRunning > 0;
  }

  async function waitForIdle({ timeoutMs = 30_000 }: { timeoutMs?: number } = {}): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!busy()) {
        // Quiet across a macrotask turn: follow-up work (a handler's next API call) has had its chance to start.
        await new Promise((resolve) => setTimeout(resolve, 2));
        if (!busy()) return;
        continue;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `emulator not idle after ${timeoutMs} ms: ${webhooks.describe()}, ${requestsInFlight} API request(s) in flight, ${handlersRunning} dispatch handler(s) running`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(left, 250));
        function done() {
          clearTimeout(timer);
          idleWaiters.delete(done);
          resolve();
        }
        idleWaiters.add(done);
      });
    }
  }

  const knownUser = (login: string) => {
    const user = findUser(state, login);
    if (!user)
      throw new Error(
        `unknown user "${login}": list it in the emulator's \`users\` (or \`teams\`/\`permissions\`) options`,
      );
    return user;
  };

  if (options.announceInstallation) emitInstallationCreated();

  const integrations = new Map<string, AppRecord>();
  /** Another GitHub App, as one a user authorized (a chat integration, say): made on first use. */
  function integrationApp(slug: string): AppRecord {
    let app = integrations.get(slug);
    if (!app) {
      const id = 77_000 + integrations.size;
      const owner = state.users.get(slug) ?? state.org;
      const bot = findUser(state, `${slug}[bot]`) ?? {
        login: `${slug}[bot]`,
        id: state.nextId("user"),
        node_id: `BOT_${slug}`,
        type: "Bot" as const,
        created_at: clock.now(),
      };
      state.users.set(bot.login.toLowerCase(), bot);
      app = {
        id,
        slug,
        node_id: `A_${slug}`,
        name: slug,
        owner,
        permissions: { issues: "write", metadata: "read" },
        events: [],
        created_at: clock.now(),
        bot,
      };
      integrations.set(slug, app);
    }
    return app;
  }

  function emitInstallationCreated(): DeliveryRecord {
    const repos = state.installation.repoIds.map((id) => state.repositories.get(id)!);
    // The event is about the installation, so it carries the whole installation object.
    const { installation: _short, ...envelope } = webhookEnvelope(ctx, null, state.org);
    return webhooks.enqueue("installation", {
      action: "created",
      installation: installationJson(urls, state, state.installation),
      repositories: repos.map((r) => ({
        id: r.id,
        node_id: r.node_id,
        name: r.name,
        full_name: r.full_name,
        private: r.private,
      })),
      requester: null,
      ...envelope,
    });
  }

  async function inProcessFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const body = Buffer.from(await request.arrayBuffer());
    const req = Object.assign(Readable.from(body.length ? [body] : []), {
      method: request.method,
      url: url.pathname + url.search,
      headers: Object.fromEntries(request.headers),
    }) as unknown as IncomingMessage;
    return new Promise<Response>((resolve) => {
      let status = 200;
      let headers: Record<string, string> = {};
      const res = {
        writeHead(code: number, given: Record<string, string | number | readonly string[]> = {}) {
          status = code;
          headers = Object.fromEntries(
            Object.entries(given).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : String(v)]),
          );
          return res;
        },
        end(chunk?: string | Buffer) {
          const empty = status === 204 || status === 304 || chunk === undefined;
          resolve(new Response(empty ? null : chunk, { status, headers }));
          return res;
        },
      } as unknown as ServerResponse;
      void (isWebFlow(req) ? handleWebFlow(req, res) : handle(req, res));
    });
  }

  function addRepositoriesToInstallation(names: string[]): DeliveryRecord {
    const added = names.map((name) => {
      const repo = findRepo(state, state.org.login, name);
      if (!repo) throw new Error(`no repository ${state.org.login}/${name} in the emulator`);
      if (!state.installation.repoIds.includes(repo.id)) state.installation.repoIds.push(repo.id);
      return repo;
    });
    const { installation: _short, ...envelope } = webhookEnvelope(ctx, null, state.org);
    return webhooks.enqueue("installation_repositories", {
      action: "added",
      installation: installationJson(urls, state, state.installation),
      repository_selection: state.installation.repository_selection,
      repositories_added: added.map((r) => ({
        id: r.id,
        node_id: r.node_id,
        name: r.name,
        full_name: r.full_name,
        private: r.private,
      })),
      repositories_removed: [],
      requester: null,
      ...envelope,
    });
  }

  return {
    url: origin,
    apiUrl: urls.api,
    state,
    clock,
    faults,
    tokens,
    deliveries: webhooks.deliveries,
    apiRequests,
    rateLimiter,
    resetApiRequestLog: () => void apiRequests.splice(0),
    setWebhookUrl: (webhookUrl) => webhooks.setUrl(webhookUrl),
    userToken: (login) => tokens.userToken(knownUser(login)).token,
    oauthClient,
    setOAuthCallbackUrls(urls) {
      callbackUrls = [...urls];
    },
    webSessionFor(login) {
      const user = knownUser(login);
      for (const [session, u] of webSessions) if (u.id === user.id) return session;
      const session = randomBytes(16).toString("hex");
      webSessions.set(session, user);
      return session;
    },
    installationToken({ repositories, permissions } = {}) {
      const repoIds = repositories
        ? repositories.map((name) => {
            const repo = findRepo(state, state.org.login, name.split("/").pop()!);
            if (!repo) throw new Error(`no repository "${name}" in the installation`);
            return repo.id;
          })
        : state.installation.repoIds;
      return tokens.issueInstallationToken({
        actor: state.app.bot,
        app: state.app,
        repoIds,
        permissions: permissions ?? state.installation.permissions,
      }).token;
    },
    actionsToken({ permissions } = {}) {
      const app = state.actionsApp;
      return tokens.issueInstallationToken({
        actor: app.bot,
        app,
        repoIds: [state.repository.id],
        permissions: permissions ?? app.permissions,
      }).token;
    },
    octokitFor: (login) => new Octokit({ auth: tokens.userToken(knownUser(login)).token, baseUrl: urls.api }),
    onWorkflowDispatch(handler) {
      dispatchHandlers.add(handler);
      return () => dispatchHandlers.delete(handler);
    },
    onRunStarted(handler) {
      runStartHandlers.add(handler);
      return () => runStartHandlers.delete(handler);
    },
    completeRun(runId, conclusion = "success") {
      const run = state.workflowRuns.get(runId);
      if (!run) throw new Error(`no workflow run ${runId}`);
      completeRun(ctx, state.repositories.get(run.repoId)!, run, conclusion);
      return run;
    },
    updateRun(runId, patch) {
      const run = state.workflowRuns.get(runId);
      if (!run) throw new Error(`no workflow run ${runId}`);
      if (patch.status === "completed") {
        completeRun(ctx, state.repositories.get(run.repoId)!, run, patch.conclusion ?? "success");
        return run;
      }
      Object.assign(run, patch, { updated_at: clock.now() });
      return run;
    },
    requestDeploymentProtection(runId, environment) {
      const run = state.workflowRuns.get(runId);
      if (!run) throw new Error(`no workflow run ${runId}`);
      return requestProtection(ctx, state.repositories.get(run.repoId)!, run, environment);
    },
    emitInstallationCreated,
    addRepositoriesToInstallation,
    inProcessFetch: inProcessFetch as typeof fetch,
    redeliver: (idOrGuid) => webhooks.redeliver(idOrGuid),
    releaseHeldWebhooks: () => webhooks.releaseHeld(),
    waitForIdle,
    setPermission(login, role, repository) {
      knownUser(login);
      if (repository === undefined) {
        state.permissions.set(login.toLowerCase(), role);
        return;
      }
      const repo = [...state.repositories.values()].find(
        (r) => r.name.toLowerCase() === repository.toLowerCase(),
      );
      if (!repo) throw new Error(`no repository "${repository}" in the emulator`);
      repo.permissionOverrides.set(login.toLowerCase(), role);
    },
    setTeamMembers(team, logins) {
      const record = state.teams.get(team.replace(/^@/, "").toLowerCase());
      if (!record) throw new Error(`no team "${team}": declare it in the emulator's \`teams\` option`);
      logins.forEach(knownUser);
      record.members = [...logins];
    },
    setTeamPermission(team, role) {
      const record = state.teams.get(team.replace(/^@/, "").toLowerCase());
      if (!record) throw new Error(`no team "${team}": declare it in the emulator's \`teams\` option`);
      record.repoPermission = role;
    },
    userToServerToken(login, appSlug) {
      return tokens.userToServerToken(knownUser(login), integrationApp(appSlug)).token;
    },
    initLedgerRepository(name, collaborators = {}) {
      const repo = findRepo(state, state.org.login, name);
      if (!repo) throw new Error(`no repository "${name}": list it in the emulator's \`extraRepos\` option`);
      repo.collaborators = new Map(
        Object.entries(collaborators).map(([login, role]) => [login.toLowerCase(), role]),
      );
      seedGitRepository(repo, clock.now());
    },
    setSymlink(path, target) {
      if (target === null) state.repository.symlinks.delete(path);
      else state.repository.symlinks.set(path, target);
    },
    setFile(path, content) {
      if (content === null) delete state.files[path];
      else state.files[path] = content;
    },
    addSigningKey(login, key, title) {
      const user = knownUser(login);
      const list = state.signingKeys.get(user.login.toLowerCase()) ?? [];
      list.push({
        id: state.nextId("signing_key"),
        key: key.trim().split(/\s+/).slice(0, 2).join(" "),
        title: title ?? `key ${list.length + 1}`,
        created_at: clock.now(),
      });
      state.signingKeys.set(user.login.toLowerCase(), list);
    },
    removeSigningKey(login, key) {
      const wanted = key.trim().split(/\s+/).slice(0, 2).join(" ");
      const list = state.signingKeys.get(knownUser(login).login.toLowerCase()) ?? [];
      state.signingKeys.set(
        login.toLowerCase(),
        list.filter((k) => k.key !== wanted),
      );
    },
    pushBranch(login, branch, changes) {
      const user = knownUser(login);
      if (!hasRole(state, user.login, "write"))
        throw new Error(`@${login} cannot push to ${state.repository.full_name}: pushing needs write access`);
      if (branch === state.repository.default_branch)
        throw new Error(
          "pushBranch is for other branches; the default branch changes through setFile (a reviewed merge)",
        );
      const repo = state.repository;
      const files = { ...(repo.refs.get(branch) ?? repo.files) };
      for (const [path, content] of Object.entries(changes)) {
        if (content === null) delete files[path];
        else files[path] = content;
      }
      repo.refs.set(branch, files);
      // A push to a pull request's head branch is its `synchronize` event.
      synchronizePulls(ctx, repo, branch, user);
    },
    openPullRequest(login, options) {
      const user = knownUser(login);
      if (!hasRole(state, user.login, "read"))
        throw new Error(`@${login} cannot see ${state.repository.full_name}`);
      const pull = openPull(ctx, state.repository, user, options);
      return { number: pull.number, head_sha: pull.head.sha, base_sha: pull.base.sha };
    },
    setPullRequestState(login, number, pullState) {
      setPullState(ctx, state.repository, number, pullState, knownUser(login));
    },
    floodComments(login, issueNumber, count) {
      const user = knownUser(login);
      const issue = state.repository.issues.get(issueNumber);
      if (!issue) throw new Error(`floodComments: no issue #${issueNumber}`);
      for (let i = 0; i < count && issue.commentIds.length < MAX_ISSUE_COMMENTS; i++) {
        const id = state.nextId("comment");
        const now = clock.now();
        state.comments.set(id, {
          id,
          node_id: nodeId("IC", id),
          repoId: state.repository.id,
          issueNumber,
          body: `spam ${i}`,
          user: { ...user },
          created_at: now,
          updated_at: now,
          performed_via_github_app: null,
          reactions: [],
        });
        issue.commentIds.push(id);
      }
    },
    startWorkflowRun({ workflow, ref, inputs, actor, event }) {
      return startRun(ctx, state.repository, {
        workflow,
        ref: ref ?? state.repository.default_branch,
        inputs,
        actor: knownUser(actor),
        event: event ?? "workflow_dispatch",
      });
    },
    runEnvironment: (run) => runEnvironment(state.repository, run),

    submitIssueForm(login, input, repoName) {
      const repo = repoName ? findRepo(state, state.org.login, repoName) : state.repository;
      if (!repo) throw new Error(`no repository "${repoName}"`);
      const issue = submitIssueForm(ctx, repo, knownUser(login), input);
      return { number: issue.number, labels: [...issue.labels] };
    },
    uploadArtifact: (runId, name, files, retentionDays) =>
      uploadArtifact(ctx, state.repository, runId, name, files, retentionDays),
    async close() {
      webhooks.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A request refused by the rate limiter: answered as GitHub answers it, never handled. */
class LimitRefusal extends Error {
  constructor(readonly result: RouteResult) {
    super("rate limited");
  }
}

/**
 * GitHub's conditional requests: a GET answer carries an `etag` of its body; the same GET with a
 * matching `If-None-Match` is answered 304 without a body (and, with the limiter, is not counted).
 */
function conditional(method: string, req: IncomingMessage, result: RouteResult): RouteResult {
  if (method !== "GET" || result.status !== 200 || result.body === undefined) return result;
  const etag = `W/"${createHash("sha256").update(JSON.stringify(result.body)).digest("hex").slice(0, 40)}"`;
  const sent = headerValue(req.headers["if-none-match"]);
  const matches =
    sent !== undefined &&
    sent.split(",").some((tag) => tag.trim() === etag || tag.trim() === etag.slice(2) || tag.trim() === "*");
  const headers = { ...result.headers, etag };
  return matches ? { status: 304, headers } : { ...result, headers };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) {
        reject(new HttpError(413, "Request body too large"));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function parseJson(raw: string): unknown {
  if (raw.trim() === "") return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw new HttpError(400, "Problems parsing JSON");
  }
}

const SECONDARY_LIMIT_MESSAGE =
  "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID";

function faultResponse(rule: FaultRule, credentialClock: Clock): RouteResult | null {
  if (rule.rateLimit) {
    const { retryAfterSeconds, kind = "secondary", status = 429 } = rule.rateLimit;
    const requestId = randomUUID().toUpperCase();
    if (kind === "primary") {
      const reset = Math.ceil(credentialClock.now() / 1000) + retryAfterSeconds;
      return {
        status,
        body: {
          message: "API rate limit exceeded for installation.",
          documentation_url: "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api",
          status: String(status),
        },
        headers: {
          "x-ratelimit-limit": "5000",
          "x-ratelimit-remaining": "0",
          "x-ratelimit-used": "5000",
          "x-ratelimit-reset": String(reset),
          "x-ratelimit-resource": "core",
        },
      };
    }
    return {
      status,
      body: {
        message: `${SECONDARY_LIMIT_MESSAGE} ${requestId}.`,
        documentation_url:
          "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits",
        status: String(status),
      },
      headers: { "retry-after": String(retryAfterSeconds), "x-github-request-id": requestId },
    };
  }
  if (rule.status) {
    const messages: Record<number, string> = {
      403: "Resource not accessible by integration",
      500: "Server Error",
      502: "Bad Gateway",
      503: "Service Unavailable",
    };
    return {
      status: rule.status,
      body: {
        message: messages[rule.status] ?? "Server Error",
        documentation_url: "https://docs.github.com/rest",
        status: String(rule.status),
      },
    };
  }
  return null;
}

function send(res: ServerResponse, result: RouteResult): void {
  const headers: Record<string, string> = {
    "x-github-media-type": "github.v3; format=json",
    "x-github-api-version-selected": "2022-11-28",
    "x-github-request-id": randomUUID().toUpperCase(),
    ...result.headers,
  };
  if (result.raw !== undefined) {
    res.writeHead(result.status, headers).end(result.raw);
    return;
  }
  if (result.status === 204 || (result.body === undefined && result.status < 400)) {
    res.writeHead(result.status, headers).end();
    return;
  }
  const body =
    result.body ?? new HttpError(result.status, result.status === 404 ? "Not Found" : "Error").body();
  res
    .writeHead(result.status, { ...headers, "content-type": "application/json; charset=utf-8" })
    .end(JSON.stringify(body));
}
