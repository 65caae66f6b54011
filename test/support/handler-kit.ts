/**
 * Handlers without Probot, webhooks or sockets: the app's real GitHub adapter (octokit-port.ts) over the
 * strict emulator's in-process fetch, and the app's dependencies as startSandbox builds them. A handler
 * is called directly with what a delivery would carry, so each refusal branch is a unit test of a few
 * milliseconds; the sandbox suites stay the end-to-end tests.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { Octokit } from "@octokit/rest";
import type { BreakglassDeps } from "../../src/app/infra/deps.ts";
import type { GitHubPort, IssueComment, IssueSummary } from "../../src/github/github-port.ts";
import { memoryNotifier } from "../../src/app/infra/notifier.ts";
import { octokitPort } from "../../src/github/octokit-port.ts";
import { generateSigningKeyPem, signingKeysFromPem } from "../../src/app/infra/signing-keys.ts";
import { FakeClock } from "../../src/sandbox/clock.ts";
import { SANDBOX_INSTALLATION_PERMISSIONS, sandboxDeps } from "../../src/sandbox/sandbox-deps.ts";
import { startGitHubEmulator, type GitHubEmulator } from "../../src/sandbox/github/emulator.ts";
import { requestFormBody, type RequestFormInput } from "../../src/sandbox/request-body.ts";
import {
  repositoryFilesFrom,
  SANDBOX_APP_ID,
  SANDBOX_APP_SLUG,
  SANDBOX_LEDGER_REPO,
  SANDBOX_OWNER as owner,
  SANDBOX_REPO as repo,
  SANDBOX_TEAMS,
  SANDBOX_USERS,
} from "../../src/sandbox/start-sandbox.ts";

export interface HandlerKit {
  emulator: GitHubEmulator;
  clock: FakeClock;
  deps: BreakglassDeps;
  notifier: ReturnType<typeof memoryNotifier>;
  /** The app's port on acme/ops: octokit-port.ts over the emulator, in-process. */
  port: GitHubPort;
  /** `who` opens an issue through REST (no webhook reaches anything); the issue as the port reads it. */
  open(who: string, form: RequestFormInput | string): Promise<IssueSummary>;
  /** `who` comments; the comment as the port reads it (what `issue_comment.created` would carry). */
  comment(who: string, issue: number, body: string): Promise<IssueComment>;
  /** The bodies of the app's own comments on the issue, oldest first. */
  appTexts(issue: number): Promise<string[]>;
  close(): Promise<void>;
}

export async function startHandlerKit(): Promise<HandlerKit> {
  const clock = new FakeClock(Date.parse("2026-11-24T09:00:00Z"));
  const now = () => clock.now();
  const { publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  const users = [
    ...SANDBOX_USERS.map((login) => ({ login })),
    { login: "github-actions[bot]", type: "Bot" as const },
  ];
  const emulator = await startGitHubEmulator({
    clock,
    appId: SANDBOX_APP_ID,
    appSlug: SANDBOX_APP_SLUG,
    appPublicKeyPem: publicKey,
    webhookSecret: randomBytes(16).toString("hex"),
    owner,
    repo,
    files: await repositoryFilesFrom(process.cwd()),
    users,
    teams: SANDBOX_TEAMS,
    extraRepos: [SANDBOX_LEDGER_REPO],
    installationPermissions: SANDBOX_INSTALLATION_PERMISSIONS,
  });
  emulator.initLedgerRepository(SANDBOX_LEDGER_REPO, {});
  const keys = await signingKeysFromPem(await generateSigningKeyPem());
  const notifier = memoryNotifier();
  const inProcess = (token: string) =>
    new Octokit({
      auth: token,
      baseUrl: emulator.apiUrl,
      request: { fetch: emulator.inProcessFetch, retries: 0 },
      log: { debug() {}, info() {}, warn() {}, error() {} },
    });
  // The app's deps as startSandbox() wires them; no OIDC issuer runs, handlers never verify tokens.
  const deps: BreakglassDeps = sandboxDeps({
    keys,
    now,
    sealKey: randomBytes(32),
    oidcIssuer: "http://oidc.invalid",
    notifier,
    ledgerRepo: SANDBOX_LEDGER_REPO,
  });
  const port = octokitPort(inProcess(emulator.installationToken()), owner, repo, SANDBOX_LEDGER_REPO);
  return {
    emulator,
    clock,
    deps,
    notifier,
    port,
    async open(who, form) {
      const body = typeof form === "string" ? form : requestFormBody(form);
      const title =
        typeof form === "string" ? "[breakglass] request" : `[breakglass] ${form.resource} ${form.role}`;
      const { data } = await inProcess(emulator.userToken(who)).rest.issues.create({
        owner,
        repo,
        title,
        labels: ["breakglass"],
        body,
      });
      return port.getIssue(data.number);
    },
    async comment(who, issue, body) {
      const { data } = await inProcess(emulator.userToken(who)).rest.issues.createComment({
        owner,
        repo,
        issue_number: issue,
        body,
      });
      const found = (await port.listComments(issue)).find((c) => c.id === data.id);
      if (!found) throw new Error(`comment ${data.id} not listed`);
      return found;
    },
    async appTexts(issue) {
      return (await port.listComments(issue))
        .filter((c) => c.user.login === deps.identity.login)
        .map((c) => c.body);
    },
    close: () => emulator.close(),
  };
}
