/**
 * The pure rules of passkey activation: an SSH signature (real ssh-keygen) over owner, login and
 * credential id by one of the person's GitHub signing keys; otherwise the end of the waiting period;
 * the signature counter of a cloned authenticator; the hardware trust list of AAGUIDs.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  checkPasskeyActivation,
  checkSignatureCounter,
  isCredentialId,
  isHardwarePasskey,
  passkeyActivation,
  passkeyActivationMessage,
  DEFAULT_PASSKEY_ACTIVATION_WAIT_SECONDS,
  publicKeySha256,
  recheckPasskeyActivation,
  recordedWaitingPeriod,
  waitingPeriodProblem,
} from "../../src/core/passkey-activation.ts";
import { STEP_UP_NAMESPACE } from "../../src/core/step-up.ts";

const CREDENTIAL = "bGV0IG1lIGluIHBsZWFzZQ";
let dir: string;
let pub: string;
const sign = (message: string): string => {
  rmSync(join(dir, "msg.sig"), { force: true });
  writeFileSync(join(dir, "msg"), message);
  execFileSync("ssh-keygen", [
    "-q",
    "-Y",
    "sign",
    "-n",
    STEP_UP_NAMESPACE,
    "-f",
    join(dir, "key"),
    join(dir, "msg"),
  ]);
  return readFileSync(join(dir, "msg.sig"), "utf8");
};
before(() => {
  dir = mkdtempSync(join(tmpdir(), "breakglass-passkey-activation-"));
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "key")]);
  pub = readFileSync(join(dir, "key.pub"), "utf8").trim();
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe("passkey activation by SSH signature", () => {
  const PUBLIC_KEY = "pQECAyYgASFYIBM";
  const binding = {
    public_key_sha256: publicKeySha256(PUBLIC_KEY),
    registered_at: "2026-11-24T09:00:00.000Z",
    nonce: "bm9uY2Utb2YtdGhlLXBhZ2U",
  };
  const input = (signature: string, signingKeys = [pub]) => ({
    owner: "Acme",
    login: "Grace",
    credentialId: CREDENTIAL,
    binding,
    signature,
    signingKeys,
  });

  it("A231 binds owner, login (both in lower case), credential id, the public key's hash, the registration time and the page's nonce", () => {
    assert.equal(
      passkeyActivationMessage("Acme", "Grace", CREDENTIAL, binding),
      `breakglass-passkey-v2\nacme\ngrace\n${CREDENTIAL}\n${binding.public_key_sha256}\n2026-11-24T09:00:00.000Z\n${binding.nonce}\n`,
    );
    assert.equal(
      passkeyActivationMessage("Acme", "Grace", CREDENTIAL),
      `breakglass-passkey\nacme\ngrace\n${CREDENTIAL}\n`,
      "the first version's message, for activations recorded before the binding",
    );
    assert.match(binding.public_key_sha256, /^[0-9a-f]{64}$/);
  });

  it("accepts a signature by a GitHub signing key over this passkey, and audit re-checks it", () => {
    const checked = checkPasskeyActivation(
      input(sign(passkeyActivationMessage("acme", "grace", CREDENTIAL, binding))),
    );
    assert.ok(checked.ok, JSON.stringify(checked));
    assert.equal(checked.value.key_type, "ssh-ed25519");
    assert.equal(
      recheckPasskeyActivation(checked.value, "acme", "grace", CREDENTIAL, binding, PUBLIC_KEY),
      null,
    );
    assert.match(
      recheckPasskeyActivation(checked.value, "acme", "heidi", CREDENTIAL, binding, PUBLIC_KEY) ?? "",
      /does not verify/,
    );
    assert.match(
      recheckPasskeyActivation(checked.value, "acme", "grace", CREDENTIAL, binding, "b3RoZXIta2V5") ?? "",
      /signed over public key .* not the passkey's own/,
      "A231 an activation bound to another public key does not activate this one",
    );
    assert.match(
      recheckPasskeyActivation(
        { ...checked.value, key_fingerprint: "SHA256:other" },
        "acme",
        "grace",
        CREDENTIAL,
        binding,
        PUBLIC_KEY,
      ) ?? "",
      /not the recorded SHA256:other/,
    );
    // An activation recorded before the binding existed is re-checked over the first message.
    const v1 = checkPasskeyActivation(input(sign(passkeyActivationMessage("acme", "grace", CREDENTIAL))));
    assert.ok(!v1.ok && v1.error.code === "step_up_bad_signature", "the app takes only the bound message");
  });

  it("refuses no signature, a signature over another passkey, person, key hash or nonce, and a key not on GitHub", () => {
    const none = checkPasskeyActivation(input("just trust me"));
    assert.ok(!none.ok && none.error.code === "step_up_required");
    assert.match(none.ok ? "" : none.error.message, /breakglass passkey confirm Acme bGV0.* --nonce /);
    for (const [what, message] of [
      ["another passkey", passkeyActivationMessage("acme", "grace", "QUFBQUFBQUFBQUFBQUFBQQ", binding)],
      ["another person", passkeyActivationMessage("acme", "heidi", CREDENTIAL, binding)],
      [
        "another key",
        passkeyActivationMessage("acme", "grace", CREDENTIAL, {
          ...binding,
          public_key_sha256: "0".repeat(64),
        }),
      ],
      [
        "another nonce",
        passkeyActivationMessage("acme", "grace", CREDENTIAL, {
          ...binding,
          nonce: "YW5vdGhlci1ub25jZS14eA",
        }),
      ],
    ] as const) {
      const r = checkPasskeyActivation(input(sign(message)));
      assert.ok(!r.ok && r.error.code === "step_up_bad_signature", what);
    }
    const unknown = checkPasskeyActivation(
      input(sign(passkeyActivationMessage("acme", "grace", CREDENTIAL, binding)), []),
    );
    assert.ok(!unknown.ok && unknown.error.code === "step_up_unknown_key");
  });

  it("credential ids are base64url of a sensible length", () => {
    assert.ok(isCredentialId(CREDENTIAL));
    assert.ok(!isCredentialId("short"));
    assert.ok(!isCredentialId("not base64url!!!!!!!!!"));
  });
});

describe("passkey activation state", () => {
  const key = {
    credential_id: CREDENTIAL,
    registered_at: "2026-11-24T09:00:00.000Z",
    active_from: "2026-11-25T09:00:00.000Z",
  };
  it("is not active during the waiting period (step_up_passkey_not_active)", () => {
    const r = passkeyActivation(key, Date.parse("2026-11-25T08:59:59Z"));
    assert.ok(!r.ok && r.error.code === "step_up_passkey_not_active");
    assert.match(r.ok ? "" : r.error.message, /becomes active at 2026-11-25T09:00:00.000Z unless removed/);
  });
  it("is active once the waiting period ended, or at once when confirmed", () => {
    assert.deepEqual(passkeyActivation(key, Date.parse(key.active_from)), {
      ok: true,
      value: { method: "waiting-period", registered_at: key.registered_at, active_from: key.active_from },
    });
    const proof = {
      method: "ssh-signature" as const,
      key_type: "ssh-ed25519",
      key_fingerprint: "SHA256:x",
      signature: "",
    };
    const confirmed = passkeyActivation(
      { ...key, activated: { at: key.registered_at, proof } },
      Date.parse(key.registered_at),
    );
    assert.ok(confirmed.ok && confirmed.value.method === "ssh-signature");
  });
});

describe("signature counter", () => {
  it("must grow once either side is not zero (step_up_passkey_cloned)", () => {
    assert.ok(checkSignatureCounter(0, 0, CREDENTIAL).ok, "authenticators without a counter");
    assert.ok(checkSignatureCounter(0, 1, CREDENTIAL).ok);
    assert.ok(checkSignatureCounter(5, 6, CREDENTIAL).ok);
    for (const [stored, received] of [
      [5, 5],
      [5, 2],
      [5, 0],
    ] as const) {
      const r = checkSignatureCounter(stored, received, CREDENTIAL);
      assert.ok(!r.ok && r.error.code === "step_up_passkey_cloned", `${stored} → ${received}`);
    }
  });
});

describe("hardware passkeys", () => {
  const key = {
    device_type: "singleDevice",
    attestation: "packed",
    aaguid: "01020304-0506-0708-0102-030405060708",
  };
  it("needs device-bound, attested and an AAGUID on the list", () => {
    assert.equal(isHardwarePasskey(key, undefined, true), false, "no list: nothing is hardware");
    assert.equal(isHardwarePasskey(key, ["cb69481e-8ff7-4039-93ec-0a2729a154a8"], true), false);
    assert.equal(isHardwarePasskey(key, ["01020304-0506-0708-0102-030405060708".toUpperCase()], true), true);
    assert.equal(isHardwarePasskey({ ...key, device_type: "multiDevice" }, [key.aaguid], true), false);
    assert.equal(isHardwarePasskey(key, [key.aaguid], false), false, "no trusted attestation: not hardware");
  });
});

describe("the waiting period: one rule for the app and audit verify", () => {
  const registered_at = "2026-11-24T09:00:00.000Z";
  const at = (hours: number) => Date.parse(registered_at) + hours * 3600_000;
  it("A233 a registration recorded before activation existed waits the default 24 h from its own time, whatever the app is configured with", () => {
    const period = recordedWaitingPeriod(registered_at, {});
    assert.deepEqual(period, {
      active_from: "2026-11-25T09:00:00.000Z",
      activation_wait_seconds: DEFAULT_PASSKEY_ACTIVATION_WAIT_SECONDS,
    });
    assert.match(waitingPeriodProblem({ registered_at, ...period }, at(23)) ?? "", /had not ended/);
    assert.equal(waitingPeriodProblem({ registered_at, ...period }, at(24)), null);
    // The app reads its records with this rule, and the approval carries what it gave to audit verify.
    const key = { credential_id: CREDENTIAL, registered_at, ...period };
    const activation = passkeyActivation(key, at(24));
    assert.ok(activation.ok && activation.value.method === "waiting-period");
    assert.equal(waitingPeriodProblem(activation.value as never, at(24)), null);
    assert.ok(!passkeyActivation(key, at(23)).ok);
  });
  it("A233 the length must be the setting recorded with the registration (and no less than 1 h), and over", () => {
    const recorded = {
      registered_at,
      active_from: new Date(at(2)).toISOString(),
      activation_wait_seconds: 7200,
    };
    assert.equal(waitingPeriodProblem(recorded, at(2)), null);
    assert.match(
      waitingPeriodProblem({ ...recorded, active_from: new Date(at(1)).toISOString() }, at(2)) ?? "",
      /is not the 7200 s recorded with its registration/,
    );
    assert.match(
      waitingPeriodProblem(
        { ...recorded, active_from: new Date(at(0.01)).toISOString(), activation_wait_seconds: 36 },
        at(2),
      ) ?? "",
      /nor the 1 h minimum/,
    );
    const unrecorded = { registered_at, active_from: new Date(at(0.5)).toISOString() };
    assert.match(waitingPeriodProblem(unrecorded, at(2)) ?? "", /shorter than the 1 h minimum/);
    const shortKey = { credential_id: CREDENTIAL, ...unrecorded };
    const refused = passkeyActivation(shortKey, at(2));
    assert.ok(!refused.ok && refused.error.code === "step_up_passkey_not_active");
    assert.match(refused.ok ? "" : refused.error.message, /shorter than the 1 h minimum/);
  });
});
