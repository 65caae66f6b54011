/**
 * SSHSIG verification against signatures made by the real `ssh-keygen -Y sign` (openssh-client;
 * `.ci/run` installs it). Keys are generated fresh for each run.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fingerprintOf, parsePublicKeyLine, verifySshSignature } from "../../src/core/sshsig.ts";

let dir: string;
const MESSAGE =
  "breakglass-approve\nacme/ops#12\n4b1c0ffee4b1c0ffee4b1c0ffee4b1c0ffee4b1c0ffee4b1c0ffee4b1c0ffee0\n";

function keygen(name: string, ...args: string[]): { pub: string; fingerprint: string } {
  execFileSync("ssh-keygen", ["-q", "-N", "", "-C", name, "-f", join(dir, name), ...args]);
  const pub = readFileSync(join(dir, `${name}.pub`), "utf8").trim();
  const fingerprint = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", join(dir, `${name}.pub`)], {
    encoding: "utf8",
  }).split(/\s+/)[1]!;
  return { pub, fingerprint };
}
function sign(name: string, message: string, namespace = "breakglass", extra: string[] = []): string {
  const file = join(dir, `msg-${name}-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, message);
  execFileSync("ssh-keygen", ["-Y", "sign", "-n", namespace, "-f", join(dir, name), ...extra, file], {
    stdio: ["ignore", "ignore", "ignore"],
  });
  return readFileSync(`${file}.sig`, "utf8");
}

const keys: Record<string, { pub: string; fingerprint: string }> = {};
before(() => {
  dir = mkdtempSync(join(tmpdir(), "breakglass-sshsig-"));
  keys.ed25519 = keygen("ed25519", "-t", "ed25519");
  keys.ecdsa = keygen("ecdsa", "-t", "ecdsa", "-b", "256");
  keys.rsa = keygen("rsa", "-t", "rsa", "-b", "2048");
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe("verifySshSignature with signatures from the real ssh-keygen", () => {
  for (const type of ["ed25519", "ecdsa", "rsa"] as const) {
    it(`verifies a ${type} signature and names the key that made it`, () => {
      const verified = verifySshSignature(sign(type, MESSAGE), MESSAGE, "breakglass");
      assert.ok(verified.ok, JSON.stringify(verified));
      const listed = parsePublicKeyLine(keys[type]!.pub);
      assert.ok(listed.ok);
      assert.ok(
        verified.value.key.blob.equals(listed.value.blob),
        "the embedded key is the signer's public key",
      );
      assert.equal(
        verified.value.key.fingerprint,
        keys[type]!.fingerprint,
        "fingerprint as ssh-keygen -l prints it",
      );
      assert.equal(verified.value.key.hardware, false);
    });
  }

  it("verifies rsa-sha2-256 as well as ssh-keygen's default rsa-sha2-512", () => {
    const armored = sign("rsa", MESSAGE, "breakglass", ["-O", "hashalg=sha256"]);
    assert.ok(verifySshSignature(armored, MESSAGE, "breakglass").ok);
  });

  it("refuses the signature for another message (another issue, another request hash)", () => {
    const armored = sign("ed25519", MESSAGE);
    assert.deepEqual(verifySshSignature(armored, MESSAGE.replace("#12", "#13"), "breakglass"), {
      ok: false,
      error: "bad_signature",
    });
    assert.deepEqual(verifySshSignature(armored, MESSAGE.replace("4b1c", "5b1c"), "breakglass"), {
      ok: false,
      error: "bad_signature",
    });
  });

  it("refuses a signature made in another namespace (e.g. a git commit signature)", () => {
    const armored = sign("ecdsa", MESSAGE, "git");
    assert.deepEqual(verifySshSignature(armored, MESSAGE, "breakglass"), {
      ok: false,
      error: "wrong_namespace",
    });
  });

  it("refuses a signature whose embedded key was swapped for another (the signature no longer verifies)", () => {
    const armored = sign("ed25519", MESSAGE);
    const other = parsePublicKeyLine(keygen("other", "-t", "ed25519").pub);
    assert.ok(other.ok);
    const mine = parsePublicKeyLine(keys.ed25519!.pub);
    assert.ok(mine.ok);
    const body = Buffer.from(armored.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, ""), "base64");
    const swapped = Buffer.from(
      body
        .toString("latin1")
        .replace(mine.value.blob.toString("latin1"), other.value.blob.toString("latin1")),
      "latin1",
    );
    const forged = `-----BEGIN SSH SIGNATURE-----\n${swapped.toString("base64")}\n-----END SSH SIGNATURE-----\n`;
    assert.deepEqual(verifySshSignature(forged, MESSAGE, "breakglass"), {
      ok: false,
      error: "bad_signature",
    });
  });

  it("reports garbage, truncation and unknown formats as malformed, never throws", () => {
    const armored = sign("ed25519", MESSAGE);
    const cases = [
      "",
      "/approve",
      "-----BEGIN SSH SIGNATURE-----\n!!!\n-----END SSH SIGNATURE-----",
      armored.replace(/\n[A-Za-z0-9+/=]+\n-----END/, "\n-----END"),
      `-----BEGIN SSH SIGNATURE-----\n${Buffer.from("SSHSIG\0\0\0\x02").toString("base64")}\n-----END SSH SIGNATURE-----`,
    ];
    for (const text of cases) {
      const result = verifySshSignature(text, MESSAGE, "breakglass");
      assert.equal(result.ok, false, text.slice(0, 40));
    }
  });
});

describe("parsePublicKeyLine", () => {
  it("parses the key lines GitHub lists as signing keys and fingerprints them like ssh-keygen", () => {
    for (const type of ["ed25519", "ecdsa", "rsa"] as const) {
      const parsed = parsePublicKeyLine(keys[type]!.pub);
      assert.ok(parsed.ok, type);
      assert.equal(fingerprintOf(parsed.value.blob), keys[type]!.fingerprint);
    }
  });
  it("refuses a line whose type word disagrees with its blob, and unsupported types", () => {
    const [, data] = keys.ed25519!.pub.split(" ");
    assert.equal(parsePublicKeyLine(`ssh-rsa ${data}`).ok, false);
    assert.equal(parsePublicKeyLine("ssh-dss AAAAB3NzaC1kc3MAAACBAP").ok, false);
    assert.equal(parsePublicKeyLine("not a key").ok, false);
  });
});

describe("withoutSignature", () => {
  it("leaves a comment without a signature exactly as written (an indented or quoted command stays one)", async () => {
    const { withoutSignature } = await import("../../src/core/step-up.ts");
    for (const text of ["    /approve", "> /approve", "LGTM\n/approve", "/approve  \n"])
      assert.equal(withoutSignature(text), text);
  });
  it("removes the signed line and the armored block, keeping the command and its note", async () => {
    const { withoutSignature } = await import("../../src/core/step-up.ts");
    const body = `/approve looks right\n\nSigned: breakglass-approve acme/ops#1 ${"a".repeat(64)}\n\n-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n`;
    assert.equal(withoutSignature(body), "/approve looks right");
    assert.equal(withoutSignature(`    ${body}`).startsWith("    /approve"), true, "indentation survives");
  });
});
