import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const VERSION = "v1";
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Seals a secret with AES-256-GCM so it can sit in a public record (an issue comment) and only the
 * app, holding the key, can open it. Format: `v1.<iv>.<tag>.<ciphertext>`, base64url parts.
 *
 * `context` (e.g. the grant id) is bound as additional authenticated data: a sealed value copied from
 * one grant's record into another's then fails to open instead of revoking the wrong credential.
 */
export function seal(plaintext: string, key: Buffer, context = ""): string {
  if (key.length !== KEY_BYTES) throw new Error(`the seal key must be ${KEY_BYTES} bytes`);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  if (context) cipher.setAAD(Buffer.from(context, "utf8"));
  const data = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return [
    VERSION,
    iv.toString("base64url"),
    cipher.getAuthTag().toString("base64url"),
    data.toString("base64url"),
  ].join(".");
}

/** Opens what `seal` produced (with the same context); throws on a wrong key, context or any tampering. */
export function openSealed(sealed: string, key: Buffer, context = ""): string {
  if (key.length !== KEY_BYTES) throw new Error(`the seal key must be ${KEY_BYTES} bytes`);
  const parts = sealed.split(".");
  const [version, iv, tag, data] = parts;
  if (parts.length !== 4 || version !== VERSION || !iv || !tag || data === undefined)
    throw new Error("not a sealed value");
  const ivBytes = Buffer.from(iv, "base64url");
  const tagBytes = Buffer.from(tag, "base64url");
  // A short tag would let GCM accept a forgery with far fewer tries; Node accepts 4-byte tags unless told.
  if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES) throw new Error("not a sealed value");
  const decipher = createDecipheriv("aes-256-gcm", key, ivBytes, { authTagLength: TAG_BYTES });
  if (context) decipher.setAAD(Buffer.from(context, "utf8"));
  decipher.setAuthTag(tagBytes);
  try {
    return Buffer.concat([decipher.update(Buffer.from(data, "base64url")), decipher.final()]).toString(
      "utf8",
    );
  } catch {
    throw new Error(
      "the sealed value does not open with this key and context (wrong key, wrong record, or tampered)",
    );
  }
}

/**
 * Opens a sealed value with whichever of `keys` sealed it: the current seal key first, then retired
 * ones (a rotation in progress). `keyIndex` says which one opened it, so the caller knows whether
 * the value still needs sealing again under the current key. Trying a wrong key is safe: GCM refuses it.
 */
export function openSealedWithAny(
  sealed: string,
  keys: readonly Buffer[],
  context = "",
): { plaintext: string; keyIndex: number } {
  let last: Error = new Error("no seal key is configured");
  for (const [keyIndex, key] of keys.entries()) {
    try {
      return { plaintext: openSealed(sealed, key, context), keyIndex };
    } catch (error) {
      last = error as Error;
      if (last.message === "not a sealed value") throw last;
    }
  }
  throw keys.length > 1
    ? new Error(
        `the sealed value does not open with the current seal key or any of the ${keys.length - 1} retired one(s) (wrong key, wrong record, or tampered)`,
      )
    : last;
}
