/**
 * A security-key (sk-ssh-ed25519@openssh.com) SSHSIG fixture. There is no FIDO2 device on this
 * machine, so the signature is CONSTRUCTED here from a software ed25519 key, byte for byte as OpenSSH
 * lays it out (PROTOCOL.sshsig for the envelope, PROTOCOL.u2f for the key, the signed blob
 * SHA256(application) || flags || counter || SHA256(message) and the signature encoding). It is not
 * from a device. The real `ssh-keygen -Y verify` checks the same bytes, so the construction itself
 * is tested against OpenSSH, not only against our verifier.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SK_USER_PRESENT, SK_USER_VERIFIED, verifySshSignature } from "../../src/core/sshsig.ts";
import { checkStepUp, stepUpMessage, STEP_UP_NAMESPACE } from "../../src/core/step-up.ts";
import { SK_ED25519, skKey, skSign, type SkKey } from "../support/sk-signature.ts";

const HASH = "4b1c0ffee4b1c0ffee4b1c0ffee4b1c0ffee4b1c0ffee4b1c0ffee4b1c0ffee0";
const MESSAGE = stepUpMessage("approve", "acme/ops", 12, HASH);

let dir: string;
let key: SkKey;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "breakglass-sk-"));
  key = skKey();
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** The real `ssh-keygen -Y verify` against an allowed_signers file holding the sk key. */
function opensshVerifies(signature: string, message: string): { ok: boolean; output: string } {
  const id = Math.random().toString(36).slice(2);
  writeFileSync(join(dir, `allowed-${id}`), `grace ${key.line}\n`);
  writeFileSync(join(dir, `sig-${id}`), signature);
  const r = spawnSync(
    "ssh-keygen",
    [
      "-Y",
      "verify",
      "-f",
      join(dir, `allowed-${id}`),
      "-I",
      "grace",
      "-n",
      STEP_UP_NAMESPACE,
      "-s",
      join(dir, `sig-${id}`),
    ],
    { input: message, encoding: "utf8" },
  );
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}`.trim() };
}

describe("sk-ssh-ed25519 signatures (constructed per PROTOCOL.u2f / PROTOCOL.sshsig, not from a device)", () => {
  it("the constructed fixture is what OpenSSH itself accepts: ssh-keygen -Y verify says Good, with user presence set", () => {
    const sig = skSign(key, MESSAGE, { flags: SK_USER_PRESENT });
    const openssh = opensshVerifies(sig, MESSAGE);
    assert.ok(openssh.ok, openssh.output);
    assert.match(openssh.output, /Good "breakglass" signature for grace with ED25519-SK key/);
  });

  it("our verifier accepts it, reports the hardware key type, flags and counter", () => {
    const verified = verifySshSignature(
      skSign(key, MESSAGE, { flags: SK_USER_PRESENT | SK_USER_VERIFIED, counter: 4242 }),
      MESSAGE,
      STEP_UP_NAMESPACE,
    );
    assert.ok(verified.ok, JSON.stringify(verified));
    assert.equal(verified.value.key.type, SK_ED25519);
    assert.equal(verified.value.key.hardware, true);
    assert.equal(verified.value.key.application, "ssh:");
    assert.equal(verified.value.flags, SK_USER_PRESENT | SK_USER_VERIFIED);
    assert.equal(verified.value.counter, 4242);
    const fingerprint = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", "-"], {
      input: `${key.line}\n`,
      encoding: "utf8",
    }).split(/\s+/)[1];
    assert.equal(verified.value.key.fingerprint, fingerprint);
  });

  it("a step-up that requires a hardware key accepts the sk signature with user presence, and records flags and counter", () => {
    const body = `/approve\n\n${skSign(key, MESSAGE, { flags: SK_USER_PRESENT, counter: 9 })}`;
    const checked = checkStepUp({
      stepUp: { methods: ["ssh-signature"], require_hardware_key: true },
      kind: "approve",
      body,
      repository: "acme/ops",
      issue: 12,
      hash: HASH,
      signingKeys: [key.line],
      login: "grace",
    });
    assert.ok(checked.ok, JSON.stringify(checked));
    assert.equal(checked.value?.key_type, SK_ED25519);
    assert.equal(checked.value?.flags, SK_USER_PRESENT);
    assert.equal(checked.value?.counter, 9);
  });

  it("user presence cleared (the key signed without a touch) is refused by the step-up, hardware required or not, though the signature itself is valid", () => {
    const sig = skSign(key, MESSAGE, { flags: 0 });
    // `ssh-keygen -Y verify` checks only the cryptography here (it accepts the untouched signature),
    // so the presence rule is ours to enforce: the flags are signed, and we read them.
    assert.ok(opensshVerifies(sig, MESSAGE).ok, "the signature is cryptographically valid");
    assert.ok(verifySshSignature(sig, MESSAGE, STEP_UP_NAMESPACE).ok);
    for (const require_hardware_key of [true, false]) {
      const checked = checkStepUp({
        stepUp: { methods: ["ssh-signature"], require_hardware_key },
        kind: "approve",
        body: `/approve\n\n${sig}`,
        repository: "acme/ops",
        issue: 12,
        hash: HASH,
        signingKeys: [key.line],
        login: "grace",
      });
      assert.ok(!checked.ok, "refused");
      assert.equal(checked.error.code, "step_up_bad_signature");
      assert.match(checked.error.message, /without user presence/);
    }
    // User verification (a PIN) without presence is still no touch.
    const uvOnly = checkStepUp({
      stepUp: { methods: ["ssh-signature"], require_hardware_key: true },
      kind: "approve",
      body: skSign(key, MESSAGE, { flags: SK_USER_VERIFIED }),
      repository: "acme/ops",
      issue: 12,
      hash: HASH,
      signingKeys: [key.line],
      login: "grace",
    });
    assert.ok(!uvOnly.ok);
  });

  it("a signature whose authenticator data names another application, or whose flags were flipped afterwards, does not verify", () => {
    const otherApp = skSign(key, MESSAGE, { flags: SK_USER_PRESENT, application: "ssh:other" });
    assert.deepEqual(verifySshSignature(otherApp, MESSAGE, STEP_UP_NAMESPACE), {
      ok: false,
      error: "bad_signature",
    });
    // Set the user-present bit on a signature made without it: the flags are signed, so it fails.
    const unsigned = skSign(key, MESSAGE, { flags: 0 });
    const raw = Buffer.from(unsigned.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, ""), "base64");
    raw[raw.length - 5] = SK_USER_PRESENT;
    const forged = `-----BEGIN SSH SIGNATURE-----\n${raw.toString("base64")}\n-----END SSH SIGNATURE-----\n`;
    assert.deepEqual(verifySshSignature(forged, MESSAGE, STEP_UP_NAMESPACE), {
      ok: false,
      error: "bad_signature",
    });
    assert.equal(opensshVerifies(forged, MESSAGE).ok, false);
  });
});
