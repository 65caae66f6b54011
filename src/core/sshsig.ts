import { createHash, createPublicKey, verify, type KeyObject } from "node:crypto";
import { ok, err, type Result } from "./result.ts";

/**
 * OpenSSH signatures (`ssh-keygen -Y sign`, the SSHSIG format of OpenSSH's PROTOCOL.sshsig), verified
 * with node:crypto. Supported keys: ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa (rsa-sha2-256/512
 * signatures), and the FIDO2 security-key types sk-ssh-ed25519@openssh.com and
 * sk-ecdsa-sha2-nistp256@openssh.com, whose signatures also carry the authenticator's flags and counter.
 */
export type SshKeyType =
  | "ssh-ed25519"
  | "ecdsa-sha2-nistp256"
  | "ssh-rsa"
  | "sk-ssh-ed25519@openssh.com"
  | "sk-ecdsa-sha2-nistp256@openssh.com";

export interface SshPublicKey {
  type: SshKeyType;
  /** The wire-format key blob (what `ssh-ed25519 AAAA…` base64-encodes). */
  blob: Buffer;
  /** `SHA256:…` as `ssh-keygen -l` prints it. */
  fingerprint: string;
  /** Security keys only: the FIDO application string (normally `ssh:`). */
  application?: string;
  /** Whether the private half lives in a hardware authenticator (the sk-* types). */
  hardware: boolean;
}

export interface VerifiedSshSignature {
  key: SshPublicKey;
  /** Security keys only: the authenticator's flags (0x01 = user present, 0x04 = user verified) and counter. */
  flags?: number;
  counter?: number;
}

export type SshSigProblem = "malformed" | "unsupported_key" | "wrong_namespace" | "bad_signature";

const MAGIC = Buffer.from("SSHSIG");
const ARMOR = /-----BEGIN SSH SIGNATURE-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END SSH SIGNATURE-----/;
export const SK_USER_PRESENT = 0x01;
export const SK_USER_VERIFIED = 0x04;
const MAX_ARMORED = 16_384;

class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}
  uint32(): number {
    if (this.at + 4 > this.buf.length) throw new Error("truncated");
    const v = this.buf.readUInt32BE(this.at);
    this.at += 4;
    return v;
  }
  byte(): number {
    if (this.at + 1 > this.buf.length) throw new Error("truncated");
    return this.buf[this.at++]!;
  }
  bytes(n: number): Buffer {
    if (n > this.buf.length - this.at) throw new Error("truncated");
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  string(): Buffer {
    return this.bytes(this.uint32());
  }
  text(): string {
    return this.string().toString("utf8");
  }
  done(): boolean {
    return this.at === this.buf.length;
  }
}

const sshString = (b: Buffer | string): Buffer => {
  const body = typeof b === "string" ? Buffer.from(b, "utf8") : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
};
const unsigned = (mpint: Buffer): Buffer => {
  let i = 0;
  while (i < mpint.length - 1 && mpint[i] === 0) i++;
  return mpint.subarray(i);
};
const b64url = (b: Buffer): string => b.toString("base64url");
const pad = (b: Buffer, n: number): Buffer =>
  b.length >= n ? b.subarray(b.length - n) : Buffer.concat([Buffer.alloc(n - b.length), b]);

/** `ssh-keygen -l` style fingerprint of a key blob. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/** Parses a wire-format public key blob. */
export function parseKeyBlob(blob: Buffer): Result<SshPublicKey, SshSigProblem> {
  try {
    const r = new Reader(blob);
    const type = r.text();
    let application: string | undefined;
    switch (type) {
      case "ssh-ed25519":
        if (r.string().length !== 32) return err("malformed");
        break;
      case "sk-ssh-ed25519@openssh.com":
        if (r.string().length !== 32) return err("malformed");
        application = r.text();
        break;
      case "ecdsa-sha2-nistp256":
      case "sk-ecdsa-sha2-nistp256@openssh.com":
        if (r.text() !== "nistp256") return err("unsupported_key");
        if (r.string().length !== 65) return err("malformed");
        if (type.startsWith("sk-")) application = r.text();
        break;
      case "ssh-rsa":
        r.string();
        r.string();
        break;
      default:
        return err("unsupported_key");
    }
    if (!r.done()) return err("malformed");
    return ok({
      type,
      blob,
      fingerprint: fingerprintOf(blob),
      hardware: type.startsWith("sk-"),
      ...(application !== undefined ? { application } : {}),
    });
  } catch {
    return err("malformed");
  }
}

/** Parses an authorized_keys-style line (`ssh-ed25519 AAAA… comment`), as GitHub lists signing keys. */
export function parsePublicKeyLine(line: string): Result<SshPublicKey, SshSigProblem> {
  const [type, data] = line.trim().split(/\s+/);
  if (!type || !data || !/^[A-Za-z0-9+/]+=*$/.test(data)) return err("malformed");
  const parsed = parseKeyBlob(Buffer.from(data, "base64"));
  if (parsed.ok && parsed.value.type !== type) return err("malformed");
  return parsed;
}

function keyObject(key: SshPublicKey): KeyObject {
  const r = new Reader(key.blob);
  r.text();
  switch (key.type) {
    case "ssh-ed25519":
    case "sk-ssh-ed25519@openssh.com":
      return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: b64url(r.string()) }, format: "jwk" });
    case "ecdsa-sha2-nistp256":
    case "sk-ecdsa-sha2-nistp256@openssh.com": {
      r.text();
      const q = r.string();
      return createPublicKey({
        key: { kty: "EC", crv: "P-256", x: b64url(q.subarray(1, 33)), y: b64url(q.subarray(33, 65)) },
        format: "jwk",
      });
    }
    case "ssh-rsa": {
      const e = unsigned(r.string());
      const n = unsigned(r.string());
      return createPublicKey({ key: { kty: "RSA", n: b64url(n), e: b64url(e) }, format: "jwk" });
    }
  }
}

export interface ParsedSshSignature {
  key: SshPublicKey;
  namespace: string;
  hashAlgorithm: "sha256" | "sha512";
  signatureBlob: Buffer;
}

/** Finds and parses the first armored SSH signature in `text`. */
export function parseArmoredSignature(text: string): Result<ParsedSshSignature, SshSigProblem> {
  const match = ARMOR.exec(text.slice(0, MAX_ARMORED * 4));
  if (!match || match[1]!.length > MAX_ARMORED) return err("malformed");
  try {
    const r = new Reader(Buffer.from(match[1]!.replace(/\s+/g, ""), "base64"));
    if (!r.bytes(6).equals(MAGIC) || r.uint32() !== 1) return err("malformed");
    const key = parseKeyBlob(Buffer.from(r.string()));
    if (!key.ok) return key;
    const namespace = r.text();
    r.string(); // reserved
    const hashAlgorithm = r.text();
    if (hashAlgorithm !== "sha256" && hashAlgorithm !== "sha512") return err("malformed");
    const signatureBlob = Buffer.from(r.string());
    if (!r.done()) return err("malformed");
    return ok({ key: key.value, namespace, hashAlgorithm, signatureBlob });
  } catch {
    return err("malformed");
  }
}

/** Whether `text` contains something that looks like an armored SSH signature (to tell "none" from "broken"). */
export function hasArmoredSignature(text: string): boolean {
  return text.includes("-----BEGIN SSH SIGNATURE-----");
}

/**
 * Verifies an armored SSHSIG over `message` in `namespace`. The key that verifies is the one inside
 * the signature: the caller decides whether that key is one it trusts (e.g. the person's GitHub
 * signing keys) by comparing `key.blob`.
 */
export function verifySshSignature(
  armored: string,
  message: string | Buffer,
  namespace: string,
): Result<VerifiedSshSignature, SshSigProblem> {
  const parsed = parseArmoredSignature(armored);
  if (!parsed.ok) return parsed;
  const sig = parsed.value;
  if (sig.namespace !== namespace) return err("wrong_namespace");
  const signed = Buffer.concat([
    MAGIC,
    sshString(namespace),
    sshString(""),
    sshString(sig.hashAlgorithm),
    sshString(createHash(sig.hashAlgorithm).update(message).digest()),
  ]);
  try {
    const r = new Reader(sig.signatureBlob);
    const format = r.text();
    const raw = r.string();
    const key = keyObject(sig.key);
    switch (sig.key.type) {
      case "ssh-ed25519":
        if (format !== "ssh-ed25519" || !r.done()) return err("bad_signature");
        return verify(null, signed, key, raw) ? ok({ key: sig.key }) : err("bad_signature");
      case "ecdsa-sha2-nistp256":
        if (format !== "ecdsa-sha2-nistp256" || !r.done()) return err("bad_signature");
        return verify("sha256", signed, { key, dsaEncoding: "ieee-p1363" }, ecdsaRaw(raw))
          ? ok({ key: sig.key })
          : err("bad_signature");
      case "ssh-rsa": {
        // SHA-1 ("ssh-rsa") signatures are refused, as OpenSSH does for SSHSIG.
        const hash = format === "rsa-sha2-512" ? "sha512" : format === "rsa-sha2-256" ? "sha256" : null;
        if (!hash || !r.done()) return err("bad_signature");
        return verify(hash, signed, key, raw) ? ok({ key: sig.key }) : err("bad_signature");
      }
      case "sk-ssh-ed25519@openssh.com":
      case "sk-ecdsa-sha2-nistp256@openssh.com": {
        if (format !== sig.key.type) return err("bad_signature");
        const flags = r.byte();
        const counter = r.uint32();
        if (!r.done()) return err("bad_signature");
        // What the authenticator signed (OpenSSH PROTOCOL.u2f): H(application) || flags || counter || H(data).
        const counterBytes = Buffer.alloc(4);
        counterBytes.writeUInt32BE(counter);
        const blob = Buffer.concat([
          createHash("sha256")
            .update(sig.key.application ?? "")
            .digest(),
          Buffer.from([flags]),
          counterBytes,
          createHash("sha256").update(signed).digest(),
        ]);
        const good =
          sig.key.type === "sk-ssh-ed25519@openssh.com"
            ? verify(null, blob, key, raw)
            : verify("sha256", blob, { key, dsaEncoding: "ieee-p1363" }, ecdsaRaw(raw));
        return good ? ok({ key: sig.key, flags, counter }) : err("bad_signature");
      }
    }
  } catch {
    return err("bad_signature");
  }
}

/** An SSH ECDSA signature (mpint r, mpint s) as the 64 bytes r || s node:crypto's ieee-p1363 wants. */
function ecdsaRaw(raw: Buffer): Buffer {
  const r = new Reader(raw);
  const out = Buffer.concat([pad(unsigned(r.string()), 32), pad(unsigned(r.string()), 32)]);
  if (!r.done()) throw new Error("trailing bytes");
  return out;
}
