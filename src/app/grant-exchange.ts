import { randomBytes } from "node:crypto";
import { checkLimits } from "../core/approval-rules.ts";
import { formatDuration } from "../core/duration.ts";
import { LIVE } from "../core/lifecycle.ts";
import { escapeInline } from "../core/markdown.ts";
import { seal } from "../providers/sealed-box.ts";
import type { MintResult } from "../providers/provider.ts";
import type { BreakglassDeps } from "./deps.ts";
import type { GitHubPort, IssueSummary } from "./github-port.ts";
import type { OidcRefusal} from "./oidc-verifier.ts";
import { type ActionsClaims } from "./oidc-verifier.ts";
import { encryptForRequester, recipientOf, type EncryptedDelivery } from "./encrypt-for-requester.ts";
import { isRequestIssue } from "./handle-request-issue.ts";
import { RequestSession } from "./request-session.ts";
import { otherRequestsOf } from "./requester-requests.ts";
import { revokeGrant } from "./revoke-grant.ts";

export type ExchangeRefusalCode =
  | OidcRefusal["code"]
  | "wrong_repository"
  | "wrong_workflow"
  | "wrong_event"
  | "wrong_environment"
  | "not_a_request"
  | "not_approved"
  | "already_granted"
  | "request_expired"
  | "limit_active_grants"
  | "no_provider"
  | "no_recipient"
  | "mint_failed";

export class ExchangeRefusal extends Error {
  constructor(
    readonly code: ExchangeRefusalCode,
    message: string,
    readonly status = 403,
  ) {
    super(message);
  }
}

export interface ExchangeResult {
  grant_id: string;
  provider: string;
  credential_id: string;
  expires_at: string;
  secrets: Record<string, string>;
  outputs: Record<string, string>;
  issue_url: string;
  keep_alive_after_job: boolean;
  /** Set when the role's delivery is `age`: the secrets are only in here, encrypted; `secrets` is empty. */
  encrypted?: EncryptedDelivery;
}

/** Checks that a verified token comes from this repository's grant workflow, run the way the app runs it. */
export async function checkWorkflowIdentity(
  port: GitHubPort,
  claims: ActionsClaims,
  workflowFile: string,
  events: readonly string[],
): Promise<void> {
  const repo = await port.repository();
  // Names can be deleted and re-registered by someone else: the numeric ids are what identify the repository.
  if (claims.repository.toLowerCase() !== repo.full_name.toLowerCase() || claims.repository_id !== String(repo.id) || claims.repository_owner_id !== String(repo.owner_id)) {
    throw new ExchangeRefusal("wrong_repository", `The token was issued to ${claims.repository} (id ${claims.repository_id}), not to ${repo.full_name} (id ${repo.id}).`);
  }
  const expected = `${repo.full_name}/.github/workflows/${workflowFile}@`;
  if (!claims.job_workflow_ref.toLowerCase().startsWith(expected.toLowerCase())) {
    throw new ExchangeRefusal("wrong_workflow", `Only ${expected}… may do this; the token came from ${claims.job_workflow_ref}.`);
  }
  if (!events.includes(claims.event_name)) {
    throw new ExchangeRefusal("wrong_event", `The workflow must run on ${events.join(" or ")}, not on ${claims.event_name}.`);
  }
}

/**
 * The OIDC exchange: a verified grant-workflow token plus an issue number become short-lived
 * credentials, once. The grant is recorded (provider, credential id, sealed revocation handle —
 * never the secret) before the credentials leave the app; if recording fails they are revoked.
 */
export async function exchangeToken(
  deps: BreakglassDeps,
  port: GitHubPort,
  claims: ActionsClaims,
  token: string,
  issueNumber: number,
): Promise<ExchangeResult> {
  const fromDrill = claims.job_workflow_ref.includes(`/.github/workflows/${deps.drillWorkflow}@`);
  await checkWorkflowIdentity(port, claims, fromDrill ? deps.drillWorkflow : deps.grantWorkflow, fromDrill ? ["schedule", "workflow_dispatch"] : ["workflow_dispatch"]);
  const issue = await port.getIssue(issueNumber).catch(() => null);
  if (!issue || !isRequestIssue(issue)) throw new ExchangeRefusal("not_a_request", `#${issueNumber} is not a break-glass request in ${port.owner}/${port.repo}.`, 404);
  const session = await RequestSession.open(deps, port, issueNumber, issue);
  const { state } = session;
  if (fromDrill && !state.request?.drill) {
    throw new ExchangeRefusal("wrong_workflow", "The drill workflow may only receive grants for drill requests.");
  }
  if (state.grant) {
    const again = state.grant.run_id === `${claims.run_id}/${claims.run_attempt}`;
    throw new ExchangeRefusal("already_granted", again ? "This run already received its credentials; a grant is delivered once." : `#${issueNumber} was already granted to run ${state.grant.run_id}.`, 409);
  }
  if (state.status !== "approved" || !state.request || issue.state !== "open") {
    throw new ExchangeRefusal(state.status === "expired" || state.status === "timed_out" ? "request_expired" : "not_approved", `#${issueNumber} is ${state.status}, not approved.`, 409);
  }
  const policy = session.policy()!;
  if (policy.environment && claims.environment !== policy.environment) {
    throw new ExchangeRefusal("wrong_environment", `The ${policy.resource} policy requires the job to run in the "${policy.environment}" environment${claims.environment ? `, not "${claims.environment}"` : ""}.`);
  }
  const activeGrants = await countLiveGrants(deps, session, state.requester!, policy.resource);
  const limit = checkLimits(policy, { activeGrants, requestsToday: 0 }, "grant");
  if (!limit.ok) throw new ExchangeRefusal("limit_active_grants", limit.error.message, 409);
  const role = policy.roles[state.request.role]!;
  const provider = deps.providers[role.provider];
  if (!provider) throw new ExchangeRefusal("no_provider", `The ${role.provider} provider is not configured on this Breakglass app.`, 501);

  let recipient: string | null = null;
  if (role.delivery === "age") {
    const found = await recipientOf(port, state.requester!);
    if (!found.ok) {
      await port.createComment(issueNumber, `🔑 ${escapeInline(found.message, 600)}\n\nNothing was minted.`);
      throw new ExchangeRefusal("no_recipient", found.message, 409);
    }
    recipient = found.recipient;
  }

  const now = deps.now();
  const expiresAt = now + state.request.duration_seconds * 1000;
  const grantId = `${port.owner}/${port.repo}#${issueNumber}/${randomBytes(4).toString("hex")}`;
  let minted: MintResult;
  try {
    minted = await provider.mint({
      grantId,
      repository: `${port.owner}/${port.repo}`,
      issue: issueNumber,
      requester: state.requester!,
      resource: policy.resource,
      role: state.request.role,
      settings: role.settings,
      expiresAt,
      oidcToken: token,
      runId: claims.run_id,
      now,
    });
  } catch (error) {
    await port.createComment(issueNumber, `🚨 Minting ${role.provider} credentials failed: ${escapeInline(scrub((error as Error).message), 400)}. Nothing was granted; the workflow can be re-run.`);
    throw new ExchangeRefusal("mint_failed", `The ${role.provider} provider could not mint credentials.`, 502);
  }
  const credentialExpiry = Math.min(minted.expiresAt, expiresAt);
  const recorded = await session
    .recordAndConfirm(
      `granted:${grantId}`,
      {
        type: "granted",
        actor: claims.actor,
        grant_id: grantId,
        run_id: `${claims.run_id}/${claims.run_attempt}`,
        provider: role.provider,
        credential_id: minted.credentialId,
        expires_at: new Date(credentialExpiry).toISOString(),
        ...(minted.revocationHandle ? { sealed_handle: seal(minted.revocationHandle, deps.sealKey) } : {}),
      },
      `🔓 **Granted** \`${escapeInline(state.request.role, 40)}\` on \`${escapeInline(policy.resource, 60)}\` to workflow run ${escapeInline(claims.run_id, 30)} for ${formatDuration((credentialExpiry - now) / 1000)}, until ${new Date(credentialExpiry).toISOString()}. Credential \`${escapeInline(minted.credentialId, 80)}\` (${role.provider}); the secret went to the run only, masked.`,
    )
    .catch((error: Error) => ({ ok: false as const, refusal: { code: "invalid_transition" as const, message: error.message } }));
  const roleName = state.request.role;
  const undo = () =>
    provider.revoke({ grantId, credentialId: minted.credentialId, resource: policy.resource, role: roleName, settings: role.settings, ...(minted.revocationHandle ? { revocationHandle: minted.revocationHandle } : {}) });
  if (!recorded.ok) {
    await undo().catch(() => undefined);
    throw new ExchangeRefusal("already_granted", `The grant could not be recorded (${recorded.refusal.message}); the credential was revoked at once.`, 409);
  }
  if (!recorded.won) {
    // Another replica granted this request at the same moment and its record counts: exactly one
    // credential may live, so this one is revoked before it leaves the app.
    await undo();
    await port.createComment(issueNumber, `↩️ The grant to run ${escapeInline(claims.run_id, 30)} (credential \`${escapeInline(minted.credentialId, 80)}\`) lost a race with ${session.state.grant ? `run ${escapeInline(session.state.grant.run_id, 40)}` : "another run"} and was revoked before it was handed out. The request is granted once.`);
    throw new ExchangeRefusal("already_granted", `#${issueNumber} was granted to another run at the same moment; this run's credential was revoked unused.`, 409);
  }
  await session.publish();
  deps.scheduler?.schedule(port, issueNumber, credentialExpiry);
  await deps.notifier.notify(policy.notify, {
    event: "granted",
    repository: `${port.owner}/${port.repo}`,
    issue: issueNumber,
    url: session.url,
    summary: `${state.request.role} on ${policy.resource} granted to ${state.requester} until ${new Date(credentialExpiry).toISOString()}`,
  });
  const result: ExchangeResult = {
    grant_id: grantId,
    provider: role.provider,
    credential_id: minted.credentialId,
    expires_at: new Date(credentialExpiry).toISOString(),
    secrets: minted.secrets,
    outputs: minted.outputs,
    issue_url: session.url,
    keep_alive_after_job: policy.keep_alive_after_job,
  };
  if (recipient === null) return result;
  // The run sees only ciphertext: a log, a compromised step or a cache can leak nothing usable.
  const encrypted = await encryptForRequester(recipient, { ...result, issue: issueNumber, repository: `${port.owner}/${port.repo}` });
  return { ...result, secrets: {}, encrypted };
}

/** The Action's post step: the job ended, so its grant ends too (unless the policy keeps it alive). */
export async function releaseGrant(deps: BreakglassDeps, port: GitHubPort, claims: ActionsClaims, issueNumber: number): Promise<"revoked" | "failed" | "nothing" | "kept"> {
  const fromDrill = claims.job_workflow_ref.includes(`/.github/workflows/${deps.drillWorkflow}@`);
  await checkWorkflowIdentity(port, claims, fromDrill ? deps.drillWorkflow : deps.grantWorkflow, fromDrill ? ["schedule", "workflow_dispatch"] : ["workflow_dispatch"]);
  const session = await RequestSession.open(deps, port, issueNumber);
  if (!session.state.grant || session.state.grant.run_id !== `${claims.run_id}/${claims.run_attempt}`) return "nothing";
  if (session.policy()?.keep_alive_after_job && !fromDrill) return "kept";
  return revokeGrant(session, "job_ended", claims.actor);
}

async function countLiveGrants(deps: BreakglassDeps, current: RequestSession, requester: string, resource: string): Promise<number> {
  let live = 0;
  // Labels only pre-select which records to read; the records decide.
  const worthOpening = (issue: IssueSummary) => issue.labels.some((l) => l === "breakglass:active" || l === "breakglass:revoke-failed");
  for await (const { session } of otherRequestsOf(deps, current.port, requester, { except: current.number, state: "open", config: current.config, worthOpening })) {
    if (LIVE.has(session.state.status) && session.state.request?.resource === resource) live++;
  }
  return live;
}

/** Provider errors may quote connection strings; keep anything that looks like a credential out of comments. */
function scrub(message: string): string {
  return message.replace(/\/\/[^@\s]+@/g, "//***@").replace(/(password|secret|token)=\S+/gi, "$1=***");
}
