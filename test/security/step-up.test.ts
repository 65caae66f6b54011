/**
 * Attack catalogue, step-up authentication: a policy that requires an SSH signature over the exact
 * request refuses a plain `/approve` (a stolen session, a leaked token), and accepts only a signature
 * by one of the approver's GitHub *signing* keys over this repository, issue and request hash. The
 * signatures are made by the real `ssh-keygen` through the real `breakglass approve` command, and
 * posted as the approver's comment to the real app.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { command } from "../../src/cli/commands/approve.ts";
import { run as audit } from "../../src/cli/commands/audit.ts";
import type { CliIO } from "../../src/cli/io.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import { requestFormBody } from "../../src/sandbox/request-body.ts";
import { signedLine, stepUpMessage } from "../../src/core/step-up.ts";
import { SK_ED25519, skKey, skSign } from "../support/sk-signature.ts";
import {
  appTexts,
  assertNothingGranted,
  historyOf,
  openRequest,
  owner,
  refusalFor,
  repo,
  say,
} from "./attack-kit.ts";

let sb: Sandbox;
let dir: string;
const guardrail = {
  resource: "model-guardrail-override",
  role: "override",
  duration: "30m",
  severity: "high",
} as const;
const rollback = { resource: "model-rollback", role: "rollback", duration: "30m", severity: "high" } as const;

function keygen(name: string): string {
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", join(dir, name)]);
  return readFileSync(join(dir, `${name}.pub`), "utf8").trim();
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "breakglass-step-up-"));
  const grace = keygen("grace");
  const heidi = keygen("heidi");
  keygen("unregistered");
  const withStepUp = (path: string, lines: string) =>
    readFileSync(path, "utf8").replace(/^approvals:\n/m, `approvals:\n${lines}`);
  sb = await startSandbox({
    runWorkflows: false,
    signingKeys: { grace: [grace], heidi: [heidi] },
    files: {
      // policies/model-guardrail-override.yml itself requires step_up: ssh-signature.
      "policies/model-rollback.yml": withStepUp(
        "policies/model-rollback.yml",
        "  step_up: [ssh-signature]\n  require_hardware_key: true\n",
      ),
    },
  });
});
after(async () => {
  await sb.close();
  rmSync(dir, { recursive: true, force: true });
});

function io(login: string): CliIO & { out: string; err: string } {
  const x = {
    out: "",
    err: "",
    stdout: (t: string) => void (x.out += t),
    stderr: (t: string) => void (x.err += t),
    readStdin: async () => "",
    cwd: dir,
    env: { GITHUB_TOKEN: sb.emulator.userToken(login), GITHUB_API_URL: sb.emulator.apiUrl, HOME: dir },
  };
  return x;
}
/** `breakglass approve owner/repo#N --key K` as `login`; with dryRun the comment is returned, not posted. */
async function approveSigned(login: string, n: number, key: string, dryRun = false): Promise<string> {
  const out = io(login);
  const code = await command("approve")(
    [
      `${owner}/${repo}#${n}`,
      "--key",
      join(dir, key),
      "--jwks",
      `${sb.app.url}/breakglass/jwks.json`,
      ...(dryRun ? ["--dry-run"] : []),
    ],
    out,
  );
  assert.equal(code, 0, out.err);
  await sb.settle();
  return out.out;
}
const lastApproval = async (n: number) =>
  (await historyOf(sb, n)).events.filter((e) => e.type === "approved").at(-1);

test("S01 a plain /approve is refused where the policy requires step-up (step_up_required), and says how to sign", async () => {
  const n = await openRequest(sb, "dave", guardrail);
  await say(sb, "grace", n, "/approve");
  const message = await refusalFor(sb, n, "grace", "step_up_required");
  // (The refusal is rendered escaped: no issue autolink, no mention.)
  assert.match(message, new RegExp(`breakglass approve ${owner}/${repo}#\u200b?${n}`));
  assert.match(message, /Key type: Signing Key/);
  await assertNothingGranted(sb, n);
  assert.equal((await historyOf(sb, n)).state.approvals.length, 0);
});

test("S02 an SSH signature by the approver's registered signing key approves, and the record keeps the proof", async () => {
  const n = await openRequest(sb, "rita", guardrail);
  await approveSigned("grace", n, "grace");
  const h = await historyOf(sb, n);
  assert.equal(h.state.status, "approved");
  const approval = await lastApproval(n);
  assert.ok(
    approval?.type === "approved" && approval.step_up?.method === "ssh-signature",
    "the signed record holds the step-up",
  );
  const fingerprint = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", join(dir, "grace.pub")], {
    encoding: "utf8",
  }).split(/\s+/)[1]!;
  assert.equal(approval.step_up.key_fingerprint, fingerprint);
  assert.equal(approval.step_up.key_type, "ssh-ed25519");
  assert.match(approval.step_up.signature, /^-----BEGIN SSH SIGNATURE-----/);
  assert.ok(
    (await appTexts(sb, n)).some((t) => t.includes("approved") && t.includes(fingerprint)),
    "the approval comment names the key",
  );
  assert.equal(approval.note, undefined, "the signature block is proof, not a note");

  // Auditors re-verify the step-up offline, from the exported records alone.
  const out = io("sam");
  assert.equal(
    await audit(["verify", "--repo", sb.repository, "--jwks", `${sb.app.url}/breakglass/jwks.json`], out),
    0,
    out.out + out.err,
  );
  assert.match(out.out, /step-up/);
});

test("S03 a key that is not the approver's own signing key is refused (step_up_unknown_key): another person's, or one never added to GitHub", async () => {
  const n = await openRequest(sb, "ivan", guardrail);
  await approveSigned("grace", n, "heidi");
  assert.match(
    await refusalFor(sb, n, "grace", "step_up_unknown_key"),
    /not one of @\u200b?grace's SSH signing keys/,
  );
  await approveSigned("grace", n, "unregistered");
  assert.equal((await historyOf(sb, n)).state.approvals.length, 0);
  await assertNothingGranted(sb, n);
});

test("S04 a signature made for another issue, copied onto this one, is refused (step_up_wrong_request)", async () => {
  const signedFor = await openRequest(sb, "olga", guardrail);
  const target = await openRequest(sb, "carol", guardrail);
  const body = await approveSigned("grace", signedFor, "grace", true);
  await say(sb, "grace", target, body);
  assert.match(
    await refusalFor(sb, target, "grace", "step_up_wrong_request"),
    new RegExp(`for ${owner}/${repo}#\u200b?${signedFor}, not for this request`),
  );
  await assertNothingGranted(sb, target);
});

test("S05 a signature made before the requester edited the request is refused (step_up_wrong_request)", async () => {
  const n = await openRequest(sb, "erin", guardrail);
  const body = await approveSigned("heidi", n, "heidi", true);
  await sb.as("erin").rest.issues.update({
    owner,
    repo,
    issue_number: n,
    body: requestFormBody({ ...guardrail, duration: "2h" }),
  });
  await sb.settle();
  await say(sb, "heidi", n, body);
  assert.match(await refusalFor(sb, n, "heidi", "step_up_wrong_request"), /earlier version of this request/);
  assert.equal((await historyOf(sb, n)).state.approvals.length, 0);
});

test("S06 a software key where the policy requires a hardware security key is refused (step_up_not_hardware)", async () => {
  const n = await openRequest(sb, "dave", rollback);
  await approveSigned("grace", n, "grace");
  assert.match(await refusalFor(sb, n, "grace", "step_up_not_hardware"), /hardware security keys/);
  await assertNothingGranted(sb, n);
});

/** A comment as `breakglass approve` writes it, around a security-key signature CONSTRUCTED per PROTOCOL.u2f (no device here). */
async function skApprovalBody(n: number, key: ReturnType<typeof skKey>, flags: number): Promise<string> {
  const hash = (await historyOf(sb, n)).state.hash!;
  return [
    "/approve",
    "",
    signedLine("approve", sb.repository, n, hash),
    "",
    skSign(key, stepUpMessage("approve", sb.repository, n, hash), { flags, counter: 31 }),
  ].join("\n");
}

test("S10 where a hardware key is required, a security-key (sk-ssh-ed25519) signature with user presence approves, and audit verify re-checks it", async () => {
  const key = skKey();
  sb.emulator.addSigningKey("grace", key.line, "YubiKey (constructed fixture)");
  try {
    const n = await openRequest(sb, "olga", rollback);
    await say(sb, "grace", n, await skApprovalBody(n, key, 0x01));
    const h = await historyOf(sb, n);
    assert.equal(h.state.status, "approved");
    const approval = await lastApproval(n);
    assert.ok(approval?.type === "approved" && approval.step_up?.method === "ssh-signature");
    assert.equal(approval.step_up.key_type, SK_ED25519);
    assert.equal(approval.step_up.flags, 0x01);
    assert.equal(approval.step_up.counter, 31);
    assert.ok(
      (await appTexts(sb, n)).some((t) => t.includes("hardware security key")),
      "the approval names a hardware key",
    );
    const out = io("sam");
    assert.equal(
      await audit(["verify", "--repo", sb.repository, "--jwks", `${sb.app.url}/breakglass/jwks.json`], out),
      0,
      out.out + out.err,
    );
  } finally {
    sb.emulator.removeSigningKey("grace", key.line);
  }
});

test("S11 a security-key signature without user presence (no touch: malware could have had the key sign) is refused (step_up_bad_signature)", async () => {
  const key = skKey();
  sb.emulator.addSigningKey("heidi", key.line);
  try {
    const n = await openRequest(sb, "ivan", rollback);
    await say(sb, "heidi", n, await skApprovalBody(n, key, 0x00));
    assert.match(await refusalFor(sb, n, "heidi", "step_up_bad_signature"), /without user presence/);
    await assertNothingGranted(sb, n);
    // The same key on the guardrail policy (no hardware requirement) is refused the same way.
    const g = await openRequest(sb, "ivan", guardrail);
    await say(sb, "heidi", g, await skApprovalBody(g, key, 0x00));
    await refusalFor(sb, g, "heidi", "step_up_bad_signature");
    await assertNothingGranted(sb, g);
  } finally {
    sb.emulator.removeSigningKey("heidi", key.line);
  }
});

test("S12 a policy whose only step-up is webauthn refuses every comment approval, signed or not (step_up_required), and says why", async () => {
  const original = sb.emulator.state.files?.["policies/model-rollback.yml"];
  assert.ok(original);
  sb.emulator.setFile(
    "policies/model-rollback.yml",
    original.replace(/^ {2}step_up: .*\n( {2}require_hardware_key: .*\n)?/m, "  step_up: webauthn\n"),
  );
  try {
    const n = await openRequest(sb, "rita", rollback);
    await say(sb, "grace", n, "/approve");
    assert.match(await refusalFor(sb, n, "grace", "step_up_required"), /only a passkey/);
    await approveSigned("heidi", n, "heidi");
    await refusalFor(sb, n, "heidi", "step_up_required");
    assert.equal((await historyOf(sb, n)).state.approvals.length, 0);
    await assertNothingGranted(sb, n);
  } finally {
    sb.emulator.setFile("policies/model-rollback.yml", original);
  }
});
