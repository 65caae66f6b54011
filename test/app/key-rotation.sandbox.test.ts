/**
 * Rotating the app's keys while grants are live, as an operator would (docs/deployment.md, "Rotating
 * keys"): the signing key (records and JWT grants carry its kid; the JWKS keeps the retired public
 * half for verification) and the seal key (the start-up reconcile seals every live grant's revocation
 * handle again under the new key, so the retired one can then be removed). Through the real app,
 * restarted with the new keys, and the real `breakglass audit verify` over HTTP.
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { decodeProtectedHeader, type JSONWebKeySet } from "jose";
import { readHistory } from "../../src/github/issue-records.ts";
import { run as audit } from "../../src/cli/commands/audit.ts";
import type { CliIO } from "../../src/cli/io.ts";
import { introspect } from "../../src/providers/jwt.ts";
import { openSealed } from "../../src/providers/sealed-box.ts";
import {
  SANDBOX_JWT_ISSUER,
  SANDBOX_OWNER as owner,
  SANDBOX_REPO as repo,
  startSandbox,
  type Sandbox,
} from "../../src/sandbox/start-sandbox.ts";
import { sandboxHelpers, withoutStepUp } from "../support/sandbox-helpers.ts";

const MIN = 60_000;
let sb: Sandbox;
const { openRequest, say, labelsOf } = sandboxHelpers(() => sb);

before(async () => {
  sb = await startSandbox();
  withoutStepUp(sb); // this suite is about key rotation, not step-up
});
after(() => sb.close());

async function granted(who: string): Promise<{ n: number; token: string }> {
  const n = await openRequest(who, {
    resource: "model-guardrail-override",
    role: "override",
    duration: "30m",
    severity: "critical",
  });
  await say("grace", n, "/approve");
  const run = sb.runs.find((r) => r.issue === n);
  assert.ok(run, "the grant workflow ran");
  const action = await run.result;
  assert.equal(action.exitCode, 0, action.stderr);
  return { n, token: action.env.BREAKGLASS_TOKEN ?? "" };
}
const history = async (n: number) =>
  readHistory((await sb.app.portFor(owner, repo))!, n, sb.app.deps.identity, sb.app.deps.jwks);
const published = async (): Promise<JSONWebKeySet> =>
  (await (await fetch(`${sb.app.url}/breakglass/jwks.json`)).json()) as JSONWebKeySet;
function cliIO(): CliIO & { out: () => string; err: () => string } {
  let out = "";
  let err = "";
  return {
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    readStdin: async () => "",
    cwd: process.cwd(),
    env: { GITHUB_TOKEN: sb.emulator.userToken("sam"), GITHUB_API_URL: sb.emulator.apiUrl },
    out: () => out,
    err: () => err,
  };
}

it("live grants cross a rotation of both keys: handles are sealed again at start-up, the retired seal key is removed, and the grants still revoke; audit verify reads records of both signing keys", async () => {
  const early = await granted("erin"); // revoked by hand after the rotation
  const late = await granted("dave"); // expires after the rotation
  const oldKid = sb.app.deps.signer.kid;
  const oldSealKey = sb.app.deps.sealKey;
  assert.equal(decodeProtectedHeader(early.token).kid, oldKid, "the JWT grant names the key that signed it");

  await sb.stopApp();
  await sb.rotateKeys({ signing: true, seal: true });
  await sb.startApp();
  const newKid = sb.app.deps.signer.kid;
  assert.notEqual(newKid, oldKid);
  assert.deepEqual(
    (await published()).keys.map((k) => k.kid),
    [newKid, oldKid],
    "the JWKS publishes the active key first and keeps the retired one",
  );

  for (const { n, token } of [early, late]) {
    const h = await history(n);
    assert.deepEqual(h.problems, []);
    const resealed = h.events.filter((e) => e.type === "handle_resealed");
    assert.equal(resealed.length, 1, `#${n}: the start-up reconcile sealed the handle again, once`);
    const handle = h.state.grant!.sealed_handle!;
    assert.equal(
      openSealed(handle, sb.app.deps.sealKey),
      token,
      "the new handle opens with the new seal key",
    );
    assert.throws(
      () => openSealed(handle, oldSealKey),
      /does not open/,
      "and no longer with the retired one",
    );
    assert.equal(
      decodeProtectedHeader(h.chain.at(-1)!.jws).kid,
      newKid,
      "the reseal record is signed with the new key",
    );
    assert.equal(
      decodeProtectedHeader(h.chain[0]!.jws).kid,
      oldKid,
      "earlier records keep the old key's signature",
    );
    assert.equal(
      (await sb.app.deps.introspect!(token)).active,
      true,
      "a token minted before the rotation still verifies",
    );
  }
  // A second start changes nothing: the handles already open with the current key.
  await sb.stopApp();
  await sb.startApp();
  assert.equal((await history(early.n)).events.filter((e) => e.type === "handle_resealed").length, 1);

  // The operator removes the retired seal key (the retired signing key stays published for verification).
  await sb.stopApp();
  await sb.rotateKeys({ dropRetiredSeal: true });
  await sb.startApp();
  assert.equal(sb.app.deps.retiredSealKeys, undefined);

  await say("erin", early.n, "/revoke done");
  const revoked = (await history(early.n)).state;
  assert.equal(revoked.status, "revoked", "revoked with only the new seal key configured");
  assert.match(
    revoked.grant!.ended!.evidence,
    /revocation list; introspection of the token answers inactive/,
    "revocation verified against a token signed by the retired key",
  );
  assert.equal((await sb.app.deps.introspect!(early.token)).active, false);

  await sb.advance(31 * MIN);
  const expired = (await history(late.n)).state;
  assert.equal(expired.status, "expired");
  assert.equal((await sb.app.deps.introspect!(late.token)).active, false);

  const io = cliIO();
  assert.equal(
    await audit(["verify", "--repo", sb.repository, "--jwks", `${sb.app.url}/breakglass/jwks.json`], io),
    0,
    io.out() + io.err(),
  );
  const oldOnly = cliIO();
  const file = `${process.env.TMPDIR ?? "/tmp"}/breakglass-jwks-new-only-${process.pid}.json`;
  const { writeFile, rm } = await import("node:fs/promises");
  await writeFile(file, JSON.stringify({ keys: (await published()).keys.filter((k) => k.kid === newKid) }));
  try {
    assert.notEqual(
      await audit(["verify", "--repo", sb.repository, "--jwks", file], oldOnly),
      0,
      "without the retired key the records signed before the rotation do not verify",
    );
    assert.match(oldOnly.out() + oldOnly.err(), new RegExp(`unknown key id "${oldKid}"`));
  } finally {
    await rm(file, { force: true });
  }
});

it("a seal key replaced without keeping the old one as retired: the grant cannot be revoked, and that is recorded and loud, never silent", async () => {
  const { n, token } = await granted("erin");
  await sb.stopApp();
  await sb.rotateKeys({ seal: true, dropRetiredSeal: true });
  await sb.startApp();
  assert.equal(
    (await history(n)).events.filter((e) => e.type === "handle_resealed").length,
    0,
    "nothing opens the handle, so nothing is sealed again",
  );
  await say("erin", n, "/revoke done");
  const state = (await history(n)).state;
  assert.equal(state.status, "revoke_failed");
  assert.match(state.grant!.last_revocation_error ?? "", /does not open/);
  assert.ok(
    sb.notifier.sent.some((s) => s.notification.event === "revocation_failed" && s.notification.issue === n),
    "the policy's targets were alerted",
  );
  assert.ok((await labelsOf(n)).includes("breakglass:revoke-failed"));
  // The token itself is still valid by its signature until it expires: only the old seal key, put back as retired, revokes it.
  const offline = await introspect(token, {
    jwks: sb.app.deps.jwks,
    issuer: SANDBOX_JWT_ISSUER,
    revocations: null,
    now: sb.clock.now(),
  });
  assert.equal(offline.active, true);
});
