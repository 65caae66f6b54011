/**
 * `breakglass audit verify` re-verifies step-up proofs offline. A record signed by the app's key whose
 * SSH signature does not match the request it approves (a bug, a compromised app writing a made-up
 * proof, a proof lifted from another request) breaks the chain at that entry.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { verifyChainRecords } from "../../src/audit/verify-records.ts";
import { appendEntry, createSigner, generateAuditKey, type SignedEntry } from "../../src/core/audit-chain.ts";
import { fingerprintOf, parsePublicKeyLine } from "../../src/core/sshsig.ts";
import { stepUpMessage } from "../../src/core/step-up.ts";

const REPO = "acme/ops";
const HASH = "a".repeat(64);
let dir: string;
let fingerprint: string;

function signFor(message: string): string {
  const file = join(dir, `m${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, message);
  execFileSync("ssh-keygen", ["-Y", "sign", "-n", "breakglass", "-f", join(dir, "k"), file], {
    stdio: "ignore",
  });
  return readFileSync(`${file}.sig`, "utf8");
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), "breakglass-proofs-"));
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "k")]);
  const key = parsePublicKeyLine(readFileSync(join(dir, "k.pub"), "utf8"));
  assert.ok(key.ok);
  fingerprint = fingerprintOf(key.value.blob);
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function chainWith(signature: string, recordedFingerprint = fingerprint) {
  const key = await generateAuditKey();
  const signer = createSigner(key.privateKey, key.kid);
  const chain: SignedEntry[] = [];
  const at = "2026-11-24T09:00:00.000Z";
  chain.push(
    await appendEntry(
      chain,
      {
        at,
        repo: REPO,
        issue: 7,
        id: "requested",
        event: { type: "requested", actor: "dave", hash: HASH } as never,
      },
      signer,
    ),
  );
  chain.push(
    await appendEntry(
      chain,
      {
        at,
        repo: REPO,
        issue: 7,
        id: "comment:1",
        event: {
          type: "approved",
          actor: "grace",
          hash: HASH,
          via: "codeowner",
          step_up: {
            method: "ssh-signature",
            key_type: "ssh-ed25519",
            key_fingerprint: recordedFingerprint,
            signature,
          },
        } as never,
      },
      signer,
    ),
  );
  return verifyChainRecords(
    chain.map((e) => ({ repo: REPO, issue: 7, jws: e.jws })),
    { keys: [key.publicJwk] },
  );
}

describe("step-up proofs in audit verify", () => {
  it("a genuine proof over this request verifies and is counted", async () => {
    const report = await chainWith(signFor(stepUpMessage("approve", REPO, 7, HASH)));
    assert.equal(report.ok, true, JSON.stringify(report.firstBroken));
    assert.deepEqual(report.chains[0]!.notes, [
      "1 step-up proof(s) (SSH signatures or WebAuthn assertions over the request) re-verified",
    ]);
  });
  it("a proof over another issue breaks the chain at that entry", async () => {
    const report = await chainWith(signFor(stepUpMessage("approve", REPO, 8, HASH)));
    assert.equal(report.ok, false);
    assert.equal(report.firstBroken?.break?.index, 1);
    assert.match(
      report.firstBroken!.break!.reason,
      /step-up proof of @grace's approval fails: its SSH signature does not verify/,
    );
  });
  it("a proof whose recorded key is not the one that signed breaks the chain", async () => {
    const report = await chainWith(signFor(stepUpMessage("approve", REPO, 7, HASH)), "SHA256:somebodyelse");
    assert.equal(report.ok, false);
    assert.match(report.firstBroken!.break!.reason, /not the recorded SHA256:somebodyelse/);
  });
  it("a mangled signature breaks the chain", async () => {
    const good = signFor(stepUpMessage("approve", REPO, 7, HASH));
    const report = await chainWith(
      good.replace(/[A-Za-z](?=[A-Za-z0-9+/=]*\n-----END)/, (c) => (c === "A" ? "B" : "A")),
    );
    assert.equal(report.ok, false);
  });
});

describe("step-up proofs of extension approvals in audit verify", () => {
  const EXTENSION = "e".repeat(64);
  async function extensionChain(signature: string) {
    const key = await generateAuditKey();
    const signer = createSigner(key.privateKey, key.kid);
    const chain: SignedEntry[] = [];
    const at = "2026-11-24T09:00:00.000Z";
    chain.push(
      await appendEntry(
        chain,
        {
          at,
          repo: REPO,
          issue: 7,
          id: "requested",
          event: { type: "requested", actor: "dave", hash: HASH } as never,
        },
        signer,
      ),
    );
    chain.push(
      await appendEntry(
        chain,
        {
          at,
          repo: REPO,
          issue: 7,
          id: "comment:2",
          event: {
            type: "extension_requested",
            actor: "dave",
            seconds: 1800,
            reason: "still rolling back",
            hash: EXTENSION,
          } as never,
        },
        signer,
      ),
    );
    const step_up = {
      method: "ssh-signature",
      key_type: "ssh-ed25519",
      key_fingerprint: fingerprint,
      signature,
    };
    chain.push(
      await appendEntry(
        chain,
        {
          at,
          repo: REPO,
          issue: 7,
          id: "comment:3",
          event: { type: "extension_approved", actor: "grace", hash: EXTENSION, step_up } as never,
        },
        signer,
      ),
    );
    return verifyChainRecords(
      chain.map((e) => ({ repo: REPO, issue: 7, jws: e.jws })),
      { keys: [key.publicJwk] },
    );
  }
  it("a proof over this extension (breakglass-extend, the extension's hash) verifies and is counted", async () => {
    const report = await extensionChain(signFor(stepUpMessage("extend", REPO, 7, EXTENSION)));
    assert.equal(report.ok, true, JSON.stringify(report.firstBroken));
    assert.deepEqual(report.chains[0]!.notes, [
      "1 step-up proof(s) (SSH signatures or WebAuthn assertions over the request) re-verified",
    ]);
  });
  it("a genuine signature over the request itself, recorded as the extension's proof, breaks the chain", async () => {
    const report = await extensionChain(signFor(stepUpMessage("approve", REPO, 7, HASH)));
    assert.equal(report.ok, false);
    assert.equal(report.firstBroken?.break?.index, 2);
    assert.match(
      report.firstBroken!.break!.reason,
      /@grace's approval of an extension fails: its SSH signature does not verify/,
    );
  });
  it("a proof over another extension, or the same extension on another issue, breaks the chain", async () => {
    assert.equal((await extensionChain(signFor(stepUpMessage("extend", REPO, 7, "f".repeat(64))))).ok, false);
    assert.equal((await extensionChain(signFor(stepUpMessage("extend", REPO, 8, EXTENSION)))).ok, false);
  });
});
