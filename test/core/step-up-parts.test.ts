/**
 * Step-up over parts of a request naming several resources (core/step-up.ts): the signed message
 * binds each part by resource name and that part's hash; a part's approval takes a signature only if
 * it binds that part at its current hash (A264), and the offline recheck holds a record's proof to
 * the same rule. Real `ssh-keygen` signatures.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  checkStepUp,
  recheckStepUpProof,
  signedLine,
  stepUpMessage,
  withoutSignature,
  type SignedTarget,
  type SshSignatureProof,
  type StepUpKind,
} from "../../src/core/step-up.ts";

const REPO = "acme/ops";
const A = "a".repeat(64);
const B = "b".repeat(64);
const BOTH = [
  { resource: "alpha", hash: A },
  { resource: "beta", hash: B },
];
let dir: string;
let keyLine: string;

function sign(message: string): string {
  const file = join(dir, `m${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, message);
  execFileSync("ssh-keygen", ["-Y", "sign", "-n", "breakglass", "-f", join(dir, "k"), file], {
    stdio: "ignore",
  });
  return readFileSync(`${file}.sig`, "utf8");
}

/** A comment as `breakglass approve` writes it: the command, the signed line, the signature. */
const comment = (target: SignedTarget, kind: StepUpKind = "approve", line = target) =>
  `/approve\n\n${signedLine(kind, REPO, 7, line)}\n\n${sign(stepUpMessage(kind, REPO, 7, target))}`;

const check = (body: string, part: string | undefined, hash: string, kind: StepUpKind = "approve") =>
  checkStepUp({
    stepUp: { methods: ["ssh-signature"], require_hardware_key: false },
    kind,
    body,
    repository: REPO,
    issue: 7,
    hash,
    ...(part !== undefined ? { part } : {}),
    signingKeys: [keyLine],
    login: "grace",
  });

before(() => {
  dir = mkdtempSync(join(tmpdir(), "breakglass-parts-"));
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "k")]);
  keyLine = readFileSync(join(dir, "k.pub"), "utf8").trim();
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe("step-up over parts of a request naming several resources", () => {
  it("the message names each part with its hash; one resource's message is unchanged", () => {
    assert.equal(stepUpMessage("approve", REPO, 7, A), `breakglass-approve\n${REPO}#7\n${A}\n`);
    assert.equal(
      stepUpMessage("approve", REPO, 7, BOTH),
      `breakglass-approve\n${REPO}#7\nalpha ${A}\nbeta ${B}\n`,
    );
    assert.equal(
      signedLine("extend", REPO, 7, BOTH),
      `Signed: breakglass-extend ${REPO}#7 alpha=${A} beta=${B}`,
    );
  });

  it("one signature over both parts approves each, and its proof lists what it covers", () => {
    const body = comment(BOTH);
    for (const [part, hash] of [
      ["alpha", A],
      ["beta", B],
    ] as const) {
      const checked = check(body, part, hash);
      assert.ok(checked.ok, JSON.stringify(checked));
      assert.deepEqual(checked.value?.parts, BOTH);
      assert.equal(recheckStepUpProof(checked.value!, "approve", REPO, 7, hash, part), null);
    }
    assert.equal(withoutSignature(body), "/approve");
  });

  it("A264 a signature for part alpha is refused for part beta, even with its signed line rewritten to name beta", () => {
    const forAlpha = comment([{ resource: "alpha", hash: A }]);
    const refused = check(forAlpha, "beta", B);
    assert.ok(!refused.ok);
    assert.equal(refused.error.code, "step_up_wrong_request");
    assert.match(refused.error.message, /`alpha` only, not for `beta`/);
    const forged = forAlpha.replace(`alpha=${A}`, `beta=${B}`);
    const bad = check(forged, "beta", B);
    assert.ok(!bad.ok);
    assert.equal(bad.error.code, "step_up_bad_signature");
    // Named beta, but at another hash (an earlier version of beta's content).
    const stale = check(comment([{ resource: "beta", hash: A }]), "beta", B);
    assert.ok(!stale.ok);
    assert.match(stale.error.message, /an earlier version of `beta`/);
  });

  it("a signature over the hash alone (one resource's message) does not approve a part", () => {
    const refused = check(comment(B), "beta", B);
    assert.ok(!refused.ok);
    assert.equal(refused.error.code, "step_up_wrong_request");
    assert.match(refused.error.message, /a hash alone, naming no resource/);
  });

  it("a part signature does not approve a one-resource request, nor an approval an extension", () => {
    const onOne = check(comment([{ resource: "alpha", hash: A }]), undefined, A);
    assert.ok(!onOne.ok);
    assert.equal(onOne.error.code, "step_up_wrong_request");
    const kind = check(comment([{ resource: "alpha", hash: A }], "approve"), "alpha", A, "extend");
    assert.ok(!kind.ok);
    assert.equal(kind.error.code, "step_up_wrong_request");
  });

  it("offline, a proof must cover the record's part at the record's hash", () => {
    const checked = check(comment(BOTH), "alpha", A);
    assert.ok(checked.ok);
    const proof = checked.value!;
    assert.match(recheckStepUpProof(proof, "approve", REPO, 7, A, "gamma") ?? "", /does not cover `gamma`/);
    assert.match(recheckStepUpProof(proof, "approve", REPO, 7, B, "alpha") ?? "", /does not cover `alpha`/);
    assert.match(recheckStepUpProof(proof, "approve", REPO, 7, A) ?? "", /record is the request's own/);
    // The recorded list changed to claim a part it never covered: the signature no longer verifies.
    const widened: SshSignatureProof = { ...proof, parts: [...BOTH, { resource: "gamma", hash: A }] };
    assert.match(recheckStepUpProof(widened, "approve", REPO, 7, A, "gamma") ?? "", /does not verify/);
    const { parts: _parts, ...bare } = proof;
    assert.match(recheckStepUpProof(bare, "approve", REPO, 7, A, "alpha") ?? "", /binds no resource/);
  });
});
