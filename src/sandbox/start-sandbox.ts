import { generateKeyPairSync, randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { Octokit } from "@octokit/rest";
import { createSigner } from "../core/audit-chain.ts";
import { memoryNotifier } from "../app/notifier.ts";
import { startBreakglassServer, type RunningServer } from "../app/server.ts";
import { DEFAULT_LEDGER_REPO } from "../app/git-ledger.ts";
import { generateSigningKeyPem, signingKeysFromPem } from "../app/signing-keys.ts";
import type { CredentialProvider } from "../providers/provider.ts";
import type { ProviderName } from "../core/types.ts";
import { createJwtProvider, introspect, memoryRevocationStore } from "../providers/jwt.ts";
import { runAction, type ActionRun } from "./action-runner.ts";
import { FakeClock } from "./clock.ts";
import { startGitHubEmulator, type GitHubEmulator, type WorkflowRun } from "./github/emulator.ts";
import { startOidcIssuer, type OidcIssuer } from "./oidc-issuer.ts";

export const SANDBOX_OWNER = "acme";
export const SANDBOX_REPO = "ops";
export const SANDBOX_APP_ID = 4242;
export const SANDBOX_APP_SLUG = "breakglass";
export const SANDBOX_AUDIENCE = "breakglass";
/** The repository of the sandbox organisation that holds the app's ledger (no human collaborators). */
export const SANDBOX_LEDGER_REPO = DEFAULT_LEDGER_REPO;
/** The sandbox app's public URL, as its JWT grants name it (`iss`). */
export const SANDBOX_JWT_ISSUER = "http://breakglass.sandbox";

/** The people of the sandbox organisation, matching .github/CODEOWNERS of this repository. */
export const SANDBOX_TEAMS: Record<string, string[]> = {
  "acme/dba": ["bob", "carol"],
  "acme/platform": ["erin"],
  "acme/ai-governance": ["grace", "heidi"],
  "acme/sre": ["bob", "ivan"],
  "acme/security": ["sam"],
  "acme/oncall": ["olga"],
};
export const SANDBOX_USERS = ["dave", "mallory", "bob", "carol", "erin", "grace", "heidi", "ivan", "sam", "olga", "rita"];

export interface SandboxOptions {
  /** Directory whose policies/, CODEOWNERS and issue form become the repository's files (default: this project). */
  root?: string;
  /** Extra or replaced repository files, by path. */
  files?: Record<string, string>;
  teams?: Record<string, string[]>;
  users?: Array<{ login: string; type?: "User" | "Bot" }>;
  permissions?: Record<string, "admin" | "write" | "maintain" | "triage" | "read" | "none">;
  startMs?: number;
  /** Run the grant workflow (the real Action process) when the app dispatches it. Default true. */
  runWorkflows?: boolean;
  /** Keep the grant job "running" after it got credentials until this resolves (default: finish at once). */
  holdJob?: (env: Record<string, string>, issue: number) => Promise<void>;
  providers?: Partial<Record<ProviderName, CredentialProvider>>;
  logLevel?: "info" | "warn" | "error" | "silent";
  /** SSH signing keys people added to GitHub (`GET /users/{username}/ssh_signing_keys`), as key lines. */
  signingKeys?: Record<string, string[]>;
  /** Honour rate limits (`retry-after`) as the deployed app does, without its write spacing. Default off: faster. */
  rateLimits?: boolean;
}

export interface Sandbox {
  emulator: GitHubEmulator;
  issuer: OidcIssuer;
  readonly app: RunningServer;
  clock: FakeClock;
  notifier: ReturnType<typeof memoryNotifier>;
  appLogin: string;
  repository: string;
  /** Octokit acting as a person of the sandbox (their own user token). */
  as(login: string): Octokit;
  /** Workflow runs the sandbox started, with what the Action printed and exported. */
  runs: Array<{ issue: number; workflow: string; result: Promise<ActionRun> }>;
  /** Runs the grant workflow for an issue, as the app's dispatch would. */
  runGrantWorkflow(issue: number, claims?: Record<string, unknown>): Promise<ActionRun>;
  /** Runs the job of an existing workflow run (any branch, anyone's) with the token GitHub would give it. */
  runJob(runId: number): Promise<ActionRun>;
  /** Runs the drill workflow (the Action in drill mode) as the scheduled drill would. */
  runDrillWorkflow(timeout?: string): Promise<ActionRun>;
  /** Stops the app as a crash would: its timers and memory are gone; webhooks meanwhile fail. */
  stopApp(): Promise<void>;
  /**
   * Another app server with the same configuration and keys but nothing else in common (its own
   * Probot, lock, timers, revocation list), as a second replica behind a load balancer would be.
   * Webhooks still go to the main app unless the test points the emulator elsewhere. Closed with the sandbox.
   */
  startReplica(): Promise<RunningServer>;
  /** The app's secrets, for tests that run the app another way (Actions mode) with the same identity and keys. */
  secrets: { appPrivateKey: string; webhookSecret: string; signingKeyPem: string; sealKey: string };
  /** Where the Action (grant and drill workflows) reaches the app from now on, e.g. a load balancer in front of replicas. */
  routeActionsTo(url: string): void;
  /** Starts a fresh app process on the same address and runs its start-up reconcile. */
  startApp(): Promise<void>;
  /** Moves the clock, fires the app's due timers and waits until everything settled. */
  advance(ms: number): Promise<void>;
  /** Waits for webhook deliveries and workflow runs to finish. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/** Reads the repository files the app needs from a directory: policies, CODEOWNERS, issue form, workflows. */
export async function repositoryFilesFrom(root: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const add = async (path: string) => {
    try {
      files[path] = await readFile(join(root, path), "utf8");
    } catch {
      /* absent files are simply absent in the repository too */
    }
  };
  for (const dir of ["policies", ".github/workflows", ".github/ISSUE_TEMPLATE"]) {
    const names = await readdir(join(root, dir)).catch(() => [] as string[]);
    for (const name of names) if (/\.(ya?ml|json)$/.test(name)) await add(`${dir}/${name}`);
  }
  for (const path of [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"]) await add(path);
  return files;
}

/**
 * The whole of Breakglass on one machine: the GitHub emulator, the local OIDC issuer, the real
 * Probot app over HTTP, and the real Action as a separate process for every dispatched workflow.
 * Time is a fake clock that only moves when told to.
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const clock = new FakeClock(options.startMs ?? Date.parse("2026-11-24T09:00:00Z"));
  const now = () => clock.now();
  const { privateKey: appKey, publicKey: appPublic } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const webhookSecret = randomBytes(16).toString("hex");
  const files = { ...(await repositoryFilesFrom(options.root ?? process.cwd())), ...(options.files ?? {}) };
  const teams = options.teams ?? SANDBOX_TEAMS;
  const users = options.users ?? [...SANDBOX_USERS.map((login) => ({ login })), { login: "github-actions[bot]", type: "Bot" as const }];
  const emulator = await startGitHubEmulator({
    clock,
    appId: SANDBOX_APP_ID,
    appSlug: SANDBOX_APP_SLUG,
    appPublicKeyPem: appPublic,
    webhookSecret,
    owner: SANDBOX_OWNER,
    repo: SANDBOX_REPO,
    files,
    users,
    teams,
    ...(options.permissions ? { permissions: options.permissions } : {}),
    // The ledger lives in its own repository that no person can push to (see docs/architecture.md).
    extraRepos: [SANDBOX_LEDGER_REPO],
    installationPermissions: { actions: "write", checks: "write", contents: "write", deployments: "write", issues: "write", members: "read", metadata: "read", pull_requests: "read" },
  });
  for (const [login, lines] of Object.entries(options.signingKeys ?? {})) for (const line of lines) emulator.addSigningKey(login, line);
  // Everyone may read the ledger (auditors verify against it); only the app can write it.
  const readers = [...users.map((u) => u.login), ...Object.values(teams).flat()];
  emulator.initLedgerRepository(SANDBOX_LEDGER_REPO, Object.fromEntries(readers.map((login) => [login, "read" as const])));
  const issuer = await startOidcIssuer({ clock });
  const signingKeyPem = await generateSigningKeyPem();
  const keys = await signingKeysFromPem(signingKeyPem);
  const notifier = memoryNotifier();
  const appLogin = `${SANDBOX_APP_SLUG}[bot]`;
  const sealKey = randomBytes(32);
  // Everything a real restart loses (timers, the JWT revocation list, caches) is made anew each start.
  const startApp = async (port = 0) => {
    const revocations = memoryRevocationStore(now);
    const jwtProvider = createJwtProvider({ issuer: SANDBOX_JWT_ISSUER, signingKey: keys.privateKey, kid: keys.kid, revocations, now });
    return startBreakglassServer({
      appId: SANDBOX_APP_ID,
      privateKey: appKey,
      webhookSecret,
      baseUrl: emulator.apiUrl,
      port,
      realTimers: false,
      throttle: options.rateLimits ? "rate-limits-only" : false,
      dashboard: { mode: "loopback" },
      logLevel: options.logLevel ?? "silent",
      deps: {
        identity: { appId: SANDBOX_APP_ID, login: appLogin },
        signer: createSigner(keys.privateKey, keys.kid),
        jwks: keys.jwks,
        sealKey,
        now,
        publicUrl: SANDBOX_JWT_ISSUER,
        oidc: { issuer: issuer.url, audience: SANDBOX_AUDIENCE, clockToleranceSeconds: 30 },
        grantWorkflow: "breakglass-grant.yml",
        sweepWorkflow: "breakglass-sweep.yml",
        drillWorkflow: "breakglass-drill.yml",
        providers: { jwt: jwtProvider, ...(options.providers ?? {}) },
        introspect: (token) => introspect(token, { jwks: keys.jwks, issuer: SANDBOX_JWT_ISSUER, revocations, now: now() }),
        notifier,
        retryBaseMs: 60_000,
      },
    });
  };
  let app = await startApp();
  const replicas: RunningServer[] = [];
  // The app keeps its address across restarts, as a deployment behind a fixed URL does.
  let appUrl = app.url;
  const appPort = app.port;
  emulator.setWebhookUrl(`${app.url}/api/github/webhooks`);
  const repository = `${SANDBOX_OWNER}/${SANDBOX_REPO}`;
  const repoState = emulator.state.repository;
  const runs: Sandbox["runs"] = [];

  /** What GitHub's token for a job of `run` says: the run's ref (the branch it used), commit, actor and environment. */
  const claimsForRun = (run: WorkflowRun) => {
    const environment = emulator.runEnvironment(run);
    return {
      repository,
      repository_id: String(repoState.id),
      repository_owner: SANDBOX_OWNER,
      repository_owner_id: String(repoState.owner.id),
      workflow_ref: `${repository}/${run.path}@${run.ref}`,
      job_workflow_ref: `${repository}/${run.path}@${run.ref}`,
      workflow_sha: run.head_sha,
      job_workflow_sha: run.head_sha,
      sha: run.head_sha,
      run_id: String(run.id),
      run_attempt: String(run.run_attempt),
      run_number: String(run.run_number),
      actor: run.actor.login,
      event_name: run.event,
      ref: run.ref,
      ...(environment ? { environment } : {}),
    } as Record<string, unknown> & { repository: string; run_id: string };
  };

  /** The real Action, as the job of `run` would run it, with the token GitHub would give that job. */
  function runActionFor(run: WorkflowRun, issue: number, overrides: Record<string, unknown> = {}): Promise<ActionRun> {
    return runAction({
      inputs: { mode: "grant", "app-url": appUrl, issue: String(issue), audience: SANDBOX_AUDIENCE, "export-env": "true" },
      claims: { ...claimsForRun(run), ...overrides },
      oidc: issuer,
      ...(options.holdJob ? { between: (env: Record<string, string>) => options.holdJob!(env, issue) } : {}),
    });
  }

  /** Runs a runner has picked up (so each queued run's job runs once). */
  const pickedUp = new Set<number>();
  async function runGrantWorkflow(issue: number, claims: Record<string, unknown> = {}): Promise<ActionRun> {
    // A runner picks up the newest queued grant run for the issue on the default branch (the app's
    // dispatch); with none queued, a run is started as the app's dispatch would start it, which the
    // app has not recorded: the exchange then checks the run with GitHub.
    const queued = [...repoState.runs.values()]
      .filter((r) => r.path.endsWith("/breakglass-grant.yml") && r.inputs.issue === String(issue) && r.head_branch === repoState.default_branch && !pickedUp.has(r.id))
      .sort((a, b) => b.id - a.id)[0];
    const environment = typeof claims.environment === "string" ? claims.environment : undefined;
    const run = queued ?? emulator.startWorkflowRun({ workflow: "breakglass-grant.yml", actor: appLogin, inputs: { issue: String(issue), ...(environment ? { environment } : {}) } });
    pickedUp.add(run.id);
    return runActionFor(run, issue, claims);
  }

  async function runDrillWorkflow(timeout = "1m"): Promise<ActionRun> {
    return runAction({
      inputs: { mode: "drill", "app-url": appUrl, audience: SANDBOX_AUDIENCE, "github-token": emulator.actionsToken(), "drill-resource": "drill", "drill-timeout": timeout },
      // A scheduled run of the default branch's drill workflow, as GitHub starts it.
      claims: claimsForRun(emulator.startWorkflowRun({ workflow: "breakglass-drill.yml", actor: "github-actions[bot]", event: "schedule" })),
      oidc: issuer,
      env: { GITHUB_API_URL: emulator.apiUrl, GITHUB_SERVER_URL: emulator.url, BREAKGLASS_DRILL_POLL_MS: "50" },
      post: false,
    });
  }

  if (options.runWorkflows !== false) {
    emulator.onWorkflowDispatch((run) => {
      const issue = Number(run.inputs?.issue);
      if (!/breakglass-grant\.ya?ml$/.test(String(run.workflow_id)) || !Number.isSafeInteger(issue)) return;
      // Whatever branch it was dispatched on: a branch's copy of the workflow runs with that branch's token.
      pickedUp.add(run.id);
      const result = runActionFor(run, issue);
      result.catch(() => undefined);
      runs.push({ issue, workflow: String(run.workflow_id), result });
    });
  }

  async function settle(): Promise<void> {
    for (let i = 0; i < 50; i++) {
      await emulator.waitForIdle();
      const pending = runs.map((r) => r.result);
      await Promise.allSettled(pending);
      await emulator.waitForIdle();
      if (runs.length === pending.length) return;
    }
  }

  return {
    emulator,
    issuer,
    secrets: { appPrivateKey: appKey, webhookSecret, signingKeyPem, sealKey: sealKey.toString("base64") },
    get app() {
      return app;
    },
    async stopApp() {
      await app.stop();
    },
    routeActionsTo(url) {
      appUrl = url;
    },
    async startReplica() {
      const replica = await startApp(0);
      replicas.push(replica);
      return replica;
    },
    async startApp() {
      app = await startApp(appPort);
      // What `npm start` does after listening: catch up on everything missed while down.
      await app.reconcileAll();
      await settle();
    },
    clock,
    notifier,
    appLogin,
    repository,
    as: (login) => new Octokit({ auth: emulator.userToken(login), baseUrl: emulator.apiUrl }),
    runs,
    runGrantWorkflow,
    runJob(runId) {
      const run = repoState.runs.get(runId);
      if (!run) throw new Error(`no workflow run ${runId}`);
      pickedUp.add(run.id);
      return runActionFor(run, Number(run.inputs.issue));
    },
    runDrillWorkflow,
    async advance(ms) {
      clock.advance(ms);
      await app.runDue();
      await settle();
    },
    settle,
    async close() {
      await settle().catch(() => undefined);
      await app.stop();
      for (const replica of replicas) await replica.stop();
      await issuer.close();
      await emulator.close();
    },
  };
}
