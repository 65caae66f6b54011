import { appendEntry, verifyChain, type SignedEntry } from "../../../core/audit-chain.ts";
import { recordedWaitingPeriod, type ActivationBinding } from "../../../core/passkey-activation.ts";
import type { SshSignatureProof } from "../../../core/step-up.ts";
import type { BreakglassDeps } from "../../infra/deps.ts";
import type { GitHubPort } from "../../../github/github-port.ts";
import type { LedgerChain } from "../../../github/ledger.ts";

/** A passkey (WebAuthn credential) as registered on /breakglass/passkeys, recorded in the ledger. */
export interface Passkey {
  credential_id: string;
  /** base64url COSE public key. */
  public_key: string;
  counter: number;
  transports?: string[];
  /** WebAuthn's credential device type: `singleDevice` keys cannot be synced (backup-eligible flag clear). */
  device_type: "singleDevice" | "multiDevice";
  /** The attestation statement format (`packed`, `fido-u2f`, `tpm`, … or `none`). */
  attestation: string;
  aaguid: string;
  /** The attestation statement's certificates (base64 DER, leaf first), checked against the trust roots at each approval. */
  attestation_chain?: string[];
  /** The SHA-256 fingerprint of the trusted root the chain ended at when registered. */
  attestation_root?: string;
  /**
   * Device-bound with an attestation chain to a trusted root, as the registration verified: shown on
   * the page; `require_hardware_key` checks the chain again and needs the AAGUID on `hardware_aaguids`.
   */
  hardware: boolean;
  registered_at: string;
  /** When the waiting period ends and the passkey counts without an SSH-signature activation. */
  active_from: string;
  /** The waiting period the app was configured with at registration (audit verify checks the length against it). */
  activation_wait_seconds?: number;
  /** An activation by SSH signature, recorded in the ledger. */
  activated?: { at: string; proof: SshSignatureProof; binding?: ActivationBinding };
  /** Set once the waiting period's activation is recorded (at the first approval after it). */
  waited?: string;
  /** The sign-in session that registered it (a tag of its cookie), and the step-up that allowed it, if one was needed. */
  session?: string;
  confirmed_by?: string;
}

/** A change to a person's passkeys, as the passkeys page lists it for them. */
export interface PasskeyChangeNotice {
  at: string;
  what: "registered" | "removed" | "activated";
  credential_id: string;
  session?: string;
  confirmed_by?: string;
}

export type PasskeyEvent =
  | ({ type: "passkey_registered"; actor: string; login: string } & Omit<
      Passkey,
      "registered_at" | "activated" | "waited"
    >)
  | {
      type: "passkey_removed";
      actor: string;
      login: string;
      credential_id: string;
      session?: string;
      confirmed_by?: string;
    }
  | ({ type: "passkey_activated"; actor: string; login: string; credential_id: string } & (
      | { method: "ssh-signature"; proof: SshSignatureProof; binding?: ActivationBinding }
      | {
          method: "waiting-period";
          registered_at: string;
          active_from: string;
          activation_wait_seconds?: number;
        }
    ))
  /** An assertion the app accepted: its signature counter, which the next one must exceed. */
  | {
      type: "passkey_used";
      actor: string;
      login: string;
      credential_id: string;
      counter: number;
      request: string;
      /** The resource approved, on a request naming several. */
      part?: string;
    };

/** The chain's fixed name in its signed entries: the owner's passkey records (issue 1 of `<owner>/.passkeys`). */
const chainRepo = (owner: string) => `${owner}/.passkeys`;

export interface PasskeyRecords {
  passkeys: Passkey[];
  chain: SignedEntry[];
  ledger: LedgerChain;
  problem: string | null;
  /** Every registration, removal and SSH activation, oldest first: shown to the person on the page. */
  changes: PasskeyChangeNotice[];
}

/**
 * Reads `login`'s passkeys from the ledger: every entry must verify against the app's keys, in one
 * unbroken chain, and name this login (a chain copied from another person's branch counts for nobody).
 */
export async function readPasskeys(
  deps: BreakglassDeps,
  port: GitHubPort,
  login: string,
): Promise<PasskeyRecords> {
  const ledger = await port.ledger.passkeys(login);
  const jws = ledger.entries.map((e) => e.jws);
  const verified = await verifyChain(jws, deps.jwks, { repo: chainRepo(port.owner), issue: 1 });
  const entries = verified.entries;
  const chain = entries.map((entry, i) => ({ entry, jws: jws[i]! }));
  const problem = verified.ok ? null : verified.reason;
  const keys = new Map<string, Passkey>();
  const changes: PasskeyChangeNotice[] = [];
  for (const entry of verified.ok ? entries : []) {
    const event = entry.event as PasskeyEvent;
    if (
      event.type === "passkey_registered" ||
      event.type === "passkey_removed" ||
      (event.type === "passkey_activated" && event.method === "ssh-signature")
    ) {
      const e = event as { session?: string; confirmed_by?: string };
      changes.push({
        at: entry.at,
        what:
          event.type === "passkey_registered"
            ? "registered"
            : event.type === "passkey_removed"
              ? "removed"
              : "activated",
        credential_id: event.credential_id,
        ...(e.session ? { session: e.session } : {}),
        ...(e.confirmed_by ? { confirmed_by: e.confirmed_by } : {}),
      });
    }
    if (event.login?.toLowerCase() !== login.toLowerCase())
      return {
        passkeys: [],
        chain,
        ledger,
        problem: `entry ${entry.seq} names @${event.login}, not @${login}`,
        changes: [],
      };
    if (event.type === "passkey_registered") {
      const { type: _t, actor: _a, login: _l, ...key } = event;
      // The waiting period as recorded, or the default for a registration from before activation existed
      // (core/passkey-activation.ts: the rule audit verify applies to the approvals too).
      keys.set(event.credential_id, {
        ...key,
        ...recordedWaitingPeriod(entry.at, key),
        registered_at: entry.at,
      });
    } else if (event.type === "passkey_removed") keys.delete(event.credential_id);
    else {
      const key = keys.get(event.credential_id);
      if (!key) continue;
      if (event.type === "passkey_activated")
        keys.set(
          event.credential_id,
          event.method === "ssh-signature"
            ? {
                ...key,
                activated: {
                  at: entry.at,
                  proof: event.proof,
                  ...(event.binding ? { binding: event.binding } : {}),
                },
              }
            : { ...key, waited: entry.at },
        );
      else if (event.type === "passkey_used")
        keys.set(event.credential_id, { ...key, counter: event.counter });
    }
  }
  return { passkeys: [...keys.values()], chain, ledger, problem, changes };
}

/** Appends one passkey record (compare-and-swap: read again and retry when another replica wrote first). */
export async function recordPasskey(
  deps: BreakglassDeps,
  port: GitHubPort,
  login: string,
  id: string,
  event: PasskeyEvent,
  text: string,
  /** Checked on every fresh read before writing: a refusal stops the write (e.g. a counter another replica moved). */
  guard?: (current: PasskeyRecords) => { code: string; message: string } | null,
): Promise<{ ok: true } | { ok: false; problem: string; code?: string }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await readPasskeys(deps, port, login);
    if (current.problem)
      return { ok: false, problem: `the passkey records of @${login} do not verify (${current.problem})` };
    if (current.chain.some((e) => e.entry.id === id)) return { ok: true };
    const refused = guard?.(current);
    if (refused) return { ok: false, problem: refused.message, code: refused.code };
    const signed = await appendEntry(
      current.chain,
      { at: new Date(deps.now()).toISOString(), repo: chainRepo(port.owner), issue: 1, id, event },
      deps.signer,
    );
    const written = await port.ledger.appendPasskey(login, current.ledger, { jws: signed.jws, text });
    if (written.ok) return { ok: true };
  }
  return { ok: false, problem: "the ledger kept moving; try again" };
}
