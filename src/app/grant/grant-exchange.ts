import { randomBytes } from "node:crypto";
import { checkLimits } from "../../core/approval-rules.ts";
import { formatDuration } from "../../core/duration.ts";
import { LIVE } from "../../core/lifecycle.ts";
import { escapeInline } from "../../core/markdown.ts";
import {
  checkWorkloadTrust,
  DISPATCH_EVENTS,
  SCHEDULED_EVENTS,
  workflowFileOf,
  type WorkloadRefusalCode,
  type WorkloadTrustPolicy,
} from "../../core/workload-trust.ts";
import { seal } from "../../providers/sealed-box.ts";
import type { MintResult } from "../../providers/provider.ts";
import type { BreakglassDeps } from "../infra/deps.ts";
import type { GitHubPort, RepositoryIdentity } from "../../github/github-port.ts";
import type { OidcRefusal } from "./oidc-verifier.ts";
import { type ActionsClaims } from "./oidc-verifier.ts";
import { encryptForRequester, recipientOf } from "./encrypt-for-requester.ts";
import type { ExchangeResult, ReleaseOutcome } from "../../core/app-wire.ts";
import { isRequestIssue } from "../infra/request-recognition.ts";
import { checkBeforeGrant } from "./recheck-approvals.ts";
import { reserveRun } from "./run-reservation.ts";
import { RequestSession } from "../infra/request-session.ts";
import { partForRun } from "./part-for-run.ts";
import { otherRequestsOf } from "../infra/requester-requests.ts";
import { revokeGrant } from "./revoke-grant.ts";
import { acceptRun } from "./trusted-run.ts";
import { revokeUnrecorded } from "./orphan-credentials.ts";
import {
  exchangeRefused,
  grantLostRace,
  mintFailed,
  noRecipient,
} from "../../core/messages/grant-messages.ts";

export type ExchangeRefusalCode =
  /* A request naming several resources: this run is recorded for none, and more than one waits. */
  | "ambiguous_part"
  | "unknown_part"
  | OidcRefusal["code"]
  | WorkloadRefusalCode
  | "unknown_run"
  | "policy_missing"
  | "not_a_request"
  | "not_approved"
  | "retroactive_record"
  | "already_granted"
  | "request_expired"
  | "approval_stale"
  | "requester_not_allowed"
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

/** Where a verified token must come from for one route: the workflow file, its events and (where checked) its environment. */
export interface WorkloadExpectation {
  workflow: string;
  events: readonly string[];
  environment?: string | null;
}

/**
 * Checks that a verified token comes from this repository's default-branch copy of `workflow`, run
 * the way the app runs it (see core/workload-trust.ts for every claim compared).
 */
export async function checkWorkflowIdentity(
  port: GitHubPort,
  claims: ActionsClaims,
  expected: WorkloadExpectation,
): Promise<RepositoryIdentity> {
  const repository = await port.repository();
  assertTrusted(claims, { repository, ...expected });
  return repository;
}

/** The workload-trust check as a refusal the routes answer with. */
function assertTrusted(claims: ActionsClaims, policy: WorkloadTrustPolicy): void {
  const trusted = checkWorkloadTrust(claims, policy);
  if (!trusted.ok) throw new ExchangeRefusal(trusted.error.code, trusted.error.message);
}

/** Refusals recorded on one request beyond this are only logged, so a flood of runs cannot fill the issue. */
export const MAX_RECORDED_REFUSALS = 20;

/** The grant or drill workflow, decided by the exact workflow file the token names (never a substring). */
function expectedWorkflow(
  deps: BreakglassDeps,
  claims: ActionsClaims,
  repository: string,
): WorkloadExpectation & { drill: boolean } {
  const drill = workflowFileOf(claims, repository) === deps.drillWorkflow;
  return drill
    ? { workflow: deps.drillWorkflow, events: SCHEDULED_EVENTS, drill }
    : { workflow: deps.grantWorkflow, events: DISPATCH_EVENTS, drill };
}

/**
 * The OIDC exchange: a verified grant-workflow token plus an issue number become short-lived
 * credentials, once. The grant is recorded (provider, credential id, sealed revocation handle —
 * never the secret) before the credentials leave the app; if recording fails they are revoked.
 * Every refusal for a real request is recorded on it with its reason.
 */
export async function exchangeToken(
  deps: BreakglassDeps,
  port: GitHubPort,
  claims: ActionsClaims,
  token: string,
  issueNumber: number,
): Promise<ExchangeResult> {
  const repository = await port.repository();
  const expected = expectedWorkflow(deps, claims, repository.full_name);
  const identity = checkWorkloadTrust(claims, {
    repository,
    workflow: expected.workflow,
    events: expected.events,
  });
  // A token from another repository says nothing about this one's requests: nothing to record.
  if (!identity.ok && identity.error.code === "wrong_repository")
    throw new ExchangeRefusal(identity.error.code, identity.error.message);
  const issue = await port.getIssue(issueNumber).catch(() => null);
  if (!issue || !(await isRequestIssue(deps, port, issue)))
    throw new ExchangeRefusal(
      "not_a_request",
      `#${issueNumber} is not a break-glass request in ${port.owner}/${port.repo}.`,
      404,
    );
  const opened = await RequestSession.open(deps, port, issueNumber, issue);
  // A request naming several resources: the run collects the one part it was dispatched for.
  const target = await partForRun(opened, String(claims.run_id), async () => {
    const run = await port.getWorkflowRun(Number(claims.run_id));
    return run?.display_title ?? null;
  });
  const session = target.ok ? target.part : opened.parts()[0]!;
  try {
    if (!identity.ok) throw new ExchangeRefusal(identity.error.code, identity.error.message);
    if (!target.ok) throw new ExchangeRefusal(target.code, target.message, 409);
    return await exchangeForRequest(deps, session, repository, expected, claims, token);
  } catch (error) {
    if (error instanceof ExchangeRefusal) await recordRefusal(session, claims, error);
    throw error;
  }
}

async function recordRefusal(
  session: RequestSession,
  claims: ActionsClaims,
  refusal: ExchangeRefusal,
): Promise<void> {
  // A run that asks again for what it already has, or loses a race it was told about, is no attack.
  if (refusal.code === "already_granted" || session.state.refused_exchanges >= MAX_RECORDED_REFUSALS) return;
  const run = `${claims.run_id}/${claims.run_attempt}`;
  const last = session.state.refused_exchanges + 1 === MAX_RECORDED_REFUSALS;
  await session
    .record(
      `exchange_refused:${run}:${refusal.code}`,
      {
        type: "exchange_refused",
        actor: claims.actor,
        run_id: run,
        code: refusal.code,
        message: refusal.message.slice(0, 500),
      },
      exchangeRefused({
        code: refusal.code,
        message: refusal.message,
        run,
        workflowRef: claims.job_workflow_ref,
        actor: claims.actor,
        lastRecorded: last ? MAX_RECORDED_REFUSALS : null,
      }),
    )
    // The refusal itself stands either way; failing to record it must not turn a 4xx into a 5xx.
    .catch(() => undefined);
}

async function exchangeForRequest(
  deps: BreakglassDeps,
  session: RequestSession,
  repository: RepositoryIdentity,
  expected: WorkloadExpectation & { drill: boolean },
  claims: ActionsClaims,
  token: string,
): Promise<ExchangeResult> {
  const { port, state } = session;
  const fromDrill = expected.drill;
  const issueNumber = session.number;
  if (fromDrill !== Boolean(state.request?.drill) && state.request) {
    throw new ExchangeRefusal(
      "wrong_workflow",
      fromDrill
        ? "The drill workflow may only receive grants for drill requests."
        : `#${issueNumber} is a drill request: only the drill workflow (${deps.drillWorkflow}) collects it.`,
    );
  }
  if (state.grant) {
    const again = state.grant.run_id === `${claims.run_id}/${claims.run_attempt}`;
    throw new ExchangeRefusal(
      "already_granted",
      again
        ? "This run already received its credentials; a grant is delivered once."
        : `#${issueNumber} was already granted to run ${state.grant.run_id}.`,
      409,
    );
  }
  // Whatever its status: a retroactive record is access already taken, and nothing is ever minted for it.
  if (state.request?.retroactive)
    throw new ExchangeRefusal(
      "retroactive_record",
      `#${issueNumber} is a retroactive record of access taken outside Breakglass: no credentials are issued for it.`,
      409,
    );
  if (state.status !== "approved" || !state.request || session.issue.state !== "open") {
    throw new ExchangeRefusal(
      state.status === "expired" || state.status === "timed_out" ? "request_expired" : "not_approved",
      `${session.part === null ? "" : `\`${escapeInline(session.part, 60)}\` of `}#${issueNumber} is ${state.status}, not approved.`,
      409,
    );
  }
  const policy = session.policy();
  if (!policy || !policy.roles[state.request.role]) {
    throw new ExchangeRefusal(
      "policy_missing",
      `The policy for \`${state.request.resource}\`${policy ? ` has no role \`${state.request.role}\` any more` : " no longer exists (or does not load)"}, so nothing can be granted under it. Restore the policy on the default branch, or open a new request.`,
      409,
    );
  }
  assertTrusted(claims, {
    repository,
    workflow: expected.workflow,
    events: expected.events,
    environment: policy.environment ?? null,
  });
  if (!fromDrill) {
    const refusal = await acceptRun(session, repository, Number(claims.run_id), Number(claims.run_attempt));
    if (refusal)
      throw new ExchangeRefusal(refusal.code, refusal.message, refusal.code === "unknown_run" ? 403 : 409);
  }
  // Approvals must still hold now, not only when given (owners, permissions, policy terms, collect deadline).
  const stillHolds = await checkBeforeGrant(session);
  if (!stillHolds.ok) throw new ExchangeRefusal(stillHolds.code, stillHolds.message, 409);
  const activeGrants = await countLiveGrants(deps, session, state.requester!, policy.resource);
  const limit = checkLimits(policy, { activeGrants, requestsToday: 0 }, "grant");
  if (!limit.ok) throw new ExchangeRefusal("limit_active_grants", limit.error.message, 409);
  const role = policy.roles[state.request.role]!;
  const provider = deps.providers[role.provider];
  if (!provider)
    throw new ExchangeRefusal(
      "no_provider",
      `The ${role.provider} provider is not configured on this Breakglass app; ask its operator to configure it.`,
      409,
    );

  let recipient: string | null = null;
  if (role.delivery === "age") {
    const found = await recipientOf(port, state.requester!);
    if (!found.ok) {
      await port.createComment(issueNumber, noRecipient(found.message));
      throw new ExchangeRefusal("no_recipient", found.message, 409);
    }
    recipient = found.recipient;
  }

  await reserveRun(port, claims, issueNumber);
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
    await port.createComment(issueNumber, mintFailed(role.provider, scrub((error as Error).message)));
    throw new ExchangeRefusal(
      "mint_failed",
      `The ${role.provider} provider could not mint credentials.`,
      502,
    );
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
        settings: role.settings,
      },
      `🔓 **Granted** \`${escapeInline(state.request.role, 40)}\` on \`${escapeInline(policy.resource, 60)}\` to workflow run ${escapeInline(claims.run_id, 30)} for ${formatDuration((credentialExpiry - now) / 1000)}, until ${new Date(credentialExpiry).toISOString()}. Credential \`${escapeInline(minted.credentialId, 80)}\` (${role.provider}); the secret went to the run only, masked.`,
    )
    .catch((error: Error) => ({
      ok: false as const,
      refusal: { code: "invalid_transition" as const, message: error.message },
    }));
  const roleName = state.request.role;
  // A credential that is not in the chain never leaves the app, and is revoked now or, if the provider
  // refuses, kept in the ledger as owed until the sweep has revoked it.
  const undo = async (): Promise<string> => {
    const sealed = minted.revocationHandle ? seal(minted.revocationHandle, deps.sealKey) : undefined;
    const undone = await revokeUnrecorded(
      deps,
      port,
      provider,
      {
        grantId,
        credentialId: minted.credentialId,
        resource: policy.resource,
        role: roleName,
        settings: role.settings,
        ...(minted.revocationHandle ? { revocationHandle: minted.revocationHandle } : {}),
      },
      {
        issue: issueNumber,
        provider: role.provider,
        ...(sealed ? { sealed_handle: sealed } : {}),
        expires_at: new Date(credentialExpiry).toISOString(),
      },
    );
    if (undone.revoked) return "revoked at once";
    return undone.kept
      ? `not revoked yet (${undone.error}); it is kept in the ledger and the sweep revokes it`
      : `not revoked (${undone.error}) and the ledger could not keep it: it lapses at ${new Date(credentialExpiry).toISOString()}`;
  };
  if (!recorded.ok) {
    const undone = await undo();
    throw new ExchangeRefusal(
      "already_granted",
      `The grant could not be recorded (${recorded.refusal.message}); the credential was ${undone}.`,
      409,
    );
  }
  if (!recorded.won) {
    // Another replica granted this request at the same moment and its record counts: exactly one
    // credential may live, so this one is revoked before it leaves the app.
    const undone = await undo();
    await port
      .createComment(
        issueNumber,
        grantLostRace({
          runId: claims.run_id,
          credentialId: minted.credentialId,
          winnerRun: session.state.grant?.run_id ?? null,
          undone,
        }),
      )
      .catch(() => undefined);
    throw new ExchangeRefusal(
      "already_granted",
      `#${issueNumber} was granted to another run at the same moment; this run's credential was ${undone}.`,
      409,
    );
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
  const encrypted = await encryptForRequester(recipient, {
    ...result,
    issue: issueNumber,
    repository: `${port.owner}/${port.repo}`,
  });
  return { ...result, secrets: {}, encrypted };
}

/** The Action's post step: the job ended, so its grant ends too (unless the policy keeps it alive). */
export async function releaseGrant(
  deps: BreakglassDeps,
  port: GitHubPort,
  claims: ActionsClaims,
  issueNumber: number,
): Promise<ReleaseOutcome> {
  const repository = await port.repository();
  const { workflow, events, drill: fromDrill } = expectedWorkflow(deps, claims, repository.full_name);
  assertTrusted(claims, { repository, workflow, events });
  const opened = await RequestSession.open(deps, port, issueNumber);
  const run = `${claims.run_id}/${claims.run_attempt}`;
  // The part (of a request naming several resources) this run collected; the request itself otherwise.
  const session = opened.parts().find((p) => p.state.grant?.run_id === run);
  if (!session) return "nothing";
  if (session.policy()?.keep_alive_after_job && !fromDrill) return "kept";
  return revokeGrant(session, "job_ended", claims.actor);
}

async function countLiveGrants(
  deps: BreakglassDeps,
  current: RequestSession,
  requester: string,
  resource: string,
): Promise<number> {
  let live = 0;
  // Every live grant is unsettled, so the app's index finds it whatever was done to its issue.
  for await (const session of otherRequestsOf(deps, current.port, requester, {
    except: current.number,
    config: current.config,
  })) {
    for (const part of session.parts())
      if (LIVE.has(part.state.status) && part.state.request?.resource === resource) live++;
  }
  return live;
}

/** Provider errors may quote connection strings; keep anything that looks like a credential out of comments. */
function scrub(message: string): string {
  return message.replace(/\/\/[^@\s]+@/g, "//***@").replace(/(password|secret|token)=\S+/gi, "$1=***");
}
