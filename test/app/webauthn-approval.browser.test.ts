/**
 * Passkey step-up in a real headless Chromium with CDP virtual authenticators, through the real app
 * and the emulator's Sign in with GitHub: a person registers a passkey on /breakglass/passkeys
 * (recorded in the ledger, announced), approves a request on /breakglass/approve/<owner>/<repo>/<N>
 * with an assertion whose challenge binds the request hash, and `audit verify` re-checks it offline.
 * Refused: another user's passkey, a replayed assertion. Attack IDs A188, A189 (docs/attack-catalogue.md).
 * A new passkey counts only once active (A200–A202): confirmed with an SSH signature made by the real
 * `breakglass passkey confirm` (real ssh-keygen, a GitHub signing key) pasted on the page, or after
 * its waiting period. `require_hardware_key` takes only AAGUIDs the policy lists (A203); a cloned
 * authenticator's counter is refused (A204); registering needs write access to a repository of the
 * installation (A205); a refusal on the page is said on the issue, bounded apart for approvers and
 * others (A206, A235). Hardware needs an attestation chain to a configured root (A230); activation binds
 * the passkey's public key and a nonce given only after it answered in the browser (A231); changing
 * one's passkeys once one is active needs step-up (A232); the waiting period's length is checked (A233).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium, type Browser, type BrowserContext, type CDPSession, type Page } from "playwright-core";
import { checkStepUpProofs } from "../../src/audit/step-up-proofs.ts";
import { run as passkeyCommand } from "../../src/cli/commands/passkey.ts";
import type { CliIO } from "../../src/cli/io.ts";
import type { AuditEntry } from "../../src/core/audit-chain.ts";
import type { WebAuthnProof } from "../../src/core/step-up.ts";
import { publicKeySha256, type ActivationBinding } from "../../src/core/passkey-activation.ts";
import { SESSION_COOKIE } from "../../src/app/http/dashboard/github-sign-in.ts";
import {
  readPasskeys,
  recordPasskey,
  type PasskeyEvent,
} from "../../src/app/http/passkeys/passkey-records.ts";
import type { LifecycleEvent } from "../../src/core/lifecycle-events.ts";
import { SESSION_COOKIE as GITHUB_SESSION } from "../../src/sandbox/github/oauth-web-flow.ts";
import { requestFormBody } from "../../src/sandbox/request-body.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import { appTexts, historyOf, openRequest, owner, refusalFor, repo, say } from "../security/attack-kit.ts";
import { extendableProvider } from "../support/extendable-provider.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const MISSING = "install chromium (apt-get install chromium)";
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) throw new Error(`${MISSING}: nothing at ${CHROMIUM}`);

/** The AAGUID Chromium's virtual CTAP2 authenticator attests (device/fido/virtual_ctap2_device.cc). */
const CHROMIUM_VIRTUAL_AAGUID = "01020304-0506-0708-0102-030405060708";
const WAIT_SECONDS = 2 * 3600;
// The guardrail policy with a passkey as step-up (an SSH signature still counts too), hardware keys
// only, and Chromium's virtual authenticator on its list of hardware models.
const policy = readFileSync("policies/model-guardrail-override.yml", "utf8")
  .replace(
    "step_up: ssh-signature",
    `step_up: [webauthn, ssh-signature]\n  require_hardware_key: true\n  hardware_aaguids: [${CHROMIUM_VIRTUAL_AAGUID}]`,
  )
  // More requests per person than the file allows: each case opens its own.
  .replace(
    /max_active_grants_per_user: 1\n {2}max_requests_per_user_per_day: 2/,
    "max_active_grants_per_user: 10\n  max_requests_per_user_per_day: 20",
  );
// Rollback with a passkey that must be a hardware security key of another model (a YubiKey 5 NFC).
const hardwarePolicy = readFileSync("policies/model-rollback.yml", "utf8").replace(
  /^approvals:\n/m,
  "approvals:\n  step_up: webauthn\n  require_hardware_key: true\n  hardware_aaguids: [cb69481e-8ff7-4039-93ec-0a2729a154a8]\n",
);
// The guardrail policy on a provider that extends credentials in place, so an /extend can be approved.
const EXTENDABLE = "model-extendable";
const extendablePolicy = policy
  .replace("provider: jwt", "provider: postgres")
  .replace(/settings:\n(?: {6}.*\n)+/, "settings:\n      grant_role: bg_model_ops\n");
const { provider: extendable, extensions: extended } = extendableProvider();
const rollback = { resource: "model-rollback", role: "rollback", duration: "30m", severity: "high" } as const;
const form = {
  resource: "model-guardrail-override",
  role: "override",
  duration: "30m",
  severity: "high",
} as const;

interface Person {
  login: string;
  context: BrowserContext;
  page: Page;
  cdp: CDPSession;
  authenticator: string;
}

describe("passkey approvals in a real browser", { skip: haveChromium ? false : MISSING }, () => {
  let sb: Sandbox;
  let browser: Browser;
  let keys: string;
  const local = (path: string) => `${sb.app.url.replace("127.0.0.1", "localhost")}${path}`;

  const keygen = (name: string) => {
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", join(keys, name)]);
    return readFileSync(join(keys, `${name}.pub`), "utf8").trim();
  };

  before(async () => {
    keys = mkdtempSync(join(tmpdir(), "breakglass-passkey-keys-"));
    const signingKeys = Object.fromEntries(
      ["grace", "heidi", "dave"].map((login) => [login, [keygen(login)]]),
    );
    keygen("unregistered");
    sb = await startSandbox({
      runWorkflows: false,
      dashboard: "github",
      signingKeys,
      passkeyActivationWaitSeconds: WAIT_SECONDS,
      // No file yet: no attestation is trusted until the test writes Chromium's certificate there (A230).
      attestationRootsFile: join(keys, "attestation-roots.pem"),
      // uma can sign in with GitHub but has no access to the installation's repository.
      permissions: { uma: "none" },
      files: {
        "policies/model-guardrail-override.yml": policy,
        "policies/model-rollback.yml": hardwarePolicy,
        [`policies/${EXTENDABLE}.yml`]: extendablePolicy,
      },
      providers: { postgres: extendable },
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--host-resolver-rules=MAP localhost 127.0.0.1",
      ],
    });
  });
  after(async () => {
    await browser?.close();
    await sb?.close();
    rmSync(keys, { recursive: true, force: true });
  });

  /** A browser signed in to GitHub (the emulator) and then to the app as `login`, with a virtual security key. */
  async function person(login: string, synced = false): Promise<Person> {
    const context = await browser.newContext();
    await context.addCookies([
      { name: GITHUB_SESSION, value: sb.emulator.webSessionFor(login), url: sb.emulator.url },
    ]);
    const page = await context.newPage();
    const signedIn = await page.goto(`${sb.app.url}/breakglass/login`);
    assert.equal(signedIn?.status(), 200, "back on the dashboard after Sign in with GitHub");
    const session = (await context.cookies(`${sb.app.url}/breakglass`)).find(
      (c) => c.name === SESSION_COOKIE,
    );
    assert.ok(session, "the app's session cookie");
    // The pages are used at localhost (a WebAuthn relying party is a domain, not an IP address).
    await context.addCookies([{ name: SESSION_COOKIE, value: session.value, url: local("/breakglass") }]);
    const cdp = await context.newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
      // `synced`: a passkey that may be backed up to a cloud account (backup-eligible), not a security key.
      options: {
        protocol: "ctap2",
        transport: synced ? "internal" : "usb",
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
        ...(synced ? { defaultBackupEligibility: true, defaultBackupState: true } : {}),
      },
    });
    return { login, context, page, cdp, authenticator: authenticatorId };
  }

  /** An SSH signature (namespace breakglass) by the named key in the test's key directory, as ssh-keygen makes it. */
  const sshSign = (key: string, message: string): string => {
    const file = join(keys, `message-${Date.now()}-${Math.random().toString(36).slice(2)}`);
    writeFileSync(file, message);
    execFileSync("ssh-keygen", ["-q", "-Y", "sign", "-n", "breakglass", "-f", join(keys, key), file]);
    return readFileSync(`${file}.sig`, "utf8");
  };

  /** What this session is given to step up a change to its passkeys (POST change-options, with its cookies). */
  async function changeOptions(
    p: Person,
    change: string,
  ): Promise<{ status: number; required?: boolean; message?: string; error?: string }> {
    const res = await p.context.request.post(local("/breakglass/passkeys/change-options"), {
      data: { owner, change },
      headers: { origin: local("") },
    });
    return { status: res.status(), ...((await res.json()) as object) };
  }

  /**
   * Registers a passkey on the page. Once the person has an active passkey elsewhere (another browser
   * here), the registration needs step-up: an SSH signature by their signing key over the change, pasted.
   */
  async function register(p: Person): Promise<string> {
    await p.page.goto(local("/breakglass/passkeys"));
    const given = await changeOptions(p, "register");
    if (given.required && existsSync(join(keys, p.login)))
      await p.page.locator("#change-signature").fill(sshSign(p.login, given.message!));
    await p.page.click("#register");
    await p.page.locator("#result").filter({ hasText: /\S/ }).waitFor();
    const result = await p.page.locator("#result").innerText();
    assert.match(result, /^Registered /, result);
    return result;
  }

  /** The credential id (base64url) of the person's virtual authenticator's newest credential. */
  async function credentialOf(p: Person): Promise<string> {
    const { credentials } = await p.cdp.send("WebAuthn.getCredentials", { authenticatorId: p.authenticator });
    return Buffer.from(credentials.at(-1)!.credentialId, "base64").toString("base64url");
  }

  /**
   * Presses "This is my passkey" for a pending passkey: the browser's authenticator answers, and the
   * page shows the confirm command; its binding (public-key hash, registration time, nonce).
   */
  async function prove(p: Person, credential: string): Promise<ActivationBinding> {
    await p.page.goto(local("/breakglass/passkeys"));
    await p.page.click(`button.prove[data-credential="${credential}"]`);
    await p.page.locator("#result").filter({ hasText: /\S/ }).waitFor();
    const result = await p.page.locator("#result").innerText();
    assert.match(result, /^Proven: /, result);
    const command = await p.page.locator(`code.command[data-credential="${credential}"]`).innerText();
    const flag = (name: string) => new RegExp(`--${name} (\\S+)`).exec(command)?.[1] ?? "";
    assert.match(command, new RegExp(`^breakglass passkey confirm acme ${credential} --login `));
    return {
      public_key_sha256: flag("passkey-sha256"),
      registered_at: flag("registered-at"),
      nonce: flag("nonce"),
    };
  }

  /** `breakglass passkey confirm acme <credential> --login <login> … --key <key>`: the signature it prints. */
  async function confirmSignature(
    login: string,
    credential: string,
    binding: ActivationBinding,
    key = login,
  ): Promise<string> {
    const out = { text: "", err: "" };
    const io: CliIO = {
      stdout: (t) => void (out.text += t),
      stderr: (t) => void (out.err += t),
      readStdin: async () => "",
      cwd: keys,
      env: { HOME: keys },
    };
    const code = await passkeyCommand(
      [
        "confirm",
        owner,
        credential,
        "--login",
        login,
        "--passkey-sha256",
        binding.public_key_sha256,
        "--registered-at",
        binding.registered_at,
        "--nonce",
        binding.nonce,
        "--key",
        join(keys, key),
      ],
      io,
    );
    assert.equal(code, 0, out.err);
    assert.match(out.text, /^-----BEGIN SSH SIGNATURE-----/);
    return out.text;
  }

  /** Pastes an activation signature into the passkey's box on the passkeys page; the page's result. */
  async function pasteActivation(p: Person, credential: string, signature: string): Promise<string> {
    await p.page.goto(local("/breakglass/passkeys"));
    await p.page.locator(`textarea.signature[data-credential="${credential}"]`).fill(signature);
    await p.page.click(`button.activate[data-credential="${credential}"]`);
    await p.page.locator("#result").filter({ hasText: /\S/ }).waitFor();
    return p.page.locator("#result").innerText();
  }

  /** Registers a passkey and activates it at once with the person's SSH signing key; its credential id. */
  async function registerActive(p: Person, login: string): Promise<string> {
    await register(p);
    const credential = await credentialOf(p);
    const binding = await prove(p, credential);
    const result = await pasteActivation(p, credential, await confirmSignature(login, credential, binding));
    assert.match(result, /^Activated /, result);
    return credential;
  }

  /** Clicks "Approve with a security key" on the request's page; returns the page's result and what was posted. */
  async function approveOnPage(
    p: Person,
    n: number,
  ): Promise<{ result: string; posted: string; cookie: string }> {
    await p.page.goto(local(`/breakglass/approve/${owner}/${repo}/${n}`));
    assert.match(
      await p.page.locator("#hash").innerText(),
      /^[0-9a-f]{64}$/,
      "the page shows the recorded hash",
    );
    const posting = p.page.waitForRequest((r) => r.method() === "POST" && r.url().endsWith(`/${n}`));
    await p.page.click("#approve");
    const posted = (await posting).postData() ?? "";
    await p.page.locator("#result").filter({ hasText: /\S/ }).waitFor();
    await sb.settle();
    const cookie = (await p.context.cookies(local("/breakglass")))
      .map((c) => `${c.name}=${c.value}`)
      .join("; ");
    return { result: await p.page.locator("#result").innerText(), posted, cookie };
  }

  let grace: Person;
  let graceCredential = "";
  let approved = 0;
  let replay: { posted: string; cookie: string } | null = null;

  it("registers a passkey for the signed-in login: recorded in the ledger, announced to the notify targets, not active until confirmed", async () => {
    grace = await person("grace");
    await register(grace);
    const port = (await sb.app.portFor(owner, repo))!;
    const records = await readPasskeys(sb.app.deps, port, "grace");
    assert.equal(records.problem, null);
    assert.equal(records.passkeys.length, 1);
    graceCredential = records.passkeys[0]!.credential_id;
    const { credentials } = await grace.cdp.send("WebAuthn.getCredentials", {
      authenticatorId: grace.authenticator,
    });
    assert.equal(
      Buffer.from(credentials[0]!.credentialId, "base64").toString("base64url"),
      graceCredential,
      "the authenticator's credential is the recorded one",
    );
    const announced = sb.notifier.sent.find(
      (s) =>
        s.notification.event === "passkey_registered" &&
        s.notification.summary.startsWith("grace registered"),
    );
    assert.ok(announced, "announced");
    const activeFrom = new Date(sb.clock.now() + WAIT_SECONDS * 1000).toISOString();
    assert.equal(records.passkeys[0]!.active_from, activeFrom);
    assert.match(announced.notification.summary, new RegExp(`becomes active for approvals at ${activeFrom}`));
    assert.match(announced.notification.summary, /if grace did not register it, remove it at once/);
    assert.equal(records.passkeys[0]!.aaguid, CHROMIUM_VIRTUAL_AAGUID, "the virtual authenticator's model");
    await grace.page.goto(local("/breakglass/passkeys"));
    assert.equal(
      await grace.page.locator(`tr.passkey[data-credential="${graceCredential}"]`).count(),
      1,
      "the page lists it",
    );
    assert.match(
      await grace.page.locator(`tr.passkey[data-credential="${graceCredential}"] td.status`).innerText(),
      /not active yet: counts for approvals from/,
    );
    const confirmRow = await grace.page
      .locator(`tr.confirm[data-credential="${graceCredential}"]`)
      .innerText();
    assert.ok(
      confirmRow.includes(publicKeySha256(records.passkeys[0]!.public_key)),
      "the page shows the passkey's public-key hash",
    );
    assert.doesNotMatch(confirmRow, /--nonce/, "no ready command before the passkey answers in this browser");
    const binding = await prove(grace, graceCredential);
    assert.equal(binding.public_key_sha256, publicKeySha256(records.passkeys[0]!.public_key));
    assert.equal(binding.registered_at, records.passkeys[0]!.registered_at);
  });

  it("A200 a passkey registered a moment ago does not approve (step_up_passkey_not_active), and the refusal is said on the issue", async () => {
    const n = await openRequest(sb, "dave", form);
    const done = await approveOnPage(grace, n);
    assert.match(done.result, /step_up_passkey_not_active/, done.result);
    assert.match(done.result, /is not active yet: it becomes active at /);
    const h = await historyOf(sb, n);
    assert.equal(h.state.approvals.length, 0);
    assert.match(await refusalFor(sb, n, "grace", "step_up_passkey_not_active"), /passkey/);
    assert.ok(
      h.events.some((e) => e.type === "approval_page_refused" && e.code === "step_up_passkey_not_active"),
      "the refusal is a signed record",
    );
  });

  it("A201 a stolen session cannot activate its passkey: a signature by a key not on GitHub, or over another passkey, is refused", async () => {
    const stale = await prove(grace, graceCredential);
    const binding = await prove(grace, graceCredential);
    const unknown = await pasteActivation(
      grace,
      graceCredential,
      await confirmSignature("grace", graceCredential, binding, "unregistered"),
    );
    assert.match(unknown, /step_up_unknown_key/, unknown);
    assert.match(unknown, /not one of @grace's SSH signing keys/);
    // A genuine signature of grace's, over another passkey (say, one she confirmed earlier), does not carry over.
    const other = await pasteActivation(
      grace,
      graceCredential,
      await confirmSignature("grace", "AAAAAAAAAAAAAAAAAAAAAA", binding),
    );
    assert.match(other, /step_up_bad_signature/, other);
    const signedAsHeidi = await pasteActivation(
      grace,
      graceCredential,
      await confirmSignature("heidi", graceCredential, binding, "heidi"),
    );
    assert.match(signedAsHeidi, /step_up_bad_signature/, signedAsHeidi);
    // Over another public key (a passkey registered in her name with the same id), or an older nonce.
    const otherKey = await pasteActivation(
      grace,
      graceCredential,
      await confirmSignature("grace", graceCredential, { ...binding, public_key_sha256: "ab".repeat(32) }),
    );
    assert.match(otherKey, /step_up_bad_signature/, otherKey);
    const older = await pasteActivation(
      grace,
      graceCredential,
      await confirmSignature("grace", graceCredential, stale),
    );
    assert.match(older, /step_up_bad_signature/, older);
    const port = (await sb.app.portFor(owner, repo))!;
    assert.equal((await readPasskeys(sb.app.deps, port, "grace")).passkeys[0]!.activated, undefined);
  });

  it("A202 the passkey's owner activates it at once with `breakglass passkey confirm` (an SSH signature by a GitHub signing key), recorded in the ledger", async () => {
    const binding = await prove(grace, graceCredential);
    const result = await pasteActivation(
      grace,
      graceCredential,
      await confirmSignature("grace", graceCredential, binding),
    );
    assert.match(result, /^Activated /, result);
    const port = (await sb.app.portFor(owner, repo))!;
    const records = await readPasskeys(sb.app.deps, port, "grace");
    const activation = records.chain.at(-1)!.entry.event as unknown as {
      type: string;
      method: string;
      binding: ActivationBinding;
    };
    assert.equal(activation.type, "passkey_activated");
    assert.equal(activation.method, "ssh-signature");
    assert.deepEqual(activation.binding, binding, "the activation keeps what it bound");
    assert.ok(records.passkeys[0]!.activated, "the passkey is active");
    assert.ok(
      sb.notifier.sent.some((s) => s.notification.event === "passkey_activated"),
      "the activation is announced",
    );
    await grace.page.goto(local("/breakglass/passkeys"));
    assert.match(
      await grace.page.locator(`tr.passkey[data-credential="${graceCredential}"] td.status`).innerText(),
      /^active \(confirmed with SSH key SHA256:/,
    );
  });

  it("A231 the page gives no ready activation command for a passkey someone else registered in your name, and an activation without that passkey answering in your session is refused (passkey_not_proven)", async () => {
    // A stolen session registers a passkey in heidi's name; heidi, in her own browser, sees it pending.
    const thief = await person("heidi");
    await register(thief);
    const planted = await credentialOf(thief);
    const theirs = await prove(thief, planted);
    const heidi = await person("heidi");
    await heidi.page.goto(local("/breakglass/passkeys"));
    const row = await heidi.page.locator(`tr.confirm[data-credential="${planted}"]`).innerText();
    assert.doesNotMatch(row, /--nonce/, "no command to copy");
    assert.ok(row.includes(theirs.public_key_sha256), "the planted passkey's public-key hash is shown");
    assert.match(
      await heidi.page.locator("li.change.elsewhere").first().innerText(),
      new RegExp(`registered ${planted.slice(0, 16)} — ⚠️ in another sign-in session`),
      "the page tells her the registration came from another session",
    );
    // Even a genuine signature of heidi's over the planted passkey (a command the thief sent her) does not
    // activate it in her session: her browser never proved it holds that passkey.
    const result = await pasteActivation(heidi, planted, await confirmSignature("heidi", planted, theirs));
    assert.match(result, /passkey_not_proven/, result);
    assert.match(result, /If you did not register it, remove it now/);
    const port = (await sb.app.portFor(owner, repo))!;
    const key = (await readPasskeys(sb.app.deps, port, "heidi")).passkeys.find(
      (k) => k.credential_id === planted,
    );
    assert.equal(key?.activated, undefined, "still not active");
  });

  it("A232 once a person has an active passkey, a stolen session can neither remove it nor register its own beside it (passkey_step_up_required)", async () => {
    const thief = await person("grace");
    const post = async (path: string, data: Record<string, unknown>) => {
      const res = await thief.context.request.post(local(path), { data, headers: { origin: local("") } });
      return { status: res.status(), ...((await res.json()) as { error?: string; message?: string }) };
    };
    const removed = await post("/breakglass/passkeys/remove", { owner, credential_id: graceCredential });
    assert.equal(removed.status, 403);
    assert.equal(removed.error, "passkey_step_up_required", removed.message);
    assert.match(removed.message ?? "", /A signed-in session alone cannot change your passkeys/);
    assert.equal((await post("/breakglass/passkeys/options", { owner })).status, 200);
    const registered = await post("/breakglass/passkeys/register", { owner, response: {} });
    assert.equal(registered.error, "passkey_step_up_required", registered.message);
    // A signature over the change by a key that is not grace's, or over another change, does not do.
    const given = await changeOptions(thief, `remove:${graceCredential}`);
    assert.equal(given.required, true);
    const unknown = await post("/breakglass/passkeys/remove", {
      owner,
      credential_id: graceCredential,
      step_up: { signature: sshSign("unregistered", given.message!) },
    });
    assert.equal(unknown.error, "step_up_unknown_key", unknown.message);
    const otherChange = await post("/breakglass/passkeys/remove", {
      owner,
      credential_id: "AAAAAAAAAAAAAAAAAAAAAA",
      step_up: { signature: sshSign("grace", given.message!) },
    });
    assert.equal(otherChange.status, 404, "not hers; and the signature names another change anyway");
    // A step-up counts for one change: a captured signature of grace's over a registration, used again, is refused.
    const registering = await changeOptions(thief, "register");
    const captured = { signature: sshSign("grace", registering.message!) };
    assert.equal((await post("/breakglass/passkeys/options", { owner })).status, 200);
    const used = await post("/breakglass/passkeys/register", { owner, response: {}, step_up: captured });
    assert.equal(used.error, "registration_refused", "the step-up held; the (empty) registration did not");
    const replayed = await post("/breakglass/passkeys/register", { owner, response: {}, step_up: captured });
    assert.equal(replayed.status, 409);
    assert.equal(replayed.error, "step_up_replayed", replayed.message);
    const port = (await sb.app.portFor(owner, repo))!;
    const records = await readPasskeys(sb.app.deps, port, "grace");
    assert.deepEqual(
      records.passkeys.map((k) => k.credential_id),
      [graceCredential],
      "nothing removed or added",
    );
  });

  it("A230 with no attestation roots configured no passkey is a hardware key: require_hardware_key is refused (step_up_not_hardware), said on the issue", async () => {
    const n = await openRequest(sb, "dave", form);
    const done = await approveOnPage(grace, n);
    assert.match(done.result, /step_up_not_hardware/, done.result);
    assert.match(
      done.result,
      /no attestation trust roots configured .*attestation-roots\.pem cannot be read/,
    );
    assert.equal((await historyOf(sb, n)).state.approvals.length, 0);
    assert.match(await refusalFor(sb, n, "grace", "step_up_not_hardware"), /trust roots/);
    // The operator configures the root of Chromium's virtual authenticator: its packed attestation is
    // signed with a fixed test certificate (device/fido/virtual_fido_device.cc), taken here from the
    // registration the app recorded.
    const port = (await sb.app.portFor(owner, repo))!;
    const [key] = (await readPasskeys(sb.app.deps, port, "grace")).passkeys;
    assert.equal(key!.attestation, "packed");
    const chain = key!.attestation_chain ?? [];
    assert.ok(chain.length > 0, "a full (x5c) attestation, not self-attestation");
    const issuer = new X509Certificate(Buffer.from(chain.at(-1)!, "base64"));
    assert.match(issuer.subject, /O=Chromium/);
    writeFileSync(join(keys, "attestation-roots.pem"), issuer.toString());
  });

  it("approves a request with the passkey: the app posts the approval, the record keeps the assertion, audit verify re-checks it", async () => {
    const n = await openRequest(sb, "dave", form);
    const done = await approveOnPage(grace, n);
    assert.match(done.result, /^Approved: the request is approved/, done.result);
    replay = done;
    approved = n;
    const h = await historyOf(sb, n);
    assert.equal(h.state.status, "approved");
    const record = h.events.find((e) => e.type === "approved");
    assert.ok(
      record?.type === "approved" && record.step_up?.method === "webauthn",
      "the signed record holds the WebAuthn proof",
    );
    assert.equal(record.actor, "grace");
    assert.equal(record.step_up.credential_id, graceCredential);
    // Chromium's virtual CTAP2 key is device-bound and attests (packed): a security key as far as attestation tells.
    assert.equal(record.step_up.hardware, true);
    assert.ok(
      (await appTexts(sb, n)).some((t) =>
        /^✅ @grace( \(via [^)]+\))? approved with a security key: request `[0-9a-f]{16}` — 1 of 1/.test(t),
      ),
      (await appTexts(sb, n)).join("\n---\n"),
    );

    const entries = h.chain.map((e) => e.entry);
    assert.deepEqual(await checkStepUpProofs(entries, { repo: sb.repository, issue: n }), {
      checked: 1,
      breaks: [],
    });
    // The same assertion recorded for another issue, or with its signature altered, fails offline.
    assert.equal((await checkStepUpProofs(entries, { repo: sb.repository, issue: n + 1 })).breaks.length, 1);
    const tampered = entries.map((e) => {
      const event = e.event as LifecycleEvent;
      if (event.type !== "approved" || event.step_up?.method !== "webauthn") return e;
      const assertion = event.step_up.assertion as { response: { signature: string } };
      const signature = Buffer.from(assertion.response.signature, "base64url");
      signature.writeUInt8(signature.readUInt8(signature.length - 1) ^ 1, signature.length - 1);
      return {
        ...e,
        event: {
          ...event,
          step_up: {
            ...event.step_up,
            assertion: {
              ...assertion,
              response: { ...assertion.response, signature: signature.toString("base64url") },
            },
          },
        },
      };
    });
    const broken = await checkStepUpProofs(tampered, { repo: sb.repository, issue: n });
    assert.equal(broken.breaks.length, 1);
    assert.match(broken.breaks[0]!.reason, /@grace's approval fails: its WebAuthn assertion does not verify/);

    // The record carries the passkey's activation, which audit verify re-checks: stripped or forged, it fails.
    assert.equal(record.step_up.activation?.method, "ssh-signature");
    const withActivation = (change: (proof: WebAuthnProof) => WebAuthnProof): AuditEntry[] =>
      entries.map((e) => {
        const event = e.event as LifecycleEvent;
        if (event.type !== "approved" || event.step_up?.method !== "webauthn") return e;
        return { ...e, event: { ...event, step_up: change(event.step_up) } };
      });
    const stripped = await checkStepUpProofs(
      withActivation(({ activation: _a, ...proof }) => proof),
      { repo: sb.repository, issue: n },
    );
    assert.match(stripped.breaks[0]?.reason ?? "", /records no activation of its passkey/);
    const early = await checkStepUpProofs(
      withActivation((proof) => ({
        ...proof,
        activation: {
          method: "waiting-period",
          registered_at: h.chain[0]!.entry.at,
          active_from: "2099-01-01T00:00:00.000Z",
        },
      })),
      { repo: sb.repository, issue: n },
    );
    assert.match(early.breaks[0]?.reason ?? "", /waiting period .* had not ended/);
    const bound =
      record.step_up.activation?.method === "ssh-signature" ? record.step_up.activation.binding : undefined;
    assert.ok(bound, "the approval keeps the activation's binding");
    const elsewhere = await confirmSignature("grace", "AAAAAAAAAAAAAAAAAAAAAA", bound);
    const otherKey = await checkStepUpProofs(
      withActivation((proof) => ({
        ...proof,
        activation:
          proof.activation?.method === "ssh-signature"
            ? { ...proof.activation, proof: { ...proof.activation.proof, signature: elsewhere.trim() } }
            : proof.activation,
      })),
      { repo: sb.repository, issue: n },
    );
    assert.match(otherKey.breaks[0]?.reason ?? "", /activation signature does not verify/);
  });

  it("A188 a replayed assertion is refused (step_up_replayed)", async () => {
    assert.ok(replay, "the earlier approval's assertion");
    const res = await fetch(local(`/breakglass/approve/${owner}/${repo}/${approved}`), {
      method: "POST",
      headers: { "content-type": "application/json", origin: local(""), cookie: replay.cookie },
      body: replay.posted,
    });
    const body = (await res.json()) as { error?: string };
    assert.equal(res.status, 409);
    assert.equal(body.error, "step_up_replayed");
    assert.equal((await historyOf(sb, approved)).state.approvals.length, 1);
  });

  it("A189 an assertion from another user's passkey is refused (step_up_unknown_key); nothing is approved", async () => {
    const heidi = await person("heidi");
    await register(heidi);
    const { credentials } = await heidi.cdp.send("WebAuthn.getCredentials", {
      authenticatorId: heidi.authenticator,
    });
    // Grace, in another browser, holding heidi's security key (lent, stolen, or its key material copied).
    const borrowed = await person("grace");
    await borrowed.cdp.send("WebAuthn.addCredential", {
      authenticatorId: borrowed.authenticator,
      credential: credentials[0]!,
    });
    const n = await openRequest(sb, "rita", form);
    const done = await approveOnPage(borrowed, n);
    assert.match(done.result, /step_up_unknown_key/, done.result);
    assert.match(done.result, /not one of @grace's registered passkeys/);
    const h = await historyOf(sb, n);
    assert.equal(h.state.status, "requested");
    assert.equal(h.state.approvals.length, 0);
    // A comment still gets only the comment rules: a plain /approve is refused for want of step-up.
    await say(sb, "heidi", n, "/approve");
    assert.match(await refusalFor(sb, n, "heidi", "step_up_required"), /breakglass\/approve/);
  });

  it("where the policy requires a hardware key, a synced passkey is refused (step_up_not_hardware)", async () => {
    const heidi = await person("heidi", true);
    assert.match(
      await register(heidi),
      /Registered a passkey/,
      "registered, as a passkey rather than a security key",
    );
    const credential = await credentialOf(heidi);
    assert.match(
      await pasteActivation(
        heidi,
        credential,
        await confirmSignature("heidi", credential, await prove(heidi, credential)),
      ),
      /^Activated /,
    );
    const n = await openRequest(sb, "olga", {
      resource: "model-rollback",
      role: "rollback",
      duration: "30m",
      severity: "high",
    });
    const done = await approveOnPage(heidi, n);
    assert.match(done.result, /step_up_not_hardware/, done.result);
    assert.equal((await historyOf(sb, n)).state.approvals.length, 0);
  });

  it("removing a passkey is recorded and announced, and the removed passkey no longer approves (step_up_unknown_key)", async () => {
    await grace.page.goto(local("/breakglass/passkeys"));
    await grace.page.click(`button.remove[data-credential="${graceCredential}"]`);
    await grace.page.locator("#result").filter({ hasText: /\S/ }).waitFor();
    assert.match(await grace.page.locator("#result").innerText(), /^Removed /);
    const port = (await sb.app.portFor(owner, repo))!;
    const records = await readPasskeys(sb.app.deps, port, "grace");
    assert.deepEqual(records.passkeys, []);
    assert.deepEqual(
      records.chain.map((e) => (e.entry.event as { type: string }).type),
      ["passkey_registered", "passkey_activated", "passkey_used", "passkey_removed"],
      "the registration, its activation, its use and the removal are all in the ledger",
    );
    const announced = sb.notifier.sent.find(
      (s) => s.notification.event === "passkey_removed" && s.notification.summary.startsWith("grace removed"),
    );
    assert.ok(announced, "announced to the notify targets");
    assert.match(
      announced.notification.summary,
      new RegExp(`confirmed with passkey ${graceCredential.slice(0, 16)}`),
      "her active passkey answered for the removal",
    );
    await grace.page.goto(local("/breakglass/passkeys"));
    assert.match(
      await grace.page.locator("li.change").first().innerText(),
      new RegExp(
        `removed ${graceCredential.slice(0, 16)} \\(confirmed with passkey .*\\) — in this browser session`,
      ),
      "the page lists the removal for her",
    );
    const n = await openRequest(sb, "erin", form);
    const done = await approveOnPage(grace, n);
    assert.match(done.result, /step_up_unknown_key/, done.result);
    assert.equal((await historyOf(sb, n)).state.approvals.length, 0);
  });

  it("the rules of a comment approval hold on the page: the requester cannot approve their own request with a passkey", async () => {
    const dave = await person("dave");
    await register(dave);
    const n = await openRequest(sb, "dave", form);
    await dave.page.goto(local(`/breakglass/approve/${owner}/${repo}/${n}`));
    await dave.page.click("#approve");
    await dave.page.locator("#result").filter({ hasText: /\S/ }).waitFor();
    // Refused before any challenge is given: the same decision a comment from the requester gets.
    assert.match(await dave.page.locator("#result").innerText(), /^Refused: self_approval: /);
    assert.equal((await historyOf(sb, n)).state.approvals.length, 0);
  });

  it("an assertion over the request as it was before the requester edited it is refused (step_up_wrong_request)", async () => {
    const heidi = await person("heidi");
    await registerActive(heidi, "heidi");
    const n = await openRequest(sb, "ivan", form);
    // The requester changes the request between the challenge and the approval reaching the app.
    await heidi.page.route(`**/breakglass/approve/${owner}/${repo}/${n}`, async (route) => {
      if (route.request().method() !== "POST") return route.continue();
      await sb.as("ivan").rest.issues.update({
        owner,
        repo,
        issue_number: n,
        body: requestFormBody({ ...form, duration: "2h" }),
      });
      await sb.settle();
      await route.continue();
    });
    const done = await approveOnPage(heidi, n);
    assert.match(
      done.result,
      /step_up_wrong_request/,
      `${done.result}\n${JSON.stringify((await historyOf(sb, n)).events.map((e) => [e.type, (e as { hash?: string }).hash?.slice(0, 8), e.at]))}\n${(await appTexts(sb, n)).join("\n--\n").slice(0, 3000)}`,
    );
    assert.match(done.result, /the request changed after you started/);
    const h = await historyOf(sb, n);
    assert.equal(h.state.approvals.length, 0);
    assert.equal(h.state.request?.duration_seconds, 2 * 3600, "the edit was recorded");
  });
  it("A203 require_hardware_key takes a device-bound, attested passkey only when the policy lists its AAGUID (step_up_not_hardware)", async () => {
    const heidi = await person("heidi");
    const credential = await registerActive(heidi, "heidi");
    const port = (await sb.app.portFor(owner, repo))!;
    const key = (await readPasskeys(sb.app.deps, port, "heidi")).passkeys.find(
      (k) => k.credential_id === credential,
    )!;
    assert.equal(key.device_type, "singleDevice");
    assert.notEqual(key.attestation, "none");
    assert.equal(key.aaguid, CHROMIUM_VIRTUAL_AAGUID);
    // Rollback lists another model only: Chromium's virtual (software) key is not hardware there.
    const n = await openRequest(sb, "olga", rollback);
    const refused = await approveOnPage(heidi, n);
    assert.match(refused.result, /step_up_not_hardware/, refused.result);
    assert.match(refused.result, new RegExp(`model ${CHROMIUM_VIRTUAL_AAGUID}, which is not listed`));
    assert.equal((await historyOf(sb, n)).state.approvals.length, 0);
    // The guardrail policy lists it: the same key approves there, recorded as hardware.
    const m = await openRequest(sb, "olga", form);
    const done = await approveOnPage(heidi, m);
    assert.match(done.result, /^Approved/, done.result);
    const record = (await historyOf(sb, m)).events.find((e) => e.type === "approved");
    assert.ok(record?.type === "approved" && record.step_up?.method === "webauthn");
    assert.equal(record.step_up.hardware, true);
    assert.equal(record.step_up.aaguid, CHROMIUM_VIRTUAL_AAGUID);
  });

  it("A230 a passkey registered without attestation (`none`) claiming a listed model is not a hardware key (step_up_not_hardware)", async () => {
    const mallory = await person("heidi");
    // The page asks for direct attestation; a software authenticator (here the browser, told `none`)
    // gives none, keeping whatever AAGUID it likes.
    await mallory.page.route("**/breakglass/passkeys/options", async (route) => {
      const answer = await route.fetch();
      const options = (await answer.json()) as Record<string, unknown>;
      await route.fulfill({ response: answer, json: { ...options, attestation: "none" } });
    });
    const credential = await registerActive(mallory, "heidi");
    const port = (await sb.app.portFor(owner, repo))!;
    const key = (await readPasskeys(sb.app.deps, port, "heidi")).passkeys.find(
      (k) => k.credential_id === credential,
    )!;
    assert.equal(key.attestation, "none");
    assert.equal(key.hardware, false);
    const n = await openRequest(sb, "olga", form);
    const done = await approveOnPage(mallory, n);
    assert.match(done.result, /step_up_not_hardware/, done.result);
    assert.match(done.result, /attestation `none` — not trusted: the authenticator gave no attestation/);
    assert.equal((await historyOf(sb, n)).state.approvals.length, 0);
  });

  it("A204 the signature counter is recorded after each assertion, and a cloned authenticator's lower counter is refused (step_up_passkey_cloned)", async () => {
    const heidi = await person("heidi");
    const credential = await registerActive(heidi, "heidi");
    const { credentials } = await heidi.cdp.send("WebAuthn.getCredentials", {
      authenticatorId: heidi.authenticator,
    });
    const copied = credentials.find(
      (c) => Buffer.from(c.credentialId, "base64").toString("base64url") === credential,
    )!;
    const n = await openRequest(sb, "ivan", form);
    assert.match((await approveOnPage(heidi, n)).result, /^Approved/);
    const { credentials: after } = await heidi.cdp.send("WebAuthn.getCredentials", {
      authenticatorId: heidi.authenticator,
    });
    const counter = after.find((c) => c.credentialId === copied.credentialId)!.signCount;
    assert.ok(counter > 0, "the virtual authenticator counts");
    const port = (await sb.app.portFor(owner, repo))!;
    const records = await readPasskeys(sb.app.deps, port, "heidi");
    assert.equal(records.passkeys.find((k) => k.credential_id === credential)!.counter, counter, "recorded");
    // The key material copied before that approval, in another browser, signed in as heidi.
    const clone = await person("heidi");
    await clone.cdp.send("WebAuthn.addCredential", {
      authenticatorId: clone.authenticator,
      credential: { ...copied, signCount: 0 },
    });
    const m = await openRequest(sb, "ivan", form);
    const done = await approveOnPage(clone, m);
    assert.match(done.result, /step_up_passkey_cloned/, done.result);
    assert.match(done.result, new RegExp(`not above the ${counter} it reached before`));
    assert.equal((await historyOf(sb, m)).state.approvals.length, 0);
    assert.match(await refusalFor(sb, m, "heidi", "step_up_passkey_cloned"), /cloned/);
  });

  it("A205 someone without write access to any repository of the installation cannot register (or remove) passkeys there (no_repository_access)", async () => {
    const uma = await person("uma");
    await uma.page.goto(local("/breakglass/passkeys"));
    await uma.page.click("#register");
    await uma.page.locator("#result").filter({ hasText: /\S/ }).waitFor();
    assert.match(await uma.page.locator("#result").innerText(), /^Refused: no_repository_access: /);
    const port = (await sb.app.portFor(owner, repo))!;
    assert.deepEqual((await readPasskeys(sb.app.deps, port, "uma")).chain, []);
    assert.ok(!sb.notifier.sent.some((s) => s.notification.summary.startsWith("uma ")), "nothing announced");
  });

  it("A206 A235 refusals on the page are said on the issue once per person and reason, at most 10 per request by approvers and 10 by others", async () => {
    const n = await openRequest(sb, "dave", form);
    const url = local(`/breakglass/approve/${owner}/${repo}/${n}`);
    const garbage = async (p: Person) => {
      const cookie = (await p.context.cookies(local("/breakglass")))
        .map((c) => `${c.name}=${c.value}`)
        .join("; ");
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", origin: local(""), cookie },
        body: JSON.stringify({ response: { id: "x", response: { clientDataJSON: "e30" } } }),
      });
      assert.equal(res.status, 403);
    };
    const heidi = await person("heidi");
    for (let i = 0; i < 3; i++) await garbage(heidi);
    await sb.settle();
    const refusals = () =>
      appTexts(sb, n).then((texts) => texts.filter((t) => / — refused \(`step_up_wrong_request`\)/.test(t)));
    assert.equal((await refusals()).length, 1, "one comment for one person and reason");
    // Ten readers who cannot approve this request (not in its CODEOWNERS team, or its requester) fill
    // their own bound; an approver's refusal after them is still said on the issue.
    for (const login of ["bob", "carol", "erin", "ivan", "sam", "olga", "rita", "tina", "mallory", "dave"])
      await garbage(await person(login));
    await sb.settle();
    const posted = await refusals();
    assert.equal(posted.length, 11, "heidi's, and ten by readers who cannot approve");
    assert.match(
      posted.at(-1)!,
      /by someone who cannot approve this request recorded here; further ones by such readers are only shown on the page/,
    );
    await garbage(await person("grace"));
    await sb.settle();
    const after = await refusals();
    assert.equal(after.length, 12, "an approver's refusal is still recorded (A235)");
    assert.match(after.at(-1)!, /^👎 @grace — refused/);
    const state = (await historyOf(sb, n)).state;
    assert.equal(state.refused_page_approvals, 2, "heidi's and grace's");
    assert.equal(state.refused_page_approvals_others, 10);
  });

  it("A208 a pending /extend of a live grant is approved on the page with a passkey, signed over the extension's hash; audit verify re-checks it", async () => {
    const heidi = await person("heidi");
    await registerActive(heidi, "heidi");
    const n = await openRequest(sb, "tina", { ...form, resource: EXTENDABLE });
    assert.match((await approveOnPage(heidi, n)).result, /^Approved/);
    const run = await sb.runGrantWorkflow(n);
    assert.equal(run.exitCode, 0, run.stderr);
    await say(sb, "tina", n, "/extend 30m the rollback is still running");
    const before = await historyOf(sb, n);
    assert.equal(before.state.status, "active");
    const extension = before.state.extension!;
    assert.ok(extension, "an extension is waiting");
    await heidi.page.goto(local(`/breakglass/approve/${owner}/${repo}/${n}`));
    assert.equal(await heidi.page.locator("#extension-hash").innerText(), extension.hash);
    assert.equal(
      await heidi.page.locator("#approve").innerText(),
      "Approve the extension with a security key",
    );
    const done = await approveOnPage(heidi, n);
    assert.match(done.result, /^Approved: the request is active/, done.result);
    const h = await historyOf(sb, n);
    const record = h.events.find((e) => e.type === "extension_approved");
    assert.ok(
      record?.type === "extension_approved" && record.step_up?.method === "webauthn",
      "recorded with the assertion",
    );
    assert.equal(record.hash, extension.hash);
    assert.ok(
      h.events.some((e) => e.type === "extended"),
      "the grant was extended",
    );
    assert.equal(
      Date.parse(h.state.grant!.expires_at),
      Date.parse(before.state.grant!.expires_at) + 30 * 60_000,
    );
    assert.equal(extended.at(-1)?.id, `ext_${n}`, "the provider moved the credential's own expiry");
    assert.ok(
      (await appTexts(sb, n)).some((t) => /^✅ @heidi with a security key approved the extension\./.test(t)),
    );
    const entries = h.chain.map((e) => e.entry);
    assert.deepEqual(await checkStepUpProofs(entries, { repo: sb.repository, issue: n }), {
      checked: 2,
      breaks: [],
    });
  });

  it("a passkey registered before activation existed (its record names no waiting period) waits the default 24 hours from its registration", async () => {
    const port = (await sb.app.portFor(owner, repo))!;
    const legacy = {
      type: "passkey_registered",
      actor: "mallory",
      login: "mallory",
      credential_id: "bGVnYWN5LXBhc3NrZXktaWQ",
      public_key: "AA",
      counter: 0,
      device_type: "singleDevice",
      attestation: "packed",
      aaguid: CHROMIUM_VIRTUAL_AAGUID,
      hardware: true,
    } as unknown as PasskeyEvent;
    assert.deepEqual(await recordPasskey(sb.app.deps, port, "mallory", "legacy", legacy, "legacy"), {
      ok: true,
    });
    const [key] = (await readPasskeys(sb.app.deps, port, "mallory")).passkeys;
    assert.equal(Date.parse(key!.active_from) - Date.parse(key!.registered_at), 24 * 3600 * 1000);
    assert.equal(key!.activation_wait_seconds, 24 * 3600, "the rule audit verify applies to its approvals");
  });

  it("A202 without confirmation a passkey becomes active when its waiting period ends; the activation is recorded and audit verify checks it", async () => {
    const first = await person("heidi");
    await register(first);
    const credential = await credentialOf(first);
    const { credentials } = await first.cdp.send("WebAuthn.getCredentials", {
      authenticatorId: first.authenticator,
    });
    const early = await openRequest(sb, "rita", form);
    assert.match((await approveOnPage(first, early)).result, /step_up_passkey_not_active/);
    await sb.advance(WAIT_SECONDS * 1000 + 60_000);
    // A fresh sign-in (sessions last 8 hours), holding the same authenticator.
    const heidi = await person("heidi");
    await heidi.cdp.send("WebAuthn.addCredential", {
      authenticatorId: heidi.authenticator,
      credential: credentials.find(
        (c) => Buffer.from(c.credentialId, "base64").toString("base64url") === credential,
      )!,
    });
    const n = await openRequest(sb, "rita", form);
    const done = await approveOnPage(heidi, n);
    assert.match(done.result, /^Approved/, done.result);
    const h = await historyOf(sb, n);
    const record = h.events.find((e) => e.type === "approved");
    assert.ok(record?.type === "approved" && record.step_up?.method === "webauthn");
    assert.equal(record.step_up.activation?.method, "waiting-period");
    assert.equal(
      record.step_up.activation?.method === "waiting-period" &&
        record.step_up.activation.activation_wait_seconds,
      WAIT_SECONDS,
      "the approval carries the waiting period's recorded length",
    );
    const port = (await sb.app.portFor(owner, repo))!;
    const records = await readPasskeys(sb.app.deps, port, "heidi");
    assert.ok(
      records.chain.some((e) => {
        const ev = e.entry.event as { type: string; method?: string; credential_id?: string };
        return (
          ev.type === "passkey_activated" && ev.method === "waiting-period" && ev.credential_id === credential
        );
      }),
      "the waiting period's end is recorded as the activation",
    );
    assert.deepEqual(
      await checkStepUpProofs(
        h.chain.map((e) => e.entry),
        { repo: sb.repository, issue: n },
      ),
      {
        checked: 1,
        breaks: [],
      },
    );
    // A233: audit verify checks the waiting period's length against the setting recorded with it.
    const shortened = h.chain.map((e) => {
      const event = e.entry.event as LifecycleEvent;
      if (event.type !== "approved" || event.step_up?.method !== "webauthn") return e.entry;
      const activation = event.step_up.activation!;
      if (activation.method !== "waiting-period") return e.entry;
      return {
        ...e.entry,
        event: {
          ...event,
          step_up: {
            ...event.step_up,
            activation: {
              ...activation,
              active_from: new Date(Date.parse(activation.registered_at) + 3600_000).toISOString(),
            },
          },
        },
      };
    });
    const audited = await checkStepUpProofs(shortened, { repo: sb.repository, issue: n });
    assert.match(audited.breaks[0]?.reason ?? "", /is not the 7200 s recorded with its registration/);
  });

  it("A268 A269 a request naming two resources is approved per resource on the page, each assertion bound to its resource and hash; one given for one resource is refused for the other", async () => {
    const n = await openRequest(sb, "dave", { ...form, more: [`${EXTENDABLE} override 20m`] });
    const s = (await historyOf(sb, n)).state;
    const parts = ["model-guardrail-override", EXTENDABLE];
    // grace removed her passkey earlier: a new one, activated at once with her SSH signing key.
    const grace = await person("grace");
    await registerActive(grace, "grace");
    assert.deepEqual(Object.keys(s.parts ?? {}), parts);

    // The page shows each resource with its own hash, approvals and button; the requester gets none.
    await grace.page.goto(local(`/breakglass/approve/${owner}/${repo}/${n}`));
    for (const part of parts) {
      const section = grace.page.locator(`section.part[data-part="${part}"]`);
      assert.equal(await section.locator("code.hash").innerText(), s.parts![part]!.hash);
      assert.equal(await section.locator("td.approvals").innerText(), "0 of 1");
      assert.equal(await section.locator("button.approve-part").count(), 1, `grace may approve ${part}`);
    }
    const dave = await person("dave");
    await dave.page.goto(local(`/breakglass/approve/${owner}/${repo}/${n}`));
    assert.equal(await dave.page.locator("button.approve-part").count(), 0);
    assert.equal(await dave.page.locator("p.why").count(), 2, "the requester is told why, for each");
    await dave.context.close();

    // A269: the assertion the page got for the first resource, posted as if for the second, is refused.
    const [first, second] = parts as [string, string];
    await grace.page.route(`**/breakglass/approve/${owner}/${repo}/${n}`, async (route) => {
      const body = JSON.parse(route.request().postData() ?? "{}") as Record<string, unknown>;
      await route.continue({ postData: JSON.stringify({ ...body, part: second }) });
    });
    await grace.page.click(`button.approve-part[data-part="${first}"]`);
    await grace.page.locator("#result").filter({ hasText: /\S/ }).waitFor();
    assert.match(
      await grace.page.locator("#result").innerText(),
      /^Refused: step_up_wrong_request: .*given for `model-guardrail-override`/,
    );
    await grace.page.unroute(`**/breakglass/approve/${owner}/${repo}/${n}`);
    await sb.settle();
    let h = await historyOf(sb, n);
    assert.equal(h.state.parts![second]!.approvals.length, 0);
    assert.equal(h.state.parts![first]!.approvals.length, 0);
    assert.equal(
      h.state.parts![second]!.refused_page_approvals,
      1,
      "the refusal is recorded on that resource",
    );
    assert.ok(
      (await appTexts(sb, n)).some((t) => t.includes(`an approval of \`${second}\` with a passkey`)),
      "and said on the issue, naming it",
    );

    // A268: each button approves its own resource; the record binds it by name and hash; audit verify re-checks both.
    for (const part of parts) {
      await grace.page.goto(local(`/breakglass/approve/${owner}/${repo}/${n}`));
      await grace.page.click(`button.approve-part[data-part="${part}"]`);
      await grace.page.locator("#result").filter({ hasText: /\S/ }).waitFor();
      assert.equal(await grace.page.locator("#result").innerText(), `Approved ${part}: it is approved`);
      await sb.settle();
      h = await historyOf(sb, n);
      assert.equal(h.state.parts![part]!.status, "approved");
    }
    // Grace's passkey records name each resource it approved.
    const used = (await readPasskeys(sb.app.deps, (await sb.app.portFor(owner, repo))!, "grace")).chain
      .map((e) => e.entry.event as { type: string; request?: string; part?: string })
      .filter((e) => e.type === "passkey_used" && e.request === `${owner}/${repo}#${n}`);
    assert.deepEqual(used.map((e) => e.part).sort(), [first, second].sort());
    const records = h.events.filter((e) => e.type === "approved") as Array<
      Extract<LifecycleEvent, { type: "approved" }> & { part?: string }
    >;
    assert.deepEqual(
      records.map((r) => [r.part, r.step_up?.method]),
      parts.map((p) => [p, "webauthn"]),
    );
    const entries = h.chain.map((e) => e.entry);
    assert.deepEqual(await checkStepUpProofs(entries, { repo: sb.repository, issue: n }), {
      checked: 2,
      breaks: [],
    });
    // One resource's assertion recorded on the other's approval fails offline.
    const firstProof = records[0]!.step_up!;
    const swapped = entries.map((e) => {
      const event = e.event as LifecycleEvent & { part?: string };
      return event.type === "approved" && event.part === second
        ? { ...e, event: { ...event, step_up: firstProof } }
        : e;
    });
    const broken = await checkStepUpProofs(swapped, { repo: sb.repository, issue: n });
    assert.equal(broken.breaks.length, 1);
    assert.match(broken.breaks[0]!.reason, /WebAuthn assertion does not verify/);

    // Both grants live; an extension of one resource is approved on its own section, over its own hash.
    for (let i = 0; i < 2; i++) assert.equal((await sb.runGrantWorkflow(n)).exitCode, 0);
    await sb.settle();
    const live = (await historyOf(sb, n)).state;
    assert.deepEqual(
      parts.map((p) => live.parts![p]!.status),
      ["active", "active"],
    );
    await say(sb, "dave", n, `/extend 10m ${EXTENDABLE} the rollback is still running`);
    const waiting = (await historyOf(sb, n)).state.parts![EXTENDABLE]!;
    assert.ok(waiting.extension, "the extension waits on its resource");
    await grace.page.goto(local(`/breakglass/approve/${owner}/${repo}/${n}`));
    const section = grace.page.locator(`section.part[data-part="${EXTENDABLE}"]`);
    assert.equal(await section.locator("code.extension-hash").innerText(), waiting.extension.hash);
    assert.equal(
      await grace.page.locator(`section.part[data-part="${first}"] button.approve-part`).count(),
      0,
      "nothing to approve on the other resource",
    );
    await section.locator("button.approve-part").click();
    await grace.page.locator("#result").filter({ hasText: /\S/ }).waitFor();
    assert.equal(await grace.page.locator("#result").innerText(), `Approved ${EXTENDABLE}: it is active`);
    await sb.settle();
    const moved = await historyOf(sb, n);
    assert.equal(
      Date.parse(moved.state.parts![EXTENDABLE]!.grant!.expires_at),
      Date.parse(waiting.grant!.expires_at) + 10 * 60_000,
    );
    assert.equal(
      moved.state.parts![first]!.grant!.expires_at,
      live.parts![first]!.grant!.expires_at,
      "the other grant did not move",
    );
    const extensionRecord = moved.events.find((e) => e.type === "extension_approved") as
      (Extract<LifecycleEvent, { type: "extension_approved" }> & { part?: string }) | undefined;
    assert.equal(extensionRecord?.part, EXTENDABLE);
    assert.equal(extensionRecord?.step_up?.method, "webauthn");
    assert.deepEqual(
      await checkStepUpProofs(
        moved.chain.map((e) => e.entry),
        { repo: sb.repository, issue: n },
      ),
      { checked: 3, breaks: [] },
    );
  });
});
