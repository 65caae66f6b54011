import { generateKeyPairSync, randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { Octokit } from "@octokit/rest";
import { memoryNotifier } from "../app/infra/notifier.ts";
import { attestationRootsLoader } from "../app/infra/attestation-roots.ts";
import { requestLimits } from "../app/http/passkeys/request-limits.ts";
import { startBreakglassServer, type RunningServer } from "../app/server.ts";
import type { GitHubSignIn } from "../app/http/dashboard/github-sign-in.ts";
import { DEFAULT_LEDGER_REPO } from "../github/git-ledger.ts";
import { generateSigningKeyPem, signingKeysFromPem } from "../app/infra/signing-keys.ts";
import type { CredentialProvider } from "../providers/provider.ts";
import type { ProviderName } from "../core/types.ts";
import { runAction, type ActionRun } from "./action-runner.ts";
import { approveSigned } from "./approve-signed.ts";
import { approverKeys } from "./approver-keys.ts";
import {
  SANDBOX_APP_ID,
  SANDBOX_APP_SLUG,
  SANDBOX_AUDIENCE,
  SANDBOX_INSTALLATION_PERMISSIONS,
  sandboxDeps,
} from "./sandbox-deps.ts";
import { FakeClock } from "./clock.ts";
import { startGitHubEmulator, type GitHubEmulator, type WorkflowRun } from "./github/emulator.ts";
import { defaultSubjectFormat, startOidcIssuer, type OidcIssuer } from "./oidc-issuer.ts";

export const SANDBOX_OWNER = "acme";
export const SANDBOX_REPO = "ops";
export { SANDBOX_APP_ID, SANDBOX_APP_SLUG, SANDBOX_AUDIENCE, SANDBOX_JWT_ISSUER } from "./sandbox-deps.ts";
/** The repository of the sandbox organisation that holds the app's ledger (no human collaborators). */
export const SANDBOX_LEDGER_REPO = DEFAULT_LEDGER_REPO;

/** The people of the sandbox organisation, matching .github/CODEOWNERS of this repository. */
export const SANDBOX_TEAMS: Record<string, string[]> = {
  "acme/dba": ["bob", "carol"],
  "acme/platform": ["erin"],
  "acme/ai-governance": ["grace", "heidi"],
  "acme/sre": ["bob", "ivan"],
  "acme/security": ["sam"],
  "acme/oncall": ["olga"],
};
export const SANDBOX_USERS = [
  "dave",
  "mallory",
  "bob",
  "carol",
  "erin",
  "grace",
  "heidi",
  "ivan",
  "sam",
  "olga",
  "rita",
  "tina",
  "uma",
];

export interface SandboxOptions {
  /** Whether the sweep opens the periodic access reviews (default on, as in a real deployment). */
  accessReviews?: boolean;
  /** The organisation owning the repository (default: acme), e.g. the one a repository's CODEOWNERS teams belong to. */
  owner?: string;
  /** A webhook relay channel (smee.io-like) the app forwards deliveries from, as WEBHOOK_PROXY_URL does. */
  webhookProxyUrl?: string;
  /** Directory whose policies/, CODEOWNERS and issue form become the repository's files (default: this project). */
  root?: string;
  /** Extra or replaced repository files, by path. */
  files?: Record<string, string>;
  teams?: Record<string, string[]>;
  /** Each team's own role on the repository; default: write for every team (as CODEOWNERS needs). */
  teamRepoPermissions?: Record<string, "admin" | "write" | "maintain" | "triage" | "read" | "none">;
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

  /** More repositories of the owner (e.g. its public `.github` with default issue forms). */
  extraRepos?: string[];
  extraRepoFiles?: Record<string, Record<string, string>>;
  publicRepos?: string[];
  /** How the emulator delivers webhooks (see EmulatorOptions.webhookDelivery). Default "serial". */
  webhookDelivery?: "serial" | "concurrent";
  /**
   * Permissions the installation has beyond the sandbox's defaults (actions, contents, deployments and
   * issues write; members and metadata read), as an owner grants them when installing the app — e.g.
   * `administration: "write"` for a github role that asks for it.
   */
  installationPermissions?: Record<string, "read" | "write">;
  /**
   * `true`: the app honours rate limits (`retry-after`) as the deployed app does, without its write
   * spacing. `"production"`: the app's Octokit throttling exactly as deployed (server.ts), and the
   * emulator enforcing GitHub's documented primary and secondary limits (github/rate-limits.ts).
   * Default off: fastest.
   */
  rateLimits?: boolean | "production";
  /** How the dashboard is protected: `loopback` (default) or `github` (Sign in with GitHub through the emulator's web flow). */
  dashboard?: "loopback" | "github";
  /** How long a new passkey waits before it counts without an SSH-signature activation (seconds; default 24 h). */
  passkeyActivationWaitSeconds?: number;
  /** A PEM file of attestation trust roots (as `BREAKGLASS_ATTESTATION_ROOTS`), read at each registration and approval. */
  attestationRootsFile?: string;
  /**
   * Request limits of the passkey pages (per login and client address, per minute, on the sandbox's
   * clock). Default: none to speak of — every suite's browser is 127.0.0.1 — with the minute's access cache.
   */
  passkeyRequestLimits?: { perLogin: number; perAddress: number };
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
  /**
   * The variables a runner gives a job of an existing workflow run (its OIDC request URL and token,
   * GITHUB_REPOSITORY, GITHUB_RUN_ID…), for running the Action some other way, e.g. under @github/local-action.
   */
  jobEnvironment(runId: number): Record<string, string>;
  /** Runs the drill workflow (the Action in drill mode) as the scheduled drill would. */
  runDrillWorkflow(timeout?: string, inputs?: Record<string, string>): Promise<ActionRun>;
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

  /** The private key file of a person's SSH signing key, made and added to their GitHub account on first use. */
  signingKeyOf(login: string): Promise<string>;
  /**
   * `login` approves with step-up through the real `breakglass approve` (real ssh-keygen signature,
   * posted with their token), with their own sandbox signing key or the key file given. Returns the comment id.
   */
  approveSigned(login: string, issue: number, options?: { note?: string; key?: string }): Promise<number>;
  /**
   * Rotates the app's keys for the next startApp, as an operator would: a new signing key with the
   * old one's public half in the retired list (verification only), and/or a new seal key with the old
   * one retired (opens only). `dropRetiredSeal` / `dropRetiredSigning` then remove the retired keys.
   */
  rotateKeys(what: {
    signing?: boolean;
    seal?: boolean;
    dropRetiredSeal?: boolean;
    dropRetiredSigning?: boolean;
  }): Promise<void>;
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
  const users = options.users ?? [
    ...SANDBOX_USERS.map((login) => ({ login })),
    { login: "github-actions[bot]", type: "Bot" as const },
  ];
  const emulator = await startGitHubEmulator({
    clock,
    appId: SANDBOX_APP_ID,
    appSlug: SANDBOX_APP_SLUG,
    appPublicKeyPem: appPublic,
    webhookSecret,
    owner: options.owner ?? SANDBOX_OWNER,
    repo: SANDBOX_REPO,
    files,
    users,
    teams,
    ...(options.webhookDelivery ? { webhookDelivery: options.webhookDelivery } : {}),
    ...(options.extraRepoFiles ? { extraRepoFiles: options.extraRepoFiles } : {}),
    ...(options.publicRepos ? { publicRepos: options.publicRepos } : {}),
    ...(options.teamRepoPermissions ? { teamRepoPermissions: options.teamRepoPermissions } : {}),
    ...(options.permissions ? { permissions: options.permissions } : {}),
    // The ledger lives in its own repository that no person can push to (see docs/architecture.md).
    extraRepos: [SANDBOX_LEDGER_REPO, ...(options.extraRepos ?? [])],
    installationPermissions: {
      ...SANDBOX_INSTALLATION_PERMISSIONS,
      ...(options.installationPermissions ?? {}),
    },
    rateLimits: options.rateLimits === "production",
  });
  for (const [login, lines] of Object.entries(options.signingKeys ?? {}))
    for (const line of lines) emulator.addSigningKey(login, line);
  const approverSigningKeys = approverKeys((login, line) =>
    emulator.addSigningKey(login, line, "sandbox signing key"),
  );
  // Everyone may read the ledger (auditors verify against it); only the app can write it.
  const readers = [...users.map((u) => u.login), ...Object.values(teams).flat()];
  emulator.initLedgerRepository(
    SANDBOX_LEDGER_REPO,
    Object.fromEntries(readers.map((login) => [login, "read" as const])),
  );

  // GitHub's default for a repository created now: immutable subjects since 2026-07-15.
  const repoCreatedAt = emulator.state.repository.created_at;
  const issuer = await startOidcIssuer({
    clock,
    subjects: {
      [`${SANDBOX_OWNER}/${SANDBOX_REPO}`]: { format: defaultSubjectFormat({ createdAt: repoCreatedAt }) },
    },
  });
  let signingKeyPem = await generateSigningKeyPem();
  let keys = await signingKeysFromPem(signingKeyPem);
  /** Keys rotated out (rotateKeys): retired signing keys still verify, retired seal keys still open. */
  let retiredSealKeys: Buffer[] = [];
  const notifier = memoryNotifier();
  const appLogin = `${SANDBOX_APP_SLUG}[bot]`;
  let sealKey = randomBytes(32);
  // Sign in with GitHub: the emulator's web flow, with the app's callback registered once its address is known.
  const signIn: GitHubSignIn = {
    ...emulator.oauthClient,
    webUrl: emulator.url,
    apiUrl: emulator.apiUrl,
    sessionKey: randomBytes(32),
    now,
    get publicUrl(): string {
      return appUrl;
    },
  };
  // Everything a real restart loses (timers, the JWT revocation list, caches) is made anew each start.
  const startApp = async (port = 0) => {
    return startBreakglassServer({
      appId: SANDBOX_APP_ID,
      privateKey: appKey,
      webhookSecret,
      baseUrl: emulator.apiUrl,
      port,
      realTimers: false,

      throttle: options.rateLimits === "production" ? true : options.rateLimits ? "rate-limits-only" : false,
      dashboard: options.dashboard === "github" ? { mode: "github", signIn } : { mode: "loopback" },
      // Passkeys need a domain as relying party id, not an IP address: browsers reach the app as localhost.
      ...(options.dashboard === "github"
        ? {
            webauthn: {
              rpName: "Breakglass (sandbox)",
              rpID: "localhost",
              ...(options.passkeyActivationWaitSeconds !== undefined
                ? { activationWaitSeconds: options.passkeyActivationWaitSeconds }
                : {}),
              ...(options.attestationRootsFile
                ? { attestationRoots: attestationRootsLoader({ roots: options.attestationRootsFile }) }
                : {}),
              limits: requestLimits(
                () => clock.now(),
                options.passkeyRequestLimits ?? { perLogin: 1_000_000, perAddress: 1_000_000 },
              ),
              get origin() {
                return appUrl.replace("127.0.0.1", "localhost");
              },
            },
          }
        : {}),
      ...(options.webhookProxyUrl ? { webhookProxyUrl: options.webhookProxyUrl } : {}),
      logLevel: options.logLevel ?? "silent",
      deps: {
        ...sandboxDeps({
          keys,
          now,
          sealKey,
          retiredSealKeys,
          oidcIssuer: issuer.url,
          notifier,
          providers: options.providers,
        }),
        accessReviews: options.accessReviews ?? true,
      },
    });
  };
  let app = await startApp();
  const replicas: RunningServer[] = [];
  // The app keeps its address across restarts, as a deployment behind a fixed URL does.
  let appUrl: string = app.url;
  emulator.setOAuthCallbackUrls([`${app.url}/breakglass/auth/callback`]);
  const appPort = app.port;
  emulator.setWebhookUrl(`${app.url}/api/github/webhooks`);
  const repository = `${options.owner ?? SANDBOX_OWNER}/${SANDBOX_REPO}`;
  const repoState = emulator.state.repository;
  const runs: Sandbox["runs"] = [];

  /** What GitHub's token for a job of `run` says: the run's ref (the branch it used), commit, actor and environment. */
  const claimsForRun = (run: WorkflowRun) => {
    const environment = emulator.runEnvironment(run);
    return {
      repository,
      repository_id: String(repoState.id),
      repository_owner: options.owner ?? SANDBOX_OWNER,
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
  function runActionFor(
    run: WorkflowRun,
    issue: number,
    overrides: Record<string, unknown> = {},
  ): Promise<ActionRun> {
    const result = runAction({
      inputs: {
        mode: "grant",
        "app-url": appUrl,
        issue: String(issue),
        audience: SANDBOX_AUDIENCE,
        "export-env": "true",
      },
      claims: { ...claimsForRun(run), ...overrides },
      oidc: issuer,
      between: async (env: Record<string, string>) => {
        // The grant workflow's next step: actions/upload-artifact of the encrypted file (retention-days: 1).
        if (env.BREAKGLASS_ENCRYPTED_FILE) {
          const file = env.BREAKGLASS_ENCRYPTED_FILE;
          emulator.uploadArtifact(
            run.id,
            "breakglass-credentials",
            { [file.split("/").pop()!]: await readFile(file) },
            1,
          );
        }
        if (options.holdJob) await options.holdJob(env, issue);
      },
    });
    // The job ended: the run completes, and its concurrency group's pending run (a re-dispatch) starts.
    result.then(
      (done) => emulator.completeRun(run.id, done.exitCode === 0 ? "success" : "failure"),
      () => emulator.completeRun(run.id, "failure"),
    );
    return result;
  }

  /** Runs a runner has picked up (so each queued run's job runs once). */
  const pickedUp = new Set<number>();
  async function runGrantWorkflow(issue: number, claims: Record<string, unknown> = {}): Promise<ActionRun> {
    // A runner picks up the newest queued grant run for the issue on the default branch (the app's
    // dispatch); with none queued, a run is started as the app's dispatch would start it, which the
    // app has not recorded: the exchange then checks the run with GitHub.
    const queued = [...repoState.runs.values()]
      .filter(
        (r) =>
          r.path.endsWith("/breakglass-grant.yml") &&
          r.inputs.issue === String(issue) &&
          r.head_branch === repoState.default_branch &&
          !pickedUp.has(r.id),
      )
      .sort((a, b) => b.id - a.id)[0];
    const environment = typeof claims.environment === "string" ? claims.environment : undefined;
    const run =
      queued ??
      emulator.startWorkflowRun({
        workflow: "breakglass-grant.yml",
        actor: appLogin,
        inputs: { issue: String(issue), ...(environment ? { environment } : {}) },
      });
    pickedUp.add(run.id);
    return runActionFor(run, issue, claims);
  }

  async function runDrillWorkflow(timeout = "1m", inputs: Record<string, string> = {}): Promise<ActionRun> {
    return runAction({
      inputs: {
        mode: "drill",
        "app-url": appUrl,
        audience: SANDBOX_AUDIENCE,
        "github-token": emulator.actionsToken(),
        "drill-resource": "drill",
        "drill-timeout": timeout,
        ...inputs,
      },
      // A scheduled run of the default branch's drill workflow, as GitHub starts it.
      claims: claimsForRun(
        emulator.startWorkflowRun({
          workflow: "breakglass-drill.yml",
          actor: "github-actions[bot]",
          event: "schedule",
        }),
      ),
      oidc: issuer,
      env: {
        GITHUB_API_URL: emulator.apiUrl,
        GITHUB_SERVER_URL: emulator.url,
        BREAKGLASS_DRILL_POLL_MS: "50",
      },
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

  /** Webhooks are answered before their work runs: settled means the app's and replicas' work is done too. */
  const appsBusy = () => [app, ...replicas].some((server) => server.intake.pending() > 0);
  async function settle(): Promise<void> {
    for (let i = 0; i < 500; i++) {
      await emulator.waitForIdle();
      if (appsBusy()) {
        for (const server of [app, ...replicas]) await server.intake.idle();
        continue;
      }
      const pending = runs.map((r) => r.result);
      await Promise.allSettled(pending);
      if (runs.length !== pending.length) continue;
      await emulator.waitForIdle();
      if (!appsBusy()) return;
    }
  }

  const sandbox: Sandbox = {
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
    async rotateKeys(what) {
      if (what.signing) {
        signingKeyPem = await generateSigningKeyPem();
        keys = await signingKeysFromPem(signingKeyPem, keys.jwks.keys);
      }
      if (what.seal) {
        retiredSealKeys = [sealKey, ...retiredSealKeys];
        sealKey = randomBytes(32);
      }
      if (what.dropRetiredSigning) keys = await signingKeysFromPem(signingKeyPem);
      if (what.dropRetiredSeal) retiredSealKeys = [];
    },
    async startApp() {
      app = await startApp(appPort);
      // What `npm start` does after listening: the work a previous process acknowledged but did not
      // do, then everything the clock made due while it was down.
      await app.catchUpAll();
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
    jobEnvironment(runId) {
      const run = repoState.runs.get(runId);
      if (!run) throw new Error(`no workflow run ${runId}`);
      pickedUp.add(run.id);
      const claims = claimsForRun(run);
      const { requestUrl, requestToken } = issuer.registerRun(claims);
      return {
        GITHUB_ACTIONS: "true",
        CI: "true",
        GITHUB_REPOSITORY: repository,
        GITHUB_RUN_ID: String(run.id),
        GITHUB_RUN_ATTEMPT: String(run.run_attempt),
        ACTIONS_ID_TOKEN_REQUEST_URL: requestUrl,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken,
      };
    },
    runDrillWorkflow,
    signingKeyOf: (login) => approverSigningKeys.keyOf(login),
    async approveSigned(login, issue, { note, key } = {}) {
      return approveSigned(sandbox, login, issue, key ?? (await approverSigningKeys.keyOf(login)), note);
    },
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
      await approverSigningKeys.close();
    },
  };
  return sandbox;
}
