import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Octokit } from "@octokit/rest";
import { systemClock, type Clock } from "../clock.ts";
import { DEFAULT_OWNER, DEFAULT_REPO } from "../sandbox-identity.ts";
import { jwtUndecodable, TokenStore, type Authentication, type Caller, type TokenKind } from "./auth.ts";
import { actorOf, webhookEnvelope, type EmulatorContext } from "./context.ts";
import { Faults, type FaultRule } from "./faults.ts";
import { compileRoutes, HttpError, matchRoute, notFound, templateFor, type CompiledRoute, type RouteRequest, type RouteResult } from "./router.ts";
import { actionRoutes, requestProtection, runEnvironment, startRun } from "./routes/actions.ts";
import { appRoutes } from "./routes/apps.ts";
import { commentRoutes } from "./routes/comments.ts";
import { gitRoutes, seedGitRepository } from "./routes/git.ts";
import { checkRoutes } from "./routes/checks.ts";
import { openPull, pullRoutes, setPullState, synchronizePulls } from "./routes/pulls.ts";
import { issueRoutes } from "./routes/issues.ts";
import { labelRoutes } from "./routes/labels.ts";
import { orgRoutes } from "./routes/orgs.ts";
import { userRoutes } from "./routes/users.ts";
import { reactionRoutes } from "./routes/reactions.ts";
import { repoRoutes } from "./routes/repos.ts";
import { installationJson, type Urls } from "./shapes.ts";
import {
  type AppRecord,
  createState,
  findRepo,
  findUser,
  hasRole,
  levelCovers,
  type AccessLevel,
  type EmulatorState,
  type RepoPermission,
  type RepoRecord,
  type WorkflowRun,
} from "./state.ts";
import { WebhookQueue, type DeliveryRecord } from "./webhooks.ts";

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
  /** Files on the main repository's default branch, by path. */
  files?: Record<string, string>;
  users?: Array<{ login: string; type?: "User" | "Bot" }>;
  /** "acme/dba": ["bob", "carol"] */
  teams?: Record<string, string[]>;
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
}

export type WorkflowDispatchHandler = (run: WorkflowRun) => void | Promise<void>;

export interface GitHubEmulator {
  /** Origin of the server ("github.com" of the sandbox). */
  readonly url: string;
  /** REST base for Octokit's `baseUrl` / Probot's `baseUrl`: `${url}/api/v3`. */
  readonly apiUrl: string;
  readonly state: EmulatorState;
  readonly clock: Clock;
  readonly faults: Faults;
  readonly deliveries: readonly DeliveryRecord[];
  readonly apiRequests: readonly ApiRequestRecord[];
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
  updateRun(runId: number, patch: Partial<Pick<WorkflowRun, "status" | "conclusion">>): WorkflowRun;
  /** Holds a run for an environment's protection rule and sends `deployment_protection_rule.requested`. */
  requestDeploymentProtection(runId: number, environment: string): DeliveryRecord;
  emitInstallationCreated(): DeliveryRecord;
  redeliver(idOrGuid: number | string): Promise<DeliveryRecord>;
  /** Delivers the webhooks parked by `faults.holdWebhooks`, late; resolves once they were answered. */
  releaseHeldWebhooks(): Promise<DeliveryRecord[]>;
  /** Resolves once no delivery is queued or in flight, no API request is in flight and no dispatch handler is running. */
  waitForIdle(options?: { timeoutMs?: number }): Promise<void>;
  setPermission(login: string, role: RepoPermission): void;
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
  /** Removes every signing key of a person's account that matches `key` (type and base64). */
  removeSigningKey(login: string, key: string): void;
  /**
   * `git push` by a person: creates or moves a branch of the main repository to the default branch's
   * files with `changes` applied (null deletes a file). Refused unless they have write access, as on GitHub.
   */
  pushBranch(login: string, branch: string, changes: Record<string, string | null>): void;
  /** A person opens a pull request from `head` (a pushed branch) into the default branch: `pull_request.opened`. */
  openPullRequest(login: string, options: { head: string; title: string; body?: string }): { number: number; head_sha: string; base_sha: string };
  /** A person closes or reopens a pull request: `pull_request.closed` / `pull_request.reopened`. */
  setPullRequestState(login: string, number: number, state: "open" | "closed"): void;
  /**
   * Starts a workflow run the way an event would (the file and inputs read from `ref`), without
   * running the dispatch handlers: for tests that run the job themselves.
   */
  startWorkflowRun(options: { workflow: string; ref?: string; inputs?: Record<string, string>; actor: string; event?: WorkflowRun["event"] }): WorkflowRun;
  /** The environment a run's job names (evaluated), as its OIDC token's `environment` claim would say; null for none. */
  runEnvironment(run: WorkflowRun): string | null;
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
  const tokens = new TokenStore(state.app, options.appPublicKeyPem, credentialClock);
  const faults = new Faults();
  const apiRequests: ApiRequestRecord[] = [];
  const dispatchHandlers = new Set<WorkflowDispatchHandler>();
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
  });
  webhooks.setUrl(options.webhookUrl ?? null);

  const server = createServer((req, res) => void handle(req, res));
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
      return webhooks.enqueue(event, { ...payload, ...webhookEnvelope(ctx, repo, sender) });
    },
    workflowDispatched(run) {
      // GitHub queues the run and answers the dispatch first; runners pick it up afterwards.
      handlersRunning++;
      setImmediate(() => {
        const running = [...dispatchHandlers].map((handler) => Promise.resolve().then(() => handler(run)));
        void Promise.allSettled(running).then(() => {
          handlersRunning--;
          notify();
        });
      });
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    requestsInFlight++;
    notify();
    const started = performance.now();
    const at = clock.now();
    const method = (req.method ?? "GET").toUpperCase();
    const url = new URL(req.url ?? "/", origin);
    const path = url.pathname.startsWith(API_PREFIX) ? url.pathname.slice(API_PREFIX.length) || "/" : url.pathname;
    let route = path;
    let tokenKind: TokenKind = "none";
    let actor: string | null = null;
    let result: RouteResult;
    try {
      const raw = await readBody(req);
      const match = url.pathname.startsWith(API_PREFIX) ? matchRoute(ROUTES, method, path) : null;
      route = match?.route.template ?? templateFor(ROUTES, path) ?? path;
      const auth = await tokens.authenticate(headerValue(req.headers.authorization));
      tokenKind = auth.ok ? auth.caller.kind : auth.kind;
      actor = auth.ok ? actorOf(auth.caller).login : null;
      const fault = faults.take(method, route, path);
      if (fault?.latencyMs) await new Promise((resolve) => setTimeout(resolve, fault.latencyMs));
      const injected = fault ? faultResponse(fault, credentialClock) : null;
      if (injected) {
        result = injected;
      } else if (!match) {
        throw notFound();
      } else {
        const request: RouteRequest = { method, path, query: url.searchParams, body: parseJson(raw), headers: req.headers };
        const { caller, repo } = authorize(match.route, match.params, auth);
        result = await match.route.handle({ req: request, params: match.params, caller, repo: repo!, ctx });
      }
    } catch (error) {
      if (error instanceof HttpError) {
        result = { status: error.status, body: error.body(), headers: error.headers };
      } else {
        result = { status: 500, body: { message: `Emulator error: ${(error as Error).message}`, documentation_url: "https://docs.github.com/rest" } };
      }
    }
    send(res, result);
    apiRequests.push({ method, route, path, status: result.status, tokenKind, actor, at, durationMs: performance.now() - started });
    requestsInFlight--;
    notify();
  }

  function authorize(route: CompiledRoute, params: Record<string, string>, auth: Authentication): { caller: Caller; repo: RepoRecord | null } {
    if (!auth.ok) throw auth.error;
    const caller = auth.caller;
    if (route.auth === "app") {
      if (caller.kind !== "app") throw jwtUndecodable();
      return { caller, repo: null };
    }
    // A JWT only authenticates as the app itself, for the /app endpoints.
    if (caller.kind === "app") throw new HttpError(401, "Bad credentials");
    if (route.auth === "installation" && caller.kind !== "installation") {
      throw new HttpError(403, "You must authenticate with an installation access token in order to use this endpoint.");
    }
    let repo: RepoRecord | null = null;
    if (route.auth === "repo") {
      repo = params.repository_id !== undefined ? (state.repositories.get(Number(params.repository_id)) ?? null) : (findRepo(state, params.owner ?? "", params.repo ?? "") ?? null);
      if (!repo) throw notFound();
      if (caller.kind === "installation") {
        if (caller.token.repoIds !== "all" && !caller.token.repoIds.includes(repo.id)) throw notFound();
      } else if (!hasRole(state, caller.actor.login, "read", repo)) {
        // A private repository does not exist for people who cannot see it.
        throw notFound();
      } else if (route.userRole && !hasRole(state, caller.actor.login, route.userRole, repo)) {
        throw new HttpError(403, `Must have ${route.userRole} access to this repository.`);
      }
    }
    // A user-to-server token reaches only what both the person and the app's permissions allow.
    const appPermissions = caller.kind === "installation" ? caller.token.permissions : caller.kind === "user" && caller.token.app ? caller.token.app.permissions : null;
    if (appPermissions && route.permission) {
      const { name, level } = route.permission;
      const granted = name === "metadata" ? "read" : appPermissions[name];
      if (!levelCovers(granted, level)) {
        throw new HttpError(403, "Resource not accessible by integration", {}, { "x-accepted-github-permissions": `${name}=${level}` });
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
        throw new Error(`emulator not idle after ${timeoutMs} ms: ${webhooks.describe()}, ${requestsInFlight} API request(s) in flight, ${handlersRunning} dispatch handler(s) running`);
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
    if (!user) throw new Error(`unknown user "${login}": list it in the emulator's \`users\` (or \`teams\`/\`permissions\`) options`);
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
      const bot = findUser(state, `${slug}[bot]`) ?? { login: `${slug}[bot]`, id: state.nextId("user"), node_id: `BOT_${slug}`, type: "Bot" as const, created_at: clock.now() };
      state.users.set(bot.login.toLowerCase(), bot);
      app = { id, slug, node_id: `A_${slug}`, name: slug, owner, permissions: { issues: "write", metadata: "read" }, events: [], created_at: clock.now(), bot };
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
      repositories: repos.map((r) => ({ id: r.id, node_id: r.node_id, name: r.name, full_name: r.full_name, private: r.private })),
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
    resetApiRequestLog: () => void apiRequests.splice(0),
    setWebhookUrl: (webhookUrl) => webhooks.setUrl(webhookUrl),
    userToken: (login) => tokens.userToken(knownUser(login)).token,
    installationToken({ repositories, permissions } = {}) {
      const repoIds = repositories
        ? repositories.map((name) => {
            const repo = findRepo(state, state.org.login, name.split("/").pop()!);
            if (!repo) throw new Error(`no repository "${name}" in the installation`);
            return repo.id;
          })
        : state.installation.repoIds;
      return tokens.issueInstallationToken({ actor: state.app.bot, app: state.app, repoIds, permissions: permissions ?? state.installation.permissions }).token;
    },
    actionsToken({ permissions } = {}) {
      const app = state.actionsApp;
      return tokens.issueInstallationToken({ actor: app.bot, app, repoIds: [state.repository.id], permissions: permissions ?? app.permissions }).token;
    },
    octokitFor: (login) => new Octokit({ auth: tokens.userToken(knownUser(login)).token, baseUrl: urls.api }),
    onWorkflowDispatch(handler) {
      dispatchHandlers.add(handler);
      return () => dispatchHandlers.delete(handler);
    },
    updateRun(runId, patch) {
      const run = state.workflowRuns.get(runId);
      if (!run) throw new Error(`no workflow run ${runId}`);
      Object.assign(run, patch, { updated_at: clock.now() });
      return run;
    },
    requestDeploymentProtection(runId, environment) {
      const run = state.workflowRuns.get(runId);
      if (!run) throw new Error(`no workflow run ${runId}`);
      return requestProtection(ctx, state.repositories.get(run.repoId)!, run, environment);
    },
    emitInstallationCreated,
    redeliver: (idOrGuid) => webhooks.redeliver(idOrGuid),
    releaseHeldWebhooks: () => webhooks.releaseHeld(),
    waitForIdle,
    setPermission(login, role) {
      knownUser(login);
      state.permissions.set(login.toLowerCase(), role);
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
      repo.collaborators = new Map(Object.entries(collaborators).map(([login, role]) => [login.toLowerCase(), role]));
      seedGitRepository(repo, clock.now());
    },
    setFile(path, content) {
      if (content === null) delete state.files[path];
      else state.files[path] = content;
    },
    addSigningKey(login, key, title) {
      const user = knownUser(login);
      const list = state.signingKeys.get(user.login.toLowerCase()) ?? [];
      list.push({ id: state.nextId("signing_key"), key: key.trim().split(/\s+/).slice(0, 2).join(" "), title: title ?? `key ${list.length + 1}`, created_at: clock.now() });
      state.signingKeys.set(user.login.toLowerCase(), list);
    },
    removeSigningKey(login, key) {
      const wanted = key.trim().split(/\s+/).slice(0, 2).join(" ");
      const list = state.signingKeys.get(knownUser(login).login.toLowerCase()) ?? [];
      state.signingKeys.set(login.toLowerCase(), list.filter((k) => k.key !== wanted));
    },
    pushBranch(login, branch, changes) {
      const user = knownUser(login);
      if (!hasRole(state, user.login, "write")) throw new Error(`@${login} cannot push to ${state.repository.full_name}: pushing needs write access`);
      if (branch === state.repository.default_branch) throw new Error("pushBranch is for other branches; the default branch changes through setFile (a reviewed merge)");
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
      if (!hasRole(state, user.login, "read")) throw new Error(`@${login} cannot see ${state.repository.full_name}`);
      const pull = openPull(ctx, state.repository, user, options);
      return { number: pull.number, head_sha: pull.head.sha, base_sha: pull.base.sha };
    },
    setPullRequestState(login, number, pullState) {
      setPullState(ctx, state.repository, number, pullState, knownUser(login));
    },
    startWorkflowRun({ workflow, ref, inputs, actor, event }) {
      return startRun(ctx, state.repository, { workflow, ref: ref ?? state.repository.default_branch, inputs, actor: knownUser(actor), event: event ?? "workflow_dispatch" });
    },
    runEnvironment: (run) => runEnvironment(state.repository, run),
    async close() {
      webhooks.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
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
        body: { message: "API rate limit exceeded for installation.", documentation_url: "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api", status: String(status) },
        headers: { "x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0", "x-ratelimit-used": "5000", "x-ratelimit-reset": String(reset), "x-ratelimit-resource": "core" },
      };
    }
    return {
      status,
      body: { message: `${SECONDARY_LIMIT_MESSAGE} ${requestId}.`, documentation_url: "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits", status: String(status) },
      headers: { "retry-after": String(retryAfterSeconds), "x-github-request-id": requestId },
    };
  }
  if (rule.status) {
    const messages: Record<number, string> = { 500: "Server Error", 502: "Bad Gateway", 503: "Service Unavailable" };
    return { status: rule.status, body: { message: messages[rule.status] ?? "Server Error", documentation_url: "https://docs.github.com/rest", status: String(rule.status) } };
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
  if (result.status === 204 || (result.body === undefined && result.status < 400)) {
    res.writeHead(result.status, headers).end();
    return;
  }
  const body = result.body ?? new HttpError(result.status, result.status === 404 ? "Not Found" : "Error").body();
  res.writeHead(result.status, { ...headers, "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(body));
}
