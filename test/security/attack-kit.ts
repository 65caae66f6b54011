/**
 * Shared moves for the attack catalogue: open a request, comment as someone, read the app's own
 * signed records back, and prove that nothing was granted. Every case asserts through these so a
 * refusal is always checked the same three ways: the refusal, the reason shown, and no credential.
 */
import assert from "node:assert/strict";
import { readHistory, type History } from "../../src/github/issue-records.ts";
import type { RequestFormInput } from "../../src/sandbox/request-body.ts";
import { SANDBOX_AUDIENCE, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import { sandboxHelpers } from "../support/sandbox-helpers.ts";

export const owner = "acme";
export const repo = "ops";
/** The request most attacks start from: a guardrail override (one approval by @acme/ai-governance, SSH step-up). */
export const guardrail = {
  resource: "model-guardrail-override",
  role: "override",
  duration: "30m",
  severity: "critical",
} as const;

export async function openRequest(
  sb: Sandbox,
  who: string,
  form: RequestFormInput | string,
  labels = ["breakglass"],
): Promise<number> {
  return sandboxHelpers(() => sb).openRequest(who, form, labels);
}

export async function say(sb: Sandbox, who: string, n: number, body: string): Promise<number> {
  return sandboxHelpers(() => sb).say(who, n, body);
}

/**
 * An approval with step-up proof, as an approver makes it: the real `breakglass approve` (real
 * ssh-keygen signature over the request's current hash, by the approver's GitHub signing key), posted
 * with their own token. Policies that require step-up (prod-database, model-guardrail-override) take
 * only this; others take it like a plain /approve. Returns the comment id.
 */
export async function approve(sb: Sandbox, who: string, n: number, note?: string): Promise<number> {
  return sb.approveSigned(who, n, note ? { note } : {});
}

export async function allComments(sb: Sandbox, n: number) {
  return sandboxHelpers(() => sb).allComments(n);
}

/** Bodies of the comments the app itself wrote on the issue. */
export async function appTexts(sb: Sandbox, n: number): Promise<string[]> {
  return sandboxHelpers(() => sb).appTexts(n);
}

export async function labelsOf(sb: Sandbox, n: number): Promise<string[]> {
  return sandboxHelpers(() => sb).labelsOf(n);
}

/** The request's state as the app rebuilds it: only from its own signed records. */
export async function historyOf(sb: Sandbox, n: number): Promise<History> {
  const port = await sb.app.portFor(owner, repo);
  assert.ok(port, "the app is installed on acme/ops");
  return readHistory(port, n, sb.app.deps.identity, sb.app.deps.jwks);
}

/** (3) No credential: no `granted` record, no grant in the state, no grant workflow dispatched for the issue. */
export async function assertNothingGranted(
  sb: Sandbox,
  n: number,
  options: { allowRun?: boolean } = {},
): Promise<History> {
  const history = await historyOf(sb, n);
  assert.equal(history.state.grant, null, `#${n} must have no grant`);
  assert.ok(!history.events.some((e) => e.type === "granted"), `#${n} must have no granted record`);
  assert.notEqual(history.state.status, "active");
  if (!options.allowRun)
    assert.equal(sb.runs.filter((r) => r.issue === n).length, 0, `no grant workflow may run for #${n}`);
  const texts = await appTexts(sb, n);
  assert.ok(!texts.some((t) => t.includes("🔓 **Granted**")), "no comment announces a grant");
  return history;
}

/**
 * (2) The refusal comment the app posted for `who`: "👎 @who — refused (`code`): message".
 * Returns the message so the case can check it says what to do instead.
 */
export async function refusalFor(sb: Sandbox, n: number, who: string, code: string): Promise<string> {
  const texts = await appTexts(sb, n);
  const prefix = `👎 @${who} — refused (\`${code}\`): `;
  const found = texts.find((t) => t.startsWith(prefix));
  assert.ok(
    found,
    `expected a "${code}" refusal for @${who} on #${n}; the app wrote:\n${texts.map((t) => t.slice(0, 200)).join("\n---\n")}`,
  );
  const message = found.slice(prefix.length);
  assert.ok(message.trim().length > 10, "the refusal explains itself");
  return message;
}

/**
 * The claims GitHub would put in a token of this repository's grant workflow, dispatched by the app
 * for `issue` on the default branch: the run is a real run of the emulator (so the app can check it
 * with GitHub), and `extra` then changes what the token says.
 */
export function grantClaims(
  sb: Sandbox,
  extra: Record<string, unknown> = {},
  issue = 0,
): Record<string, unknown> {
  const repository = sb.repository;
  const state = sb.emulator.state.repository;
  const run = sb.emulator.startWorkflowRun({
    workflow: "breakglass-grant.yml",
    actor: sb.appLogin,
    inputs: { issue: String(issue) },
  });
  const workflowRef = `${repository}/.github/workflows/breakglass-grant.yml@refs/heads/main`;
  return {
    aud: SANDBOX_AUDIENCE,
    repository,
    repository_id: String(state.id),
    repository_owner: owner,
    repository_owner_id: String(state.owner.id),
    workflow_ref: workflowRef,
    job_workflow_ref: workflowRef,
    job_workflow_sha: run.head_sha,
    run_id: String(run.id),
    run_attempt: "1",
    actor: sb.appLogin,
    event_name: "workflow_dispatch",
    ref: "refs/heads/main",
    ...extra,
  };
}

export interface ExchangeAnswer {
  status: number;
  body: { error?: string; message?: string; secrets?: Record<string, string>; grant_id?: string };
}

/** POSTs straight to the app's exchange route, as an attacker with a token in hand would. */
export async function exchange(
  sb: Sandbox,
  token: string,
  issue: number,
  repository: string = sb.repository,
): Promise<ExchangeAnswer> {
  const res = await fetch(`${sb.app.url}/breakglass/exchange`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token, repository, issue }),
  });
  const text = await res.text();
  let body: ExchangeAnswer["body"] = {};
  try {
    body = JSON.parse(text) as ExchangeAnswer["body"];
  } catch {
    assert.fail(`the exchange route answered ${res.status} with non-JSON: ${text.slice(0, 200)}`);
  }
  return { status: res.status, body };
}

/** A refused exchange: the HTTP status, the error code, a message, and no secret in the answer. */
export function assertRefusedExchange(answer: ExchangeAnswer, status: number, code: string): void {
  assert.equal(answer.body.error, code, `expected ${code}, got ${JSON.stringify(answer.body)}`);
  assert.equal(answer.status, status);
  assert.ok(
    typeof answer.body.message === "string" && answer.body.message.length > 10,
    "the refusal explains itself",
  );
  assert.equal(answer.body.secrets, undefined, "a refusal carries no credential");
  assert.equal(answer.body.grant_id, undefined);
}
