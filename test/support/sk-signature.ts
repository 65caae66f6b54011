/**
 * Security-key (sk-ssh-ed25519@openssh.com) SSH signatures CONSTRUCTED from a software ed25519 key,
 * byte for byte as OpenSSH lays them out (PROTOCOL.sshsig for the envelope; PROTOCOL.u2f for the key,
 * the authenticator's signed blob SHA256(application) || flags || counter || SHA256(message), and
 * the signature encoding). There is no FIDO2 device here: these are fixtures, not from a device.
 * test/core/sshsig-sk.test.ts checks the construction against the real `ssh-keygen -Y verify`.
 */
import { createHash, generateKeyPairSync, sign as edSign, type KeyObject } from "node:crypto";
import { STEP_UP_NAMESPACE } from "../../src/core/step-up.ts";

export const SK_ED25519 = "sk-ssh-ed25519@openssh.com";

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const str = (b: Buffer | string) => {
  const body = Buffer.isBuffer(b) ? b : Buffer.from(b, "utf8");
  return Buffer.concat([u32(body.length), body]);
};
const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest();

export interface SkKey {
  privateKey: KeyObject;
  blob: Buffer;
  line: string;
}

/** PROTOCOL.u2f: string "sk-ssh-ed25519@openssh.com", string public key, string application. */
export function skKey(application = "ssh:"): SkKey {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const raw = Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url");
  const blob = Buffer.concat([str(SK_ED25519), str(raw), str(application)]);
  return { privateKey, blob, line: `${SK_ED25519} ${blob.toString("base64")} grace@fixture` };
}

/**
 * PROTOCOL.sshsig: the signed data is "SSHSIG" || string namespace || string reserved || string
 * hash_algorithm || string H(message); the authenticator signs SHA256(application) || flags ||
 * uint32 counter || SHA256(that data) (PROTOCOL.u2f "SSH U2F signatures"); the signature is
 * string "sk-ssh-ed25519@openssh.com" || string signature || byte flags || uint32 counter.
 */
export function skSign(
  key: SkKey,
  message: string,
  opts: { flags: number; counter?: number; namespace?: string; application?: string },
): string {
  const namespace = opts.namespace ?? STEP_UP_NAMESPACE;
  const counter = opts.counter ?? 7;
  const signedData = Buffer.concat([
    Buffer.from("SSHSIG"),
    str(namespace),
    str(""),
    str("sha512"),
    str(createHash("sha512").update(message).digest()),
  ]);
  const u2f = Buffer.concat([
    sha256(opts.application ?? "ssh:"),
    Buffer.from([opts.flags]),
    u32(counter),
    sha256(signedData),
  ]);
  const signature = edSign(null, u2f, key.privateKey);
  const sigBlob = Buffer.concat([str(SK_ED25519), str(signature), Buffer.from([opts.flags]), u32(counter)]);
  const envelope = Buffer.concat([
    Buffer.from("SSHSIG"),
    u32(1),
    str(key.blob),
    str(namespace),
    str(""),
    str("sha512"),
    str(sigBlob),
  ]);
  const b64 = envelope
    .toString("base64")
    .match(/.{1,70}/g)!
    .join("\n");
  return `-----BEGIN SSH SIGNATURE-----\n${b64}\n-----END SSH SIGNATURE-----\n`;
}
