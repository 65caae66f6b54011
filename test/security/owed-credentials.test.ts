/**
 * Attack catalogue, credentials outside the chain: a credential minted for a request whose grant record
 * could not be written (or lost a race) must still be revoked, even when the provider refuses the first
 * revocation. It is never handed out, kept in the ledger as owed, and the sweep revokes it.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { CredentialRef } from "../../src/providers/provider.ts";
import { openSealed } from "../../src/providers/sealed-box.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import {
  appTexts,
  approve,
  exchange,
  grantClaims,
  historyOf,
  openRequest,
  owner,
  repo,
  guardrail,
} from "./attack-kit.ts";

let sb: Sandbox;
let refuseRevocations = 0;
let afterMint: (() => void) | null = null;

before(async () => {
  sb = await startSandbox();
  const jwt = sb.app.deps.providers.jwt!;
  const revoke = jwt.revoke.bind(jwt);
  const mint = jwt.mint.bind(jwt);
  jwt.mint = async (...args: Parameters<typeof mint>) => {
    const minted = await mint(...args);
    afterMint?.();
    return minted;
  };
  jwt.revoke = async (ref: CredentialRef) => {
    if (refuseRevocations > 0) {
      refuseRevocations--;
      throw new Error("the token service is down");
    }
    await revoke(ref);
  };
});
after(() => sb.close());

test("A141 a credential minted while the grant record cannot be written, whose revocation then fails, is never handed out, kept in the ledger as owed and revoked by the sweep", async () => {
  const stop = sb.emulator.onWorkflowDispatch(() => undefined);
  const n = await openRequest(sb, "dave", guardrail);
  sb.routeActionsTo("http://127.0.0.1:9");
  await approve(sb, "grace", n);
  sb.routeActionsTo(sb.app.url);
  stop();
  assert.equal((await historyOf(sb, n)).state.status, "approved");

  // The ledger refuses the "granted" append once (the app lost access for that call: 403); the provider then refuses the undo.
  const port = (await sb.app.portFor(owner, repo))!;
  let faults: Array<{ remove(): void }> = [];
  afterMint = () => {
    // Either way the append is written: its one file write, or the fast-forward of the request's branch.
    faults = [
      sb.emulator.faults.add({
        method: "PUT",
        route: "/repos/{owner}/{repo}/contents/{path}",
        status: 403,
        times: 1,
      }),
      sb.emulator.faults.add({
        method: "PATCH",
        route: new RegExp(`requests(/|%2F)${owner}(/|%2F)${repo}(/|%2F)${n}$`),
        status: 403,
        times: 1,
      }),
    ];
  };
  refuseRevocations = 1;
  const answer = await exchange(sb, await sb.issuer.mint(grantClaims(sb, {}, n)), n);
  afterMint = null;
  for (const fault of faults) fault.remove();
  assert.equal(answer.status, 409, JSON.stringify({ ...answer.body, secrets: undefined }));
  assert.equal(answer.body.error, "already_granted");
  assert.match(answer.body.message!, /kept in the ledger and the sweep revokes it/);
  assert.equal((answer.body as { secrets?: unknown }).secrets, undefined, "no secret left the app");
  const owed = await port.ledger.orphans();
  assert.equal(owed.length, 1, "the ledger owes one revocation");
  assert.equal(owed[0]!.issue, n);
  assert.equal((await historyOf(sb, n)).state.grant, null, "the request's chain has no grant");

  const o = owed[0]!;
  const ref = {
    grantId: o.grant_id,
    credentialId: o.credential_id,
    resource: o.resource,
    role: o.role,
    settings: o.settings,
    ...(o.sealed_handle ? { revocationHandle: openSealed(o.sealed_handle, sb.app.deps.sealKey) } : {}),
  };
  assert.equal(
    (await sb.app.deps.providers.jwt!.verifyRevoked(ref)).revoked,
    false,
    "the failed undo left it live",
  );
  // The sweep (here: the start-up reconcile after a restart, which knows nothing in memory) revokes it.
  await sb.stopApp();
  await sb.startApp();
  const check = await sb.app.deps.providers.jwt!.verifyRevoked(ref);
  assert.equal(check.revoked, true, `the provider revoked the owed credential: ${check.evidence}`);
  assert.deepEqual(await port.ledger.orphans(), []);
  assert.ok(
    (await appTexts(sb, n)).some((t) => t.includes(owed[0]!.credential_id) && t.includes("now revoked")),
  );
});

test("A142 the ledger cannot be written when a CODEOWNER approves: nothing is recorded, the approver is told on the issue, the request stays requested and approving again later works", async () => {
  const stop = sb.emulator.onWorkflowDispatch(() => undefined);
  try {
    const n = await openRequest(sb, "erin", guardrail);
    assert.equal((await historyOf(sb, n)).state.status, "requested");
    // Both ways an entry after the first is written: its one file write (only the ledger is written
    // through the contents API) and the fast-forward of the request's branch.
    const faults = [
      sb.emulator.faults.add({ method: "PUT", route: "/repos/{owner}/{repo}/contents/{path}", status: 403 }),
      sb.emulator.faults.add({
        method: "PATCH",
        route: new RegExp(`requests(/|%2F)${owner}(/|%2F)${repo}(/|%2F)${n}$`),
        status: 403,
      }),
    ];
    try {
      await approve(sb, "grace", n);
    } finally {
      for (const fault of faults) fault.remove();
    }
    assert.ok(faults[0]!.hits + faults[1]!.hits > 0, "the ledger write was refused");
    const texts = await appTexts(sb, n);
    const notice = texts.find((t) => t.startsWith("⚠️ @grace: Breakglass could not write to its ledger"));
    assert.ok(
      notice,
      `the approver is told; the app wrote:\n${texts.map((t) => t.slice(0, 120)).join("\n")}`,
    );
    assert.match(notice, /nothing was recorded/);
    const h = await historyOf(sb, n);
    assert.equal(h.state.status, "requested", "the request stays where it was");
    assert.equal(h.state.approvals.length, 0);
    sb.clock.advance(2_000);
    await approve(sb, "grace", n);
    assert.ok(
      ["approved", "active"].includes((await historyOf(sb, n)).state.status),
      "approving again once the ledger answers works",
    );
  } finally {
    stop();
  }
});
