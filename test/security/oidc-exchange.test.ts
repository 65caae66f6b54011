/**
 * Attack catalogue, the OIDC exchange: forged and misdirected workflow tokens POSTed straight to
 * the app's exchange route for an issue that IS approved, so the token is the only thing standing
 * between the attacker and a credential. The last case proves the same issue is grantable with a
 * genuine token, so every refusal above it was the token's doing.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startOidcIssuer, type OidcIssuer } from "../../src/sandbox/oidc-issuer.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import {
  approve,
  assertNothingGranted,
  assertRefusedExchange,
  exchange,
  grantClaims,
  historyOf,
  openRequest,
} from "./attack-kit.ts";

let sb: Sandbox;
let stranger: OidcIssuer;
let approved: number;
let spare: number;

before(async () => {
  sb = await startSandbox({ runWorkflows: false });
  stranger = await startOidcIssuer({ clock: sb.clock });
  const guardrail = {
    resource: "model-guardrail-override",
    role: "override",
    duration: "30m",
    severity: "high",
  } as const;
  approved = await openRequest(sb, "dave", guardrail);
  spare = await openRequest(sb, "rita", guardrail);
  for (const n of [approved, spare]) {
    await approve(sb, "grace", n);
    assert.equal((await historyOf(sb, n)).state.status, "approved", `#${n} is approved by a CODEOWNER`);
  }
});
after(async () => {
  await stranger.close();
  await sb.close();
});

async function refused(token: string, status: number, code: string, issue = approved): Promise<string> {
  const answer = await exchange(sb, token, issue);
  assertRefusedExchange(answer, status, code);
  const h = await assertNothingGranted(sb, issue);
  assert.equal(h.state.status, "approved", "the request is untouched and still waiting for its real run");
  return answer.body.message!;
}

test("A20 a token signed by a key outside the issuer's JWKS is refused", async () => {
  const token = await sb.issuer.mint(grantClaims(sb), { key: "other" });
  assert.match(await refused(token, 401, "token_signature"), /signature does not verify/);
});

test('A21 a token with alg "none" is refused', async () => {
  const token = await sb.issuer.mint(grantClaims(sb), { key: "none" });
  await refused(token, 401, "token_signature").catch(async (error: Error) => {
    // jose may classify an unsigned token as malformed rather than a bad signature: both are refusals.
    if (!/token_malformed/.test(error.message)) throw error;
    await refused(token, 401, "token_malformed");
  });
});

test("A22 an HS256 token keyed with the issuer's public key (algorithm confusion) is refused", async () => {
  const token = await sb.issuer.mint(grantClaims(sb), { key: "hs256-public-key" });
  const answer = await exchange(sb, token, approved);
  assert.ok(
    ["token_signature", "token_malformed"].includes(answer.body.error ?? ""),
    JSON.stringify(answer.body),
  );
  assertRefusedExchange(answer, 401, answer.body.error!);
  await assertNothingGranted(sb, approved);
});

test("A23 a token from another issuer (a second OIDC issuer with its own valid keys) is refused", async () => {
  const token = await stranger.mint(grantClaims(sb));
  const answer = await exchange(sb, token, approved);
  // Its kid is unknown to our issuer's JWKS, or its iss is wrong: either way it is not ours.
  assert.ok(
    ["token_issuer", "token_signature"].includes(answer.body.error ?? ""),
    JSON.stringify(answer.body),
  );
  assertRefusedExchange(answer, 401, answer.body.error!);
  await assertNothingGranted(sb, approved);
});

test("A24 a token signed by our issuer's key but naming another issuer is refused", async () => {
  const token = await sb.issuer.mint(grantClaims(sb, { iss: "https://token.actions.githubusercontent.com" }));
  assert.match(await refused(token, 401, "token_issuer"), /issued by someone else/);
});

test("A25 a token for another audience is refused", async () => {
  const token = await sb.issuer.mint(grantClaims(sb, { aud: "https://github.com/acme" }));
  assert.match(await refused(token, 401, "token_audience"), /another audience/);
});

test("A26 an expired token is refused", async () => {
  const token = await sb.issuer.mint(grantClaims(sb), {
    issuedAtOffsetSeconds: -3600,
    expiresInSeconds: 300,
  });
  assert.match(await refused(token, 401, "token_expired"), /expired/);
});

test("A27 a token whose nbf is in the future is refused", async () => {
  const token = await sb.issuer.mint(grantClaims(sb), { notBeforeOffsetSeconds: 600 });
  assert.match(await refused(token, 401, "token_not_yet_valid"), /not valid yet/);
});

test("A28 the same repository name with a different repository_id (re-registered name) is refused", async () => {
  const token = await sb.issuer.mint(grantClaims(sb, { repository_id: "999999999" }));
  assert.match(await refused(token, 403, "wrong_repository"), /id 999999999/);
});

test("A29 the same repository with a different repository_owner_id is refused", async () => {
  const token = await sb.issuer.mint(grantClaims(sb, { repository_owner_id: "424242424" }));
  await refused(token, 403, "wrong_repository");
});

test("A30 a token from a fork's pull_request workflow is refused", async () => {
  const prRef = `${sb.repository}/.github/workflows/breakglass-grant.yml@refs/pull/7/merge`;
  const token = await sb.issuer.mint(
    grantClaims(sb, {
      event_name: "pull_request",
      ref: "refs/pull/7/merge",
      job_workflow_ref: prRef,
      workflow_ref: prRef,
      sub: "repo:acme/ops:pull_request",
    }),
  );
  // GitHub names the pull request's merge ref in both claims: the run used a copy nobody reviewed.
  assert.match(await refused(token, 403, "wrong_ref"), /refs\/pull\/7\/merge/);
  const onMain = await sb.issuer.mint(grantClaims(sb, { event_name: "pull_request" }));
  assert.match(await refused(onMain, 403, "wrong_event"), /workflow_dispatch/);
});

test("A31 a token from a different workflow file of the same repository is refused", async () => {
  const other = `${sb.repository}/.github/workflows/ci.yml@refs/heads/main`;
  const token = await sb.issuer.mint(grantClaims(sb, { job_workflow_ref: other, workflow_ref: other }));
  assert.match(await refused(token, 403, "wrong_workflow"), /ci\.yml/);
});

test("A32 a grant-workflow path smuggled into another file's name (breakglass-grant.yml.evil) is refused", async () => {
  const other = `${sb.repository}/.github/workflows/breakglass-grant.yml.evil.yml@refs/heads/main`;
  const token = await sb.issuer.mint(grantClaims(sb, { job_workflow_ref: other, workflow_ref: other }));
  await refused(token, 403, "wrong_workflow");
});

test("A33 a token of another repository is refused for ours", async () => {
  const token = await sb.issuer.mint(grantClaims(sb, { repository: "evil/ops", repository_owner: "evil" }));
  await refused(token, 403, "wrong_repository");
});

test("A34 a token lacking the pinned claims (no repository_id) is refused", async () => {
  const token = await sb.issuer.mint(grantClaims(sb, { repository_id: undefined }));
  assert.match(await refused(token, 401, "token_claims"), /repository_id/);
});

test("A35 a garbage token and an oversized token are refused as malformed", async () => {
  assert.match(await refused("not.a-jwt", 401, "token_malformed"), /./);
  await refused(`${"a".repeat(20_000)}.b.c`, 401, "token_malformed");
  await refused("", 401, "token_malformed");
});

test("A36 a replayed run: the run that exchanged once cannot exchange again, not even for another issue", async () => {
  const claims = grantClaims(sb, {}, approved);
  const first = await exchange(sb, await sb.issuer.mint(claims), approved);
  assert.equal(
    first.status,
    200,
    `the genuine run is granted: ${JSON.stringify({ ...first.body, secrets: undefined })}`,
  );
  const granted = await historyOf(sb, approved);
  assert.equal(granted.state.status, "active");
  const grantId = granted.state.grant?.grant_id;

  // A fresh token of the same run (same run_id/run_attempt) against the same issue and against another approved issue.
  for (const issue of [approved, spare]) {
    const again = await exchange(sb, await sb.issuer.mint(claims), issue);
    assertRefusedExchange(again, 401, "token_replayed");
    assert.match(again.body.message!, /one grant/);
  }
  assert.equal(
    (await historyOf(sb, approved)).state.grant?.grant_id,
    grantId,
    "still the one original grant",
  );
  await assertNothingGranted(sb, spare);
});

test("A37 a second run for an issue that was already granted is refused (a grant is delivered once)", async () => {
  const answer = await exchange(sb, await sb.issuer.mint(grantClaims(sb)), approved);
  assertRefusedExchange(answer, 409, "already_granted");
  assert.match(answer.body.message!, /already granted/);
  const h = await historyOf(sb, approved);
  assert.equal(h.events.filter((e) => e.type === "granted").length, 1);
});
