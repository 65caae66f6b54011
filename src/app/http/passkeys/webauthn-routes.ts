import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type RegistrationResponseJSON,
} from "@simplewebauthn/server";
import { decodeAttestationObject } from "@simplewebauthn/server/helpers";
import { checkAttestationTrust, type AttestationRoots } from "../../../core/attestation-trust.ts";
import { decideApproval, decideExtensionApproval, type Actor } from "../../../core/approval-rules.ts";
import type { LifecycleEvent } from "../../../core/lifecycle-events.ts";
import { hasWriteAccess } from "../../../core/approvers.ts";
import type { Refusal } from "../../../core/refusal.ts";
import {
  checkPasskeyActivation,
  checkPasskeyChangeSignature,
  checkSignatureCounter,
  isPasskeyChange,
  passkeyChangeMessage,
  type PasskeyChange,
  DEFAULT_PASSKEY_ACTIVATION_WAIT_SECONDS,
  isHardwarePasskey,
  passkeyActivation,
  passkeyActivationMessage,
  passkeyConfirmCommand,
  publicKeySha256,
} from "../../../core/passkey-activation.ts";
import {
  challengeNonce,
  webauthnChallenge,
  type SignedTarget,
  type StepUpKind,
  type WebAuthnProof,
} from "../../../core/step-up.ts";
import type { NotifyTarget } from "../../../core/types.ts";
import {
  cookieOf,
  sealed,
  sessionLogin,
  SESSION_COOKIE,
  setCookie,
  unseal,
  type GitHubSignIn,
} from "../dashboard/github-sign-in.ts";
import type { BreakglassDeps } from "../../infra/deps.ts";
import type { GitHubPort } from "../../../github/github-port.ts";
import { recheckApprovalsNow } from "../../grant/recheck-approvals.ts";
import { approveExtension } from "../../webhooks/approve-extension.ts";
import { recordApproval } from "../../webhooks/record-approval.ts";
import { loadRepoConfig } from "../../infra/repo-config.ts";
import { RequestSession } from "../../infra/request-session.ts";
import { APPROVE_SCRIPT, PASSKEYS_SCRIPT, renderApprovePage, renderPasskeysPage } from "./passkey-pages.ts";
import { readPasskeys, recordPasskey, type PasskeyRecords } from "./passkey-records.ts";
import { requestLimits, type RequestLimits } from "./request-limits.ts";
import {
  pageApprovalRefused,
  passkeyConfirmed,
  passkeyRegistered,
} from "../../../core/messages/passkey-messages.ts";

/**
 * WebAuthn on the app's own pages, for people signed in with GitHub: /breakglass/passkeys registers
 * and removes passkeys (recorded in the ledger, announced to the notify targets), and
 * /breakglass/approve/<owner>/<repo>/<N> approves a request with an assertion whose challenge binds
 * the request hash and a one-time nonce. The eligibility rules are those of a comment approval.
 */
export interface WebAuthnConfig {
  rpName: string;
  /** The relying party id: the app's host name (a domain, not an IP address). */
  rpID: string;
  /** The app's origin as browsers see it, e.g. https://breakglass.example.com. */
  origin: string;
  /**
   * How long a new passkey waits before it counts for approvals without an SSH-signature activation
   * (default 24 h; `BREAKGLASS_PASSKEY_ACTIVATION_WAIT`).
   */
  activationWaitSeconds?: number;
  /**
   * The attestation trust roots (`BREAKGLASS_ATTESTATION_ROOTS`, `BREAKGLASS_ATTESTATION_MDS`; see
   * infra/attestation-roots.ts), read at each registration and approval. None: no passkey is hardware.
   */
  attestationRoots?: () => Promise<AttestationRoots | null>;
  /** Request limits and the access cache (request-limits.ts); default: the production limits on the app's clock. */
  limits?: RequestLimits;
}

const CHALLENGE_SECONDS = 300;
/** How long the page's activation nonce stays good after the passkey answered (long enough to sign with ssh-keygen). */
const CONFIRM_SECONDS = 600;
const CONFIRM_COOKIE = "breakglass_passkey_confirm";
const CHANGE_COOKIE = "breakglass_passkey_change";
/** Refusals on the approval page recorded (and posted) per request; further ones are only answered on the page. */
export const MAX_RECORDED_PAGE_REFUSALS = 10;
const ASSET = "/breakglass/assets/";
const require = createRequire(import.meta.url);
let browserBundle: string | null = null;
// The package's own browser bundle (its `unpkg` file; not in its exports map, so found from the package root).
const bundle = () =>
  (browserBundle ??= readFileSync(
    join(dirname(require.resolve("@simplewebauthn/browser")), "..", "dist", "bundle", "index.umd.min.js"),
    "utf8",
  ));

const HTML_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "content-security-policy":
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; form-action 'none'; frame-ancestors 'none'",
  "x-frame-options": "DENY",
};

function json(res: ServerResponse, status: number, body: unknown, cookie?: string): void {
  res
    .writeHead(status, {
      "content-type": "application/json",
      "cache-control": "no-store",
      ...(cookie ? { "set-cookie": cookie } : {}),
    })
    .end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new Error("body too large");
    chunks.push(chunk as Buffer);
  }
  const value = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as unknown;
  return value && typeof value === "object" ? (value as Record<string, unknown>) : {};
}

/** What the page approves: the request, or the extension waiting on its live grant (signed over the extension's hash). */
interface Target {
  kind: StepUpKind;
  hash: string;
}
const targetOf = (session: RequestSession): Target =>
  session.state.status === "active" && session.state.extension
    ? { kind: "extend", hash: session.state.extension.hash }
    : { kind: "approve", hash: session.state.hash ?? "" };
/** What the challenge binds: the hash, or for a part of a request naming several resources the part by name and its hash. */
const boundOf = (session: RequestSession, target: Target): SignedTarget =>
  session.part === null ? target.hash : [{ resource: session.part, hash: target.hash }];
/** The part a post names (`part`), or null. */
const partIn = (body: Record<string, unknown>): string | null =>
  typeof body.part === "string" && body.part !== "" ? body.part.slice(0, 100) : null;

/** A refusal on the approval page, with its HTTP status. */
type PageRefusal = { status: number; code: string; message: string };
/** Refusals that concern no request attempt (a malformed post): answered on the page only. */
const UNRECORDED = new Set(["bad_request", "not_found", "invalid_request", "part_required"]);

/** The attestation statement's certificate chain (`x5c`, leaf first) as base64 DER; none for `none` or self-attestation. */
function attestationChain(attestationObject: Uint8Array<ArrayBuffer>): string[] {
  try {
    const x5c = decodeAttestationObject(attestationObject).get("attStmt").get("x5c") ?? [];
    return x5c.map((c) => Buffer.from(c).toString("base64"));
  } catch {
    return [];
  }
}

/** A short tag of the sign-in session that made a change (its cookie's hash): the page tells the person's own session from another. */
export const sessionTag = (req: IncomingMessage): string =>
  createHash("sha256")
    .update(cookieOf(req, SESSION_COOKIE) ?? "")
    .digest("base64url")
    .slice(0, 12);

const refusal = (res: ServerResponse, status: number, r: Refusal | { code: string; message: string }) =>
  json(res, status, { error: r.code, message: r.message });

export function webauthnRoutes(
  deps: BreakglassDeps,
  signIn: GitHubSignIn,
  webauthn: WebAuthnConfig,
  portFor: (owner: string, repo: string) => Promise<GitHubPort | null>,
  installedNow: () => Promise<GitHubPort[]>,
) {
  const now = () => deps.now();
  const CHALLENGE_COOKIE = "breakglass_webauthn";
  const limits = webauthn.limits ?? requestLimits(now);
  // The installed repositories, asked of GitHub at most once a minute for all the pages' requests.
  const installed = () => limits.cached("installed", installedNow);

  /** A port on one of `owner`'s repositories, for the owner-wide passkey records. */
  async function ownerPort(owner: string): Promise<GitHubPort | null> {
    return (await installed()).find((p) => p.owner.toLowerCase() === owner.toLowerCase()) ?? null;
  }

  /** The notify targets of every policy of the owner's repositories, each once. */
  async function ownerTargets(owner: string): Promise<NotifyTarget[]> {
    const seen = new Map<string, NotifyTarget>();
    for (const port of (await installed()).filter((p) => p.owner.toLowerCase() === owner.toLowerCase())) {
      for (const policy of (await loadRepoConfig(port)).policies.values())
        for (const t of policy.notify) seen.set(JSON.stringify(t), t);
    }
    return [...seen.values()];
  }

  /**
   * Whether `login` has write access to at least one repository of the owner's installation (the
   * repositories the installation lists, `GET /installation/repositories`, each asked with GitHub's
   * collaborator permission API under the installation's token): only they may register or remove
   * passkeys there, so strangers cannot fill the owner's notify targets with announcements. Write,
   * not read: a passkey only approves, an approver needs write, and in a public repository GitHub
   * reports read for anyone.
   */
  async function hasAccess(owner: string, login: string): Promise<boolean> {
    // Cached per login and owner for a minute: a reload loop costs GitHub nothing more.
    return limits.cached(`access:${owner.toLowerCase()}:${login.toLowerCase()}`, async () => {
      for (const port of (await installed()).filter((p) => p.owner.toLowerCase() === owner.toLowerCase()))
        if (hasWriteAccess(await port.permission(login).catch(() => "none" as const))) return true;
      return false;
    });
  }
  const waitSeconds = webauthn.activationWaitSeconds ?? DEFAULT_PASSKEY_ACTIVATION_WAIT_SECONDS;

  /**
   * The step-up a change to `login`'s passkeys needs once one of them is active (core/passkey-activation.ts,
   * passkeyChangeMessage): an assertion by an active passkey over the change and the nonce this session
   * was given (`/breakglass/passkeys/change-options`), or an SSH signature over the same. No active
   * passkey: nothing a session could take over, so the change goes ahead. What proved it, or the refusal.
   */
  async function changeStepUp(
    req: IncomingMessage,
    body: Record<string, unknown>,
    port: GitHubPort,
    records: PasskeyRecords,
    login: string,
    owner: string,
    change: PasskeyChange,
  ): Promise<{ ok: true; by: string | null } | { ok: false; status: number; code: string; message: string }> {
    const active = records.passkeys.filter((k) => passkeyActivation(k, now()).ok);
    if (active.length === 0) return { ok: true, by: null };
    const given = unseal(signIn.sessionKey, "passkey-change", cookieOf(req, CHANGE_COOKIE), now());
    const stepUp = (body.step_up ?? null) as {
      assertion?: AuthenticationResponseJSON;
      signature?: unknown;
    } | null;
    const required = {
      ok: false as const,
      status: 403,
      code: "passkey_step_up_required",
      message: `@${login} has an active passkey: ${change === "register" ? "registering another" : "removing one"} needs an assertion by one of your active passkeys, or an SSH signature by one of your GitHub signing keys over the change this page shows. A signed-in session alone cannot change your passkeys.`,
    };
    if (
      !given ||
      given.login !== login ||
      given.owner !== owner ||
      given.change !== change ||
      typeof given.nonce !== "string" ||
      !stepUp ||
      typeof stepUp !== "object"
    )
      return required;
    const message = passkeyChangeMessage(port.owner, login, change, given.nonce);
    // One step-up, one change: the nonce is taken in the ledger once it proved the change.
    const once = async (by: string) =>
      (await port.ledger.reserve(`passkey-change-${given.nonce}`, 0))
        ? { ok: true as const, by }
        : {
            ok: false as const,
            status: 409,
            code: "step_up_replayed",
            message: "This step-up was used already: start the change again from the page.",
          };
    if (typeof stepUp.signature === "string") {
      const checked = checkPasskeyChangeSignature({
        owner: port.owner,
        login,
        change,
        nonce: given.nonce,
        signature: stepUp.signature.slice(0, 8192),
        signingKeys: await port.sshSigningKeys(login),
      });
      return checked.ok
        ? once(`SSH signing key ${checked.value.key_fingerprint}`)
        : { ok: false, status: 403, ...checked.error };
    }
    const assertion = stepUp.assertion;
    const key = active.find((k) => k.credential_id === assertion?.id);
    if (!assertion || !key)
      return {
        ...required,
        code: "step_up_unknown_key",
        message: `The passkey that answered is not one of @${login}'s active passkeys.`,
      };
    let verified;
    try {
      verified = await verifyAuthenticationResponse({
        response: assertion,
        expectedChallenge: Buffer.from(message, "utf8").toString("base64url"),
        expectedOrigin: webauthn.origin,
        expectedRPID: webauthn.rpID,
        credential: {
          id: key.credential_id,
          publicKey: new Uint8Array(Buffer.from(key.public_key, "base64url")),
          counter: 0,
        },
        requireUserVerification: false,
      });
    } catch (error) {
      return {
        ok: false,
        status: 403,
        code: "step_up_bad_signature",
        message: `The assertion does not verify: ${(error as Error).message.slice(0, 200)}`,
      };
    }
    if (!verified.verified)
      return {
        ok: false,
        status: 403,
        code: "step_up_bad_signature",
        message: "The assertion does not verify.",
      };
    const counted = checkSignatureCounter(
      key.counter,
      verified.authenticationInfo.newCounter,
      key.credential_id,
    );
    if (!counted.ok) return { ok: false, status: 403, ...counted.error };
    return once(`passkey ${key.credential_id.slice(0, 16)}`);
  }

  const sameOrigin = (req: IncomingMessage) =>
    req.headers.origin === webauthn.origin &&
    (req.headers["content-type"] ?? "").startsWith("application/json");

  return async function routes(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? "/", "http://app");
    const path = url.pathname;
    if (req.method === "GET" && path === `${ASSET}webauthn-browser.js`) {
      res
        .writeHead(200, {
          "content-type": "text/javascript; charset=utf-8",
          "cache-control": "public, max-age=3600",
        })
        .end(bundle());
      return true;
    }
    if (req.method === "GET" && (path === `${ASSET}passkeys.js` || path === `${ASSET}approve.js`)) {
      res
        .writeHead(200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-store" })
        .end(path.endsWith("passkeys.js") ? PASSKEYS_SCRIPT : APPROVE_SCRIPT);
      return true;
    }
    const passkeys = path === "/breakglass/passkeys" || path.startsWith("/breakglass/passkeys/");
    const approve =
      /^\/breakglass\/approve\/([A-Za-z0-9-]{1,39})\/([A-Za-z0-9._-]{1,100})\/(\d{1,9})(\/options)?$/.exec(
        path,
      );
    if (!passkeys && !approve) return false;
    const login = sessionLogin(signIn, req);
    if (!login) {
      if (req.method === "GET")
        res.writeHead(302, { location: "/breakglass/login", "cache-control": "no-store" }).end();
      else
        refusal(res, 401, {
          code: "not_signed_in",
          message: "Sign in with GitHub at /breakglass/login first.",
        });
      return true;
    }
    const admitted = limits.admit(login, req.socket.remoteAddress ?? "unknown");
    if (!admitted.ok) {
      res
        .writeHead(429, {
          "content-type": "application/json",
          "cache-control": "no-store",
          "retry-after": String(admitted.retryAfterSeconds),
        })
        .end(
          JSON.stringify({
            error: "too_many_requests",
            message: `Too many requests to the passkey pages from you: try again in ${admitted.retryAfterSeconds} s.`,
          }),
        );
      return true;
    }
    if (req.method === "POST" && !sameOrigin(req)) {
      refusal(res, 403, {
        code: "cross_origin",
        message: `Only the app's own pages (${webauthn.origin}) may post here, as JSON.`,
      });
      return true;
    }
    if (passkeys) return passkeyRoute(req, res, url, login);
    const [, owner, repo, n, options] = approve!;
    return approveRoute(req, res, login, owner!, repo!, Number(n), options !== undefined);
  };

  async function passkeyRoute(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    login: string,
  ): Promise<boolean> {
    const path = url.pathname;
    if (req.method === "GET" && path === "/breakglass/passkeys") {
      const owners = [...new Set((await installed()).map((p) => p.owner))];
      const owner = url.searchParams.get("owner") ?? owners[0] ?? "";
      const port = await ownerPort(owner);
      const records = port ? await readPasskeys(deps, port, login) : null;
      res.writeHead(200, HTML_HEADERS).end(
        renderPasskeysPage({
          login,
          owner,
          owners,
          now: now(),
          passkeys: records?.passkeys ?? [],
          changes: records?.changes ?? [],
          session: sessionTag(req),
          problem: records?.problem ?? (port ? null : `the app is not installed on ${owner}`),
        }),
      );
      return true;
    }
    if (req.method !== "POST") return false;
    const body = await readJson(req).catch(() => null);
    const owner = typeof body?.owner === "string" ? body.owner : "";
    const port = await ownerPort(owner);
    if (!body || !port) {
      refusal(res, 400, { code: "unknown_owner", message: `The app is not installed on "${owner}".` });
      return true;
    }
    if (!(await hasAccess(owner, login))) {
      refusal(res, 403, {
        code: "no_repository_access",
        message: `@${login} has write access to none of the repositories the app is installed on in ${owner}: only people who can push to one of them (approvers need write) may register or remove passkeys there.`,
      });
      return true;
    }
    const records = await readPasskeys(deps, port, login);
    if (records.problem) {
      refusal(res, 409, {
        code: "records_tampered",
        message: `Your passkey records do not verify (${records.problem}); tell the app's operators.`,
      });
      return true;
    }
    if (path === "/breakglass/passkeys/change-options") {
      const change = typeof body.change === "string" ? body.change : "";
      if (!isPasskeyChange(change)) {
        refusal(res, 400, {
          code: "bad_request",
          message: "Say which change: `register` or `remove:<credential id>`.",
        });
        return true;
      }
      const active = records.passkeys.filter((k) => passkeyActivation(k, now()).ok);
      if (active.length === 0) {
        json(res, 200, { required: false });
        return true;
      }
      const nonce = randomBytes(18).toString("base64url");
      const message = passkeyChangeMessage(port.owner, login, change, nonce);
      const options = await generateAuthenticationOptions({
        rpID: webauthn.rpID,
        challenge: Buffer.from(message, "utf8"),
        userVerification: "preferred",
        allowCredentials: active.map((k) => ({
          id: k.credential_id,
          ...(k.transports ? { transports: k.transports as never } : {}),
        })),
      });
      const cookie = sealed(signIn.sessionKey, "passkey-change", {
        login,
        owner,
        change,
        nonce,
        exp: Math.floor(now() / 1000) + CHALLENGE_SECONDS,
      });
      json(
        res,
        200,
        { required: true, options, message },
        setCookie(signIn, CHANGE_COOKIE, cookie, CHALLENGE_SECONDS),
      );
      return true;
    }
    if (path === "/breakglass/passkeys/options") {
      const options = await generateRegistrationOptions({
        rpName: webauthn.rpName,
        rpID: webauthn.rpID,
        userName: login,
        userID: new TextEncoder().encode(login.toLowerCase()),
        attestationType: "direct",
        excludeCredentials: records.passkeys.map((k) => ({
          id: k.credential_id,
          ...(k.transports ? { transports: k.transports } : {}),
        })),
        authenticatorSelection: { residentKey: "required", userVerification: "preferred" },
      });
      const cookie = sealed(signIn.sessionKey, "webauthn-register", {
        login,
        owner,
        challenge: options.challenge,
        exp: Math.floor(now() / 1000) + CHALLENGE_SECONDS,
      });
      json(res, 200, options, setCookie(signIn, CHALLENGE_COOKIE, cookie, CHALLENGE_SECONDS));
      return true;
    }
    if (path === "/breakglass/passkeys/register") {
      const expected = unseal(signIn.sessionKey, "webauthn-register", cookieOf(req, CHALLENGE_COOKIE), now());
      if (!expected || expected.login !== login || expected.owner !== owner) {
        refusal(res, 400, {
          code: "challenge_expired",
          message: "Start the registration again from this page.",
        });
        return true;
      }
      const stepped = await changeStepUp(req, body, port, records, login, owner, "register");
      if (!stepped.ok) {
        refusal(res, stepped.status, stepped);
        return true;
      }
      let verified;
      try {
        verified = await verifyRegistrationResponse({
          response: body.response as RegistrationResponseJSON,
          expectedChallenge: String(expected.challenge),
          expectedOrigin: webauthn.origin,
          expectedRPID: webauthn.rpID,
          requireUserVerification: false,
        });
      } catch (error) {
        refusal(res, 400, {
          code: "registration_refused",
          message: `The passkey could not be registered: ${(error as Error).message.slice(0, 200)}`,
        });
        return true;
      }
      if (!verified.verified) {
        refusal(res, 400, {
          code: "registration_refused",
          message: "The passkey's registration does not verify.",
        });
        return true;
      }
      const info = verified.registrationInfo;
      // The library verified that the attestation statement signs this registration; who vouches for
      // its certificate is checked here, against the operator's roots (none, self or an unknown root:
      // not hardware, whatever AAGUID it claims). The chain is kept, to be checked again at each approval.
      const chain = attestationChain(info.attestationObject);
      const trust = checkAttestationTrust({
        fmt: info.fmt,
        chain,
        aaguid: info.aaguid,
        roots: (await webauthn.attestationRoots?.()) ?? null,
        now: now(),
      });
      const hardware = info.credentialDeviceType === "singleDevice" && trust.ok;
      const credential_id = info.credential.id;
      if (records.chain.some((e) => e.entry.id === `passkey:${credential_id}:registered`)) {
        refusal(res, 409, {
          code: "passkey_registered_before",
          message: `The credential \`${credential_id.slice(0, 16)}\` was registered here before${records.passkeys.some((k) => k.credential_id === credential_id) ? "" : " and removed"}: a removed passkey is not registered again. Create a new passkey on your authenticator (or reset it) and register that.`,
        });
        return true;
      }
      const active_from = new Date(now() + waitSeconds * 1000).toISOString();
      const event = {
        type: "passkey_registered" as const,
        actor: login,
        login,
        credential_id,
        public_key: Buffer.from(info.credential.publicKey).toString("base64url"),
        counter: info.credential.counter,
        ...(info.credential.transports ? { transports: [...info.credential.transports] } : {}),
        device_type: info.credentialDeviceType,
        attestation: info.fmt,
        aaguid: info.aaguid,
        ...(chain.length ? { attestation_chain: chain } : {}),
        ...(trust.ok ? { attestation_root: trust.value.root_fingerprint } : {}),
        hardware,
        active_from,
        activation_wait_seconds: waitSeconds,
        session: sessionTag(req),
        ...(stepped.by ? { confirmed_by: stepped.by } : {}),
      };
      const written = await recordPasskey(
        deps,
        port,
        login,
        `passkey:${credential_id}:registered`,
        event,
        passkeyRegistered({
          login,
          attested: hardware,
          aaguid: info.aaguid,
          credentialId: credential_id,
          activeFrom: active_from,
        }),
      );
      if (!written.ok) {
        refusal(res, 503, { code: "ledger_unavailable", message: written.problem });
        return true;
      }
      await deps.notifier.notify(await ownerTargets(owner), {
        event: "passkey_registered",
        repository: owner,
        issue: 0,
        url: `${webauthn.origin}/breakglass/passkeys`,
        summary: `${login} registered a passkey (${hardware ? "security key" : "passkey"}, ${credential_id.slice(0, 16)}); it becomes active for approvals at ${active_from} unless removed or confirmed earlier with an SSH signature — if ${login} did not register it, remove it at once`,
      });
      json(res, 200, {
        ok: true,
        credential_id,
        hardware,
        active_from,
        ...(trust.ok ? {} : { not_hardware: trust.error.message }),
      });
      return true;
    }
    if (path === "/breakglass/passkeys/prove-options" || path === "/breakglass/passkeys/prove") {
      // Before the page shows how to activate a pending passkey, that passkey must answer an assertion
      // in this session: a person never gets a ready command for one registered by someone else.
      const credential_id = typeof body.credential_id === "string" ? body.credential_id : "";
      const passkey = records.passkeys.find((k) => k.credential_id === credential_id);
      if (!passkey) {
        refusal(res, 404, { code: "unknown_passkey", message: "That is not one of your passkeys." });
        return true;
      }
      if (path.endsWith("/prove-options")) {
        const options = await generateAuthenticationOptions({
          rpID: webauthn.rpID,
          userVerification: "preferred",
          allowCredentials: [
            { id: credential_id, ...(passkey.transports ? { transports: passkey.transports as never } : {}) },
          ],
        });
        const cookie = sealed(signIn.sessionKey, "webauthn-prove", {
          login,
          owner,
          credential_id,
          challenge: options.challenge,
          exp: Math.floor(now() / 1000) + CHALLENGE_SECONDS,
        });
        json(res, 200, options, setCookie(signIn, CHALLENGE_COOKIE, cookie, CHALLENGE_SECONDS));
        return true;
      }
      const given = unseal(signIn.sessionKey, "webauthn-prove", cookieOf(req, CHALLENGE_COOKIE), now());
      const response = body.response as AuthenticationResponseJSON | undefined;
      if (!given || given.login !== login || given.owner !== owner || given.credential_id !== credential_id) {
        refusal(res, 400, { code: "challenge_expired", message: "Start again from this page." });
        return true;
      }
      let proven;
      try {
        proven =
          response?.id === credential_id &&
          (
            await verifyAuthenticationResponse({
              response,
              expectedChallenge: String(given.challenge),
              expectedOrigin: webauthn.origin,
              expectedRPID: webauthn.rpID,
              credential: {
                id: credential_id,
                publicKey: new Uint8Array(Buffer.from(passkey.public_key, "base64url")),
                counter: 0,
              },
              requireUserVerification: false,
            })
          ).verified;
      } catch {
        proven = false;
      }
      if (!proven) {
        refusal(res, 403, {
          code: "passkey_not_proven",
          message: `This browser did not answer with the passkey \`${credential_id.slice(0, 16)}\`: if you did not register it, remove it now.`,
        });
        return true;
      }
      const binding = {
        public_key_sha256: publicKeySha256(passkey.public_key),
        registered_at: passkey.registered_at,
        // Hex, so it never starts with "-" (which a command line would take for an option).
        nonce: randomBytes(16).toString("hex"),
      };
      const confirm = sealed(signIn.sessionKey, "passkey-confirm", {
        login,
        owner,
        credential_id,
        nonce: binding.nonce,
        exp: Math.floor(now() / 1000) + CONFIRM_SECONDS,
      });
      json(
        res,
        200,
        {
          ok: true,
          binding,
          command: passkeyConfirmCommand(port.owner, login, credential_id, binding),
          message: passkeyActivationMessage(port.owner, login, credential_id, binding),
        },
        setCookie(signIn, CONFIRM_COOKIE, confirm, CONFIRM_SECONDS),
      );
      return true;
    }
    if (path === "/breakglass/passkeys/activate") {
      const credential_id = typeof body.credential_id === "string" ? body.credential_id : "";
      const passkey = records.passkeys.find((k) => k.credential_id === credential_id);
      if (!passkey) {
        refusal(res, 404, { code: "unknown_passkey", message: "That is not one of your passkeys." });
        return true;
      }
      if (passkey.activated) {
        json(res, 200, { ok: true, activated_at: passkey.activated.at });
        return true;
      }
      const confirm = unseal(signIn.sessionKey, "passkey-confirm", cookieOf(req, CONFIRM_COOKIE), now());
      if (
        !confirm ||
        confirm.login !== login ||
        confirm.owner !== owner ||
        confirm.credential_id !== credential_id ||
        typeof confirm.nonce !== "string"
      ) {
        refusal(res, 403, {
          code: "passkey_not_proven",
          message: `First show that this browser holds the passkey \`${credential_id.slice(0, 16)}\` ("This is my passkey" on /breakglass/passkeys, within ${CONFIRM_SECONDS / 60} minutes), then sign the command it shows. If you did not register it, remove it now.`,
        });
        return true;
      }
      const binding = {
        public_key_sha256: publicKeySha256(passkey.public_key),
        registered_at: passkey.registered_at,
        nonce: confirm.nonce,
      };
      const checked = checkPasskeyActivation({
        owner: port.owner,
        login,
        credentialId: credential_id,
        binding,
        signature: typeof body.signature === "string" ? body.signature.slice(0, 8192) : "",
        signingKeys: await port.sshSigningKeys(login),
      });
      if (!checked.ok) {
        refusal(res, 403, checked.error);
        return true;
      }
      const written = await recordPasskey(
        deps,
        port,
        login,
        `passkey:${credential_id}:activated`,
        {
          type: "passkey_activated",
          actor: login,
          login,
          credential_id,
          method: "ssh-signature",
          proof: checked.value,
          binding,
        },
        passkeyConfirmed(login, credential_id, checked.value.key_fingerprint),
      );
      if (!written.ok) {
        refusal(res, 503, { code: "ledger_unavailable", message: written.problem });
        return true;
      }
      await deps.notifier.notify(await ownerTargets(owner), {
        event: "passkey_activated",
        repository: owner,
        issue: 0,
        url: `${webauthn.origin}/breakglass/passkeys`,
        summary: `${login} confirmed a passkey (${credential_id.slice(0, 16)}) with the SSH signing key ${checked.value.key_fingerprint}`,
      });
      json(res, 200, { ok: true, activated_at: new Date(now()).toISOString() });
      return true;
    }
    if (path === "/breakglass/passkeys/remove") {
      const credential_id = typeof body.credential_id === "string" ? body.credential_id : "";
      if (!records.passkeys.some((k) => k.credential_id === credential_id)) {
        refusal(res, 404, { code: "unknown_passkey", message: "That is not one of your passkeys." });
        return true;
      }
      const stepped = await changeStepUp(req, body, port, records, login, owner, `remove:${credential_id}`);
      if (!stepped.ok) {
        refusal(res, stepped.status, stepped);
        return true;
      }
      const written = await recordPasskey(
        deps,
        port,
        login,
        `passkey:${credential_id}:removed:${records.chain.length}`,
        {
          type: "passkey_removed",
          actor: login,
          login,
          credential_id,
          session: sessionTag(req),
          ...(stepped.by ? { confirmed_by: stepped.by } : {}),
        },
        `🗑️ @${login} removed a passkey (\`${credential_id.slice(0, 16)}\`).`,
      );
      if (!written.ok) {
        refusal(res, 503, { code: "ledger_unavailable", message: written.problem });
        return true;
      }
      await deps.notifier.notify(await ownerTargets(owner), {
        event: "passkey_removed",
        repository: owner,
        issue: 0,
        url: `${webauthn.origin}/breakglass/passkeys`,
        summary: `${login} removed a passkey (${credential_id.slice(0, 16)})${stepped.by ? `, confirmed with ${stepped.by}` : ""} — if ${login} did not, their GitHub sign-in may be stolen`,
      });
      json(res, 200, { ok: true });
      return true;
    }
    return false;
  }

  async function approveRoute(
    req: IncomingMessage,
    res: ServerResponse,
    login: string,
    owner: string,
    repo: string,
    n: number,
    options: boolean,
  ): Promise<boolean> {
    const port = await portFor(owner, repo);
    if (!port || (await port.permission(login).catch(() => "none")) === "none") {
      refusal(res, 404, {
        code: "not_found",
        message: `No request ${owner}/${repo}#${n} that you can read.`,
      });
      return true;
    }
    const repository = `${port.owner}/${port.repo}`;
    if (req.method === "GET" && !options) {
      const session = await RequestSession.open(deps, port, n);
      // A request naming several resources: each part as its own approval, with whether this login may give it.
      const parts =
        session.wholeState.parts === null
          ? undefined
          : await Promise.all(
              session.parts().map(async (view) => ({
                part: view.part!,
                state: view.state,
                ...(await pageStanding(view, login)),
              })),
            );
      res.writeHead(200, HTML_HEADERS).end(
        renderApprovePage({
          login,
          repository,
          issue: n,
          url: session.url,
          state: session.wholeState,
          ...(parts ? { parts } : {}),
        }),
      );
      return true;
    }
    if (req.method !== "POST") return false;
    const body = await readJson(req).catch(() => null);
    if (!body) {
      refusal(res, 400, { code: "bad_request", message: "Send JSON." });
      return true;
    }
    // Every refusal of an approval attempt is also recorded and said on the request's issue, so the
    // requester and the other approvers see it (bounded: one per person, code and request version,
    // and at most MAX_RECORDED_PAGE_REFUSALS per request).
    const run = async () => {
      const part = partIn(body);
      const refused = options
        ? await approvalOptions(res, port, login, repository, n, part)
        : await approveWithAssertion(req, res, port, login, repository, n, body);
      if (refused) {
        // Recorded before the page hears of it, so whoever reads the issue next sees it (on its part).
        if (!UNRECORDED.has(refused.code)) await recordPageRefusal(port, login, n, refused, part);
        refusal(res, refused.status, refused);
      }
    };
    const lock = deps.lock;
    await (lock ? lock(`${port.owner}/${port.repo}#${n}`, run) : run());
    return true;
  }

  async function recordPageRefusal(
    port: GitHubPort,
    login: string,
    n: number,
    r: PageRefusal,
    part: string | null,
  ): Promise<void> {
    try {
      const opened = await RequestSession.open(deps, port, n);
      // A part's refusals are that part's record, bounded on that part.
      const session = viewOf(opened, part);
      if (!session || !session.state.request) return;
      // Approvers' refusals and everyone else's are bounded apart: readers who could never approve
      // (anyone, in a public repository) must not fill the bound and hide an approver's refusal.
      const { approver: eligible } = await standing(session, login);
      const count = eligible
        ? session.state.refused_page_approvals
        : session.state.refused_page_approvals_others;
      if (count >= MAX_RECORDED_PAGE_REFUSALS) return;
      const last = count + 1 === MAX_RECORDED_PAGE_REFUSALS;
      await session.record(
        `page_refused:${login.toLowerCase()}:${r.code}:${session.part === null ? "" : `${session.part}:`}${session.state.hash ?? "none"}`,
        {
          type: "approval_page_refused",
          actor: login,
          code: r.code,
          message: r.message.slice(0, 500),
          eligible,
        },
        pageApprovalRefused(login, r, last ? MAX_RECORDED_PAGE_REFUSALS : null, eligible, session.part),
      );
      await session.publish();
    } catch {
      // The refusal stands on the page either way; failing to record it must not turn a 403 into a 500.
    }
  }

  /**
   * The view a post acts on: the request (one resource: `part` absent or naming it), or the part it
   * names of a request naming several; null when it names no part of this request.
   */
  function viewOf(session: RequestSession, part: string | null): RequestSession | null {
    const parts = session.wholeState.parts;
    if (parts === null) return part === null || part === session.state.request?.resource ? session : null;
    return part !== null && part in parts ? session.forPart(part) : null;
  }

  /**
   * Where `login` stands on one request (or part): the actor a comment approval would be decided for,
   * and whether they are an approver at all (an owner with write access, not the requester). The one
   * access check the page, its refusal bound and its approval share.
   */
  async function standing(
    session: RequestSession,
    login: string,
  ): Promise<{ actor: Actor; approver: boolean }> {
    const actor = await session.actor({ login, type: "User" });
    const approver =
      actor.eligibility !== null &&
      hasWriteAccess(actor.permission) &&
      login.toLowerCase() !== (session.state.requester ?? "").toLowerCase();
    return { actor, approver };
  }

  /** What the page shows of one part: whether this login may approve it now with a passkey, or why not. */
  async function pageStanding(
    session: RequestSession,
    login: string,
  ): Promise<{ mayApprove: boolean; why: string | null }> {
    const decided = await decideOnPage(session, login);
    return decided.ok ? { mayApprove: true, why: null } : { mayApprove: false, why: decided.error.message };
  }

  /**
   * A passkey approval of this request (or part) by `login`, decided by the rules of a comment
   * approval before anything is signed or recorded: what it approves and its event, or the refusal.
   * The one check the page (may this login approve it?), the challenge and the approval share.
   */
  async function decideOnPage(
    session: RequestSession,
    login: string,
  ): Promise<
    | { ok: true; target: Target; decided: LifecycleEvent }
    | { ok: false; error: Refusal | { code: string; message: string } }
  > {
    const policy = session.policy();
    if (!policy || !session.state.hash)
      return { ok: false, error: { code: "invalid_request", message: "The request is not valid." } };
    const methods = policy.approvals.step_up?.methods ?? [];
    if (methods.length > 0 && !methods.includes("webauthn"))
      return {
        ok: false,
        error: {
          code: "step_up_required",
          message: `This policy's step-up is ${methods.join(", ")}, not a passkey: approve with \`breakglass approve\`${session.part === null ? "" : ` --resource ${session.part}`}.`,
        },
      };
    const { actor } = await standing(session, login);
    const target = targetOf(session);
    // A live grant with an extension waiting: the page approves the extension, as `/approve` would.
    const decided =
      target.kind === "extend"
        ? decideExtensionApproval(session.state, actor)
        : decideApproval(session.state, actor);
    return decided.ok ? { ok: true, target, decided: decided.value } : decided;
  }

  /** The checks a comment approval gets, before anything is signed or recorded; the session (the part's view), or the refusal. */
  async function eligible(
    port: GitHubPort,
    login: string,
    n: number,
    part: string | null,
  ): Promise<
    | { session: RequestSession; target: Target; decided: LifecycleEvent }
    | { refusal: Refusal | { code: string; message: string } }
  > {
    const opened = await RequestSession.open(deps, port, n);
    const session = viewOf(opened, part);
    if (!session) {
      const parts = Object.keys(opened.wholeState.parts ?? {});
      return {
        refusal:
          parts.length && part === null
            ? {
                code: "part_required",
                message: `This request names several resources (${parts.join(", ")}): approve each one on its own, naming it.`,
              }
            : { code: "bad_request", message: `This request names no resource "${part}".` },
      };
    }
    const decided = await decideOnPage(session, login);
    if (!decided.ok) return { refusal: decided.error };
    return { session, target: decided.target, decided: decided.decided };
  }

  async function approvalOptions(
    res: ServerResponse,
    port: GitHubPort,
    login: string,
    repository: string,
    n: number,
    part: string | null,
  ): Promise<PageRefusal | null> {
    const checked = await eligible(port, login, n, part);
    if ("refusal" in checked)
      return { status: checked.refusal.code === "part_required" ? 400 : 403, ...checked.refusal };
    const { kind, hash } = checked.target;
    const nonce = randomBytes(18).toString("base64url");
    // A part's challenge binds the part by name and its hash, so its assertion approves that part only.
    const challenge = webauthnChallenge(kind, repository, n, boundOf(checked.session, checked.target), nonce);
    const options = await generateAuthenticationOptions({
      rpID: webauthn.rpID,
      challenge: Buffer.from(challenge, "base64url"),
      userVerification: "preferred",
      allowCredentials: [],
    });
    const cookie = sealed(signIn.sessionKey, "webauthn-approve", {
      login,
      repository,
      n,
      kind,
      hash,
      part: checked.session.part,
      challenge: options.challenge,
      exp: Math.floor(now() / 1000) + CHALLENGE_SECONDS,
    });
    json(
      res,
      200,
      { ...options, hash, ...(checked.session.part !== null ? { part: checked.session.part } : {}) },
      setCookie(signIn, CHALLENGE_COOKIE, cookie, CHALLENGE_SECONDS),
    );
    return null;
  }

  async function approveWithAssertion(
    req: IncomingMessage,
    res: ServerResponse,
    port: GitHubPort,
    login: string,
    repository: string,
    n: number,
    body: Record<string, unknown>,
  ): Promise<PageRefusal | null> {
    const refuse = (status: number, r: { code: string; message: string }): PageRefusal => ({
      status,
      code: r.code,
      message: r.message,
    });
    const response = body.response as AuthenticationResponseJSON | undefined;
    if (!response || typeof response.id !== "string" || typeof response.response?.clientDataJSON !== "string")
      return refuse(400, { code: "bad_request", message: "Send the assertion as `response`." });
    let clientChallenge = "";
    try {
      clientChallenge = String(
        (
          JSON.parse(Buffer.from(response.response.clientDataJSON, "base64url").toString("utf8")) as {
            challenge?: unknown;
          }
        ).challenge ?? "",
      );
    } catch {
      return refuse(400, {
        code: "step_up_bad_signature",
        message: "The assertion's client data is not JSON.",
      });
    }
    // The challenge must be one this app gave this person for this request (kept in a sealed cookie).
    const given = unseal(signIn.sessionKey, "webauthn-approve", cookieOf(req, CHALLENGE_COOKIE), now());
    const part = partIn(body);
    if (
      !given ||
      given.login !== login ||
      given.repository !== repository ||
      given.n !== n ||
      given.challenge !== clientChallenge
    ) {
      return refuse(403, {
        code: "step_up_wrong_request",
        message:
          "The assertion answers no challenge this page gave you for this request (or it is older than 5 minutes): reload the page and approve again.",
      });
    }
    const givenPart = typeof given.part === "string" ? given.part : null;
    // A replayed assertion is refused as such, whatever the request's state now.
    const givenKind: StepUpKind = given.kind === "extend" ? "extend" : "approve";
    const givenHash = String(given.hash);
    const givenNonce = challengeNonce(
      clientChallenge,
      givenKind,
      repository,
      n,
      givenPart === null ? givenHash : [{ resource: givenPart, hash: givenHash }],
    );
    if (givenNonce && (await port.ledger.reserved(`webauthn-${givenNonce}`)))
      return refuse(409, {
        code: "step_up_replayed",
        message: "This assertion was used already: approve again from the page.",
      });
    // Approvals that no longer hold go first, as for a comment; then the rules of a comment approval.
    const opened = viewOf(await RequestSession.open(deps, port, n), part);
    // An assertion given for one resource of the request is never taken for another.
    if (opened && opened.part !== givenPart)
      return refuse(403, {
        code: "step_up_wrong_request",
        message: `The assertion was given for ${givenPart === null ? "the request as a whole" : `\`${givenPart}\``}, not for ${opened.part === null ? "the request as a whole" : `\`${opened.part}\``}: approve each resource with its own button.`,
      });
    if (opened?.policy() && targetOf(opened).kind === "approve") {
      const rechecked = await recheckApprovalsNow(opened, opened.policy()!, "approval");
      if (!rechecked.ok) return refuse(403, { code: rechecked.code, message: rechecked.message });
    }
    const checked = await eligible(port, login, n, part);
    if ("refusal" in checked) return refuse(403, checked.refusal);
    const { session, target } = checked;
    const policy = session.policy()!;
    const { kind, hash } = target;
    const nonce = challengeNonce(clientChallenge, kind, repository, n, boundOf(session, target));
    const of = session.part === null ? "" : ` \`${session.part}\` of`;
    if (!nonce)
      return refuse(403, {
        code: "step_up_wrong_request",
        message: `The assertion is not for ${kind === "extend" ? `the extension waiting on${of} ${repository}#${n}` : `${of ? `${of.slice(1)} ` : ""}${repository}#${n} as it is now`} (hash \`${hash.slice(0, 16)}\`): the request changed after you started. Reload the page and approve again.`,
      });
    const records = await readPasskeys(deps, port, login);
    const passkey = records.passkeys.find((k) => k.credential_id === response.id);
    if (!passkey)
      return refuse(403, {
        code: "step_up_unknown_key",
        message: `The passkey that answered (\`${response.id.slice(0, 16)}\`) is not one of @${login}'s registered passkeys. Register yours at /breakglass/passkeys.`,
      });
    const activation = passkeyActivation(passkey, now());
    if (!activation.ok) return refuse(403, activation.error);
    const stepUp = policy.approvals.step_up;
    // The attestation is checked again against the roots configured now (a root withdrawn counts no more).
    const trust = checkAttestationTrust({
      fmt: passkey.attestation,
      chain: passkey.attestation_chain ?? [],
      aaguid: passkey.aaguid,
      roots: (await webauthn.attestationRoots?.()) ?? null,
      now: now(),
    });
    const hardware = isHardwarePasskey(passkey, stepUp?.hardware_aaguids, trust.ok);
    if (stepUp?.require_hardware_key && !hardware)
      return refuse(403, {
        code: "step_up_not_hardware",
        message: `This policy accepts only hardware security keys: a device-bound passkey whose attestation chains to a trusted root, from an authenticator model on the policy's \`hardware_aaguids\`. This one is ${passkey.device_type === "singleDevice" ? "device-bound" : "synced (backup-eligible)"}, attestation \`${passkey.attestation}\`${trust.ok ? ` (vouched for by ${trust.value.root_subject})` : ` — not trusted: ${trust.error.message}`}; model ${passkey.aaguid}${stepUp.hardware_aaguids?.length ? (stepUp.hardware_aaguids.some((a) => a.toLowerCase() === passkey.aaguid.toLowerCase()) ? "" : ", which is not listed") : "; the policy lists no models, so no passkey counts as hardware"}.`,
      });
    let verified;
    try {
      verified = await verifyAuthenticationResponse({
        response,
        expectedChallenge: clientChallenge,
        expectedOrigin: webauthn.origin,
        expectedRPID: webauthn.rpID,
        // The counter is checked below against the recorded one, with its own reason code.
        credential: {
          id: passkey.credential_id,
          publicKey: new Uint8Array(Buffer.from(passkey.public_key, "base64url")),
          counter: 0,
        },
        requireUserVerification: false,
      });
    } catch (error) {
      return refuse(403, {
        code: "step_up_bad_signature",
        message: `The assertion does not verify: ${(error as Error).message.slice(0, 200)}`,
      });
    }
    if (!verified.verified)
      return refuse(403, { code: "step_up_bad_signature", message: "The assertion does not verify." });
    const newCounter = verified.authenticationInfo.newCounter;
    const counted = checkSignatureCounter(passkey.counter, newCounter, passkey.credential_id);
    if (!counted.ok) return refuse(403, counted.error);
    // One assertion, one approval, ever: the nonce is taken in the ledger, whichever replica sees it.
    if (!(await port.ledger.reserve(`webauthn-${nonce}`, n)))
      return refuse(409, {
        code: "step_up_replayed",
        message: "This assertion was used already: approve again from the page.",
      });
    // The counter moves in the passkey's records (checked again on the fresh read, so two replicas
    // cannot both accept one counter value), and a waiting period that ended is recorded as the activation.
    const cid = passkey.credential_id;
    if (activation.value.method === "waiting-period" && !passkey.waited) {
      const waited = await recordPasskey(
        deps,
        port,
        login,
        `passkey:${cid}:waited`,
        {
          type: "passkey_activated",
          actor: deps.identity.login,
          login,
          credential_id: cid,
          method: "waiting-period",
          registered_at: activation.value.registered_at,
          active_from: activation.value.active_from,
          ...(activation.value.activation_wait_seconds !== undefined
            ? { activation_wait_seconds: activation.value.activation_wait_seconds }
            : {}),
        },
        `⏳ The passkey \`${cid.slice(0, 16)}\` of @${login} became active when its waiting period ended (${activation.value.active_from}).`,
      );
      if (!waited.ok) return refuse(503, { code: "ledger_unavailable", message: waited.problem });
    }
    const used = await recordPasskey(
      deps,
      port,
      login,
      `passkey:${cid}:used:${nonce}`,
      {
        type: "passkey_used",
        actor: login,
        login,
        credential_id: cid,
        counter: newCounter,
        request: `${repository}#${n}`,
        ...(session.part !== null ? { part: session.part } : {}),
      },
      `🔏 @${login}'s passkey \`${cid.slice(0, 16)}\` approved ${repository}#${n}${session.part !== null ? ` (\`${session.part}\`)` : ""} (signature counter ${newCounter}).`,
      (current) => {
        const now = current.passkeys.find((k) => k.credential_id === cid);
        if (!now)
          return {
            code: "step_up_unknown_key",
            message: `The passkey \`${cid.slice(0, 16)}\` was removed meanwhile.`,
          };
        const again = checkSignatureCounter(now.counter, newCounter, cid);
        return again.ok ? null : again.error;
      },
    );
    if (!used.ok)
      return refuse(used.code ? 403 : 503, {
        code: used.code ?? "ledger_unavailable",
        message: used.problem,
      });
    const again = await eligible(port, login, n, part);
    if ("refusal" in again) return refuse(403, again.refusal);
    if (again.target.kind !== kind || again.target.hash !== hash)
      return refuse(403, {
        code: "step_up_wrong_request",
        message: "The request changed while you approved: reload the page and approve again.",
      });
    const proof: WebAuthnProof = {
      method: "webauthn",
      credential_id: cid,
      public_key: passkey.public_key,
      hardware,
      rp_id: webauthn.rpID,
      origin: webauthn.origin,
      counter: newCounter,
      aaguid: passkey.aaguid,
      activation: activation.value,
      assertion: response as unknown as Record<string, unknown>,
    };
    const current = again.session;
    const recorded =
      kind === "extend"
        ? await approveExtension(current, {
            id: `webauthn:${nonce}`,
            who: login,
            decided: again.decided,
            proof,
          })
        : await recordApproval(current, {
            id: `webauthn:${nonce}`,
            actor: await current.actor({ login, type: "User" }),
            decided: again.decided,
            proof,
          });
    if (recorded !== "done") return refuse(403, recorded);
    await current.publish();
    json(res, 200, {
      ok: true,
      status: current.state.status,
      ...(current.part !== null ? { part: current.part } : {}),
    });
    return null;
  }
}
