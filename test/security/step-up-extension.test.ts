/**
 * Attack catalogue A180–A184, step-up for extensions: on a policy whose approvals require an SSH
 * signature, approving `/extend` of a live grant needs one too, over the extension itself
 * (`breakglass-extend\n<owner>/<repo>#<N>\n<extension hash>\n`). A stolen session must not stretch a
 * grant that only a signed approval could start. Signatures are made by the real `ssh-keygen` through
 * the real `breakglass approve` command (which signs the extension when one is waiting).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { checkStepUpProofs } from "../../src/audit/step-up-proofs.ts";
import { run as audit } from "../../src/cli/commands/audit.ts";
import { command } from "../../src/cli/commands/approve.ts";
import type { CliIO } from "../../src/cli/io.ts";
import type { AuditEntry } from "../../src/core/audit-chain.ts";
import type { LifecycleEvent } from "../../src/core/lifecycle-events.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import { allComments, approve, historyOf, openRequest, owner, refusalFor, repo, say } from "./attack-kit.ts";
import { extendableProvider } from "../support/extendable-provider.ts";

const EXTENDABLE = "model-extendable";
// The guardrail policy (approvals.step_up: ssh-signature, extend.requires_approval: true) on a provider
// that can extend a credential in place.
const policy = readFileSync("policies/model-guardrail-override.yml", "utf8")
  .replace("provider: jwt", "provider: postgres")
  .replace(/settings:\n(?: {6}.*\n)+/, "settings:\n      grant_role: bg_model_ops\n");
const form = { resource: EXTENDABLE, role: "override", duration: "30m", severity: "high" } as const;
const MIN = 60_000;

const { provider, extensions } = extendableProvider();

let sb: Sandbox;
before(async () => {
  sb = await startSandbox({
    files: { [`policies/${EXTENDABLE}.yml`]: policy },
    providers: { postgres: provider },
  });
});
after(() => sb.close());

/** A live grant (approved with a signature by grace) whose requester asked for 30 minutes more. */
async function grantWithExtension(requester: string): Promise<{ n: number; expires: number }> {
  const n = await openRequest(sb, requester, form);
  await approve(sb, "grace", n);
  const run = sb.runs.find((r) => r.issue === n);
  assert.ok(run, `the grant workflow ran for #${n}`);
  assert.equal((await run.result).exitCode, 0);
  await say(sb, requester, n, "/extend 30m the rollback is still running");
  const { state } = await historyOf(sb, n);
  assert.equal(state.status, "active");
  assert.ok(state.extension, "an extension is waiting");
  return { n, expires: Date.parse(state.grant!.expires_at) };
}

async function assertNotExtended(n: number, expires: number): Promise<void> {
  const h = await historyOf(sb, n);
  assert.equal(Date.parse(h.state.grant!.expires_at), expires, "the grant's expiry did not move");
  assert.ok(h.state.extension, "the extension is still waiting");
  assert.ok(
    !h.events.some((e) => e.type === "extension_approved" || e.type === "extended"),
    "no extension record",
  );
  assert.ok(!extensions.some((e) => e.id === `ext_${n}`), "the provider was never asked to extend");
}

/** `breakglass approve --dry-run` as `login`: the signed comment it would post. */
async function signedComment(login: string, n: number): Promise<string> {
  let out = "";
  let err = "";
  const io: CliIO = {
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    readStdin: async () => "",
    cwd: process.cwd(),
    env: {
      GITHUB_TOKEN: sb.emulator.userToken(login),
      GITHUB_API_URL: sb.emulator.apiUrl,
      HOME: "/nonexistent",
    },
  };
  const code = await command("approve")(
    [
      `${owner}/${repo}#${n}`,
      "--key",
      await sb.signingKeyOf(login),
      "--jwks",
      `${sb.app.url}/breakglass/jwks.json`,
      "--dry-run",
    ],
    io,
  );
  assert.equal(code, 0, err);
  assert.match(err, /Approving the extension of the live grant/, "the command says it signs the extension");
  return out;
}

test("A180 a plain /approve of a pending extension on a step-up policy is refused (step_up_required); nothing moves", async () => {
  const { n, expires } = await grantWithExtension("dave");
  await say(sb, "heidi", n, "/approve");
  assert.match(await refusalFor(sb, n, "heidi", "step_up_required"), /approve the extension/);
  await assertNotExtended(n, expires);
});

test("A181 the approver's signed approval of the request itself, posted again, does not approve the extension (step_up_wrong_request)", async () => {
  const { n, expires } = await grantWithExtension("rita");
  const original = (await allComments(sb, n)).find(
    (c) => c.user?.login === "grace" && (c.body ?? "").includes("-----BEGIN SSH SIGNATURE-----"),
  );
  assert.ok(original?.body, "grace's signed approval of the request");
  await say(sb, "grace", n, original.body);
  assert.match(
    await refusalFor(sb, n, "grace", "step_up_wrong_request"),
    /approval of the request itself, not for the extension waiting now/,
  );
  await assertNotExtended(n, expires);
});

test("A182 a signature for another issue's extension, copied onto this one, is refused (step_up_wrong_request)", async () => {
  const a = await grantWithExtension("ivan");
  const b = await grantWithExtension("olga");
  const forA = await signedComment("heidi", a.n);
  assert.match(forA, new RegExp(`^Signed: breakglass-extend ${owner}/${repo}#${a.n} [0-9a-f]{64}$`, "m"));
  await say(sb, "heidi", b.n, forA);
  assert.match(
    await refusalFor(sb, b.n, "heidi", "step_up_wrong_request"),
    new RegExp(`for ${owner}/${repo}#\u200b?${a.n}, not for the extension`),
  );
  await assertNotExtended(b.n, b.expires);
  await assertNotExtended(a.n, a.expires);
});

test("A183 a signature over this extension by the approver's signing key extends; the record keeps the proof; audit verify re-checks it", async () => {
  const { n, expires } = await grantWithExtension("erin");
  await approve(sb, "heidi", n);
  const h = await historyOf(sb, n);
  assert.equal(Date.parse(h.state.grant!.expires_at), expires + 30 * MIN);
  assert.equal(h.state.extension, null);
  const record = h.events.find((e) => e.type === "extension_approved");
  assert.ok(
    record?.type === "extension_approved" && record.step_up?.method === "ssh-signature",
    "the signed record holds the step-up",
  );
  assert.equal(record.actor, "heidi");
  assert.match(record.step_up.signature, /^-----BEGIN SSH SIGNATURE-----/);

  // Offline: both proofs (the approval, the extension) re-verify from the records alone.
  const entries: AuditEntry[] = h.chain.map((e) => e.entry);
  assert.deepEqual(await checkStepUpProofs(entries, { repo: sb.repository, issue: n }), {
    checked: 2,
    breaks: [],
  });
  let out = "";
  const io: CliIO = {
    stdout: (t) => void (out += t),
    stderr: (t) => void (out += t),
    readStdin: async () => "",
    cwd: process.cwd(),
    env: { GITHUB_TOKEN: sb.emulator.userToken("sam"), GITHUB_API_URL: sb.emulator.apiUrl },
  };
  assert.equal(
    await audit(["verify", "--repo", sb.repository, "--jwks", `${sb.app.url}/breakglass/jwks.json`], io),
    0,
    out,
  );

  // A184: the extension's proof swapped for the approval's (a genuine signature, over the request) fails.
  const approval = entries.find((e) => (e.event as LifecycleEvent).type === "approved")!.event as Extract<
    LifecycleEvent,
    { type: "approved" }
  >;
  const tampered = entries.map((e) => {
    const event = e.event as LifecycleEvent;
    return event.type === "extension_approved" ? { ...e, event: { ...event, step_up: approval.step_up } } : e;
  });
  const checked = await checkStepUpProofs(tampered, { repo: sb.repository, issue: n });
  assert.equal(checked.breaks.length, 1);
  assert.match(
    checked.breaks[0]!.reason,
    /@heidi's approval of an extension fails: its SSH signature does not verify/,
  );
});
