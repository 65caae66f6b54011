/**
 * Passkey step-up in a real headless Chromium with CDP virtual authenticators, through the real app
 * and the emulator's Sign in with GitHub: a person registers a passkey on /breakglass/passkeys
 * (recorded in the ledger, announced), approves a request on /breakglass/approve/<owner>/<repo>/<N>
 * with an assertion whose challenge binds the request hash, and `audit verify` re-checks it offline.
 * Refused: another user's passkey, a replayed assertion. Attack IDs A188, A189 (docs/attack-catalogue.md).
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { chromium, type Browser, type BrowserContext, type CDPSession, type Page } from "playwright-core";
import { checkStepUpProofs } from "../../src/audit/step-up-proofs.ts";
import { SESSION_COOKIE } from "../../src/app/http/dashboard/github-sign-in.ts";
import { readPasskeys } from "../../src/app/http/passkeys/passkey-records.ts";
import type { LifecycleEvent } from "../../src/core/lifecycle-events.ts";
import { SESSION_COOKIE as GITHUB_SESSION } from "../../src/sandbox/github/oauth-web-flow.ts";
import { requestFormBody } from "../../src/sandbox/request-body.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import { appTexts, historyOf, openRequest, owner, refusalFor, repo, say } from "../security/attack-kit.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const MISSING = "install chromium (apt-get install chromium)";
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) throw new Error(`${MISSING}: nothing at ${CHROMIUM}`);

// The guardrail policy with a passkey as step-up (an SSH signature still counts too).
const policy = readFileSync("policies/model-guardrail-override.yml", "utf8").replace(
  "step_up: ssh-signature",
  "step_up: [webauthn, ssh-signature]",
);
// Rollback with a passkey that must be a hardware security key.
const hardwarePolicy = readFileSync("policies/model-rollback.yml", "utf8").replace(
  /^approvals:\n/m,
  "approvals:\n  step_up: webauthn\n  require_hardware_key: true\n",
);
const form = {
  resource: "model-guardrail-override",
  role: "override",
  duration: "30m",
  severity: "high",
} as const;

interface Person {
  context: BrowserContext;
  page: Page;
  cdp: CDPSession;
  authenticator: string;
}

describe("passkey approvals in a real browser", { skip: haveChromium ? false : MISSING }, () => {
  let sb: Sandbox;
  let browser: Browser;
  const local = (path: string) => `${sb.app.url.replace("127.0.0.1", "localhost")}${path}`;

  before(async () => {
    sb = await startSandbox({
      runWorkflows: false,
      dashboard: "github",
      files: {
        "policies/model-guardrail-override.yml": policy,
        "policies/model-rollback.yml": hardwarePolicy,
      },
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
    return { context, page, cdp, authenticator: authenticatorId };
  }

  async function register(p: Person): Promise<string> {
    await p.page.goto(local("/breakglass/passkeys"));
    await p.page.click("#register");
    await p.page.locator("#result").filter({ hasText: /\S/ }).waitFor();
    const result = await p.page.locator("#result").innerText();
    assert.match(result, /^Registered /, result);
    return result;
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

  it("registers a passkey for the signed-in login: recorded in the ledger and announced to the notify targets", async () => {
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
    assert.ok(
      sb.notifier.sent.some(
        (s) =>
          s.notification.event === "passkey_registered" &&
          s.notification.summary.startsWith("grace registered"),
      ),
      "announced",
    );
    await grace.page.goto(local("/breakglass/passkeys"));
    assert.equal(
      await grace.page.locator(`tr[data-credential="${graceCredential}"]`).count(),
      1,
      "the page lists it",
    );
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
    assert.equal(records.chain.length, 2, "the registration and the removal are both in the ledger");
    assert.ok(
      sb.notifier.sent.some(
        (s) =>
          s.notification.event === "passkey_removed" && s.notification.summary.startsWith("grace removed"),
      ),
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
    await register(heidi);
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
});
