import { createHash, type KeyObject } from "node:crypto";
import {
  calculateJwkThumbprint,
  CompactSign,
  compactVerify,
  createLocalJWKSet,
  decodeProtectedHeader,
  errors,
  exportJWK,
  generateKeyPair,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
  type ProtectedHeaderParameters,
} from "jose";
import { canonicalJson } from "./canonical-json.ts";

/**
 * One audit record. Each request issue has its own chain: entry N carries the hash of entry N-1's
 * signed form, so removing, reordering or editing any entry breaks every later link, and the
 * signatures stop anyone without the app's key from re-writing the tail.
 */
export interface AuditEntry {
  v: 1;
  /** 0-based, contiguous. */
  seq: number;
  /** SHA-256 hex of the previous entry's compact JWS; {@link GENESIS_PREV} for seq 0. */
  prev: string;
  /** ISO 8601 time, passed in by the caller. */
  at: string;
  /** "owner/name" */
  repo: string;
  issue: number;
  /** Idempotency key of the event, e.g. "comment:123:approve", so replayed webhooks can be recognised. */
  id: string;
  event: { type: string; actor: string; [k: string]: unknown };
}

export interface SignedEntry {
  jws: string;
  entry: AuditEntry;
}

export interface AuditSigner {
  kid: string;
  /** Returns a compact JWS over exactly these payload bytes. */
  sign(payload: Uint8Array): Promise<string>;
}

export type AuditAlg = "ES256" | "EdDSA";
export type VerifyResult =
  | { ok: true; entries: AuditEntry[] }
  | { ok: false; index: number; reason: string; /** The verified prefix. */ entries: AuditEntry[] };

export const AUDIT_TYP = "breakglass-audit+jws";
export const GENESIS_PREV = "0".repeat(64);
/** Only asymmetric algorithms: a verifier must never hold a secret that can also sign. */
const ALLOWED_ALGS: readonly AuditAlg[] = ["ES256", "EdDSA"];
const ENTRY_KEYS = ["at", "event", "id", "issue", "prev", "repo", "seq", "v"];
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;
const REPO = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
const HEX64 = /^[0-9a-f]{64}$/;
const MAX_ID_LENGTH = 200;

/** SHA-256 hex of a compact JWS, as the next entry's `prev` holds it. */
export function entryHash(jws: string): string {
  return createHash("sha256").update(jws, "utf8").digest("hex");
}

export function createSigner(
  privateKey: CryptoKey | KeyObject,
  kid: string,
  alg: AuditAlg = "ES256",
): AuditSigner {
  return {
    kid,
    sign: (payload) =>
      new CompactSign(payload).setProtectedHeader({ alg, kid, typ: AUDIT_TYP }).sign(privateKey),
  };
}

/**
 * Signs the next entry of `chain`. Misuse by the caller (a chain for another issue, an id already
 * recorded, a malformed time) throws a TypeError: it is a programming error, never user input.
 *
 * A time earlier than the previous entry's is raised to it: clocks of replicas drift and can step
 * back, and a chain that verifiers refuse would lock the request forever. Order is what the chain
 * proves; the real time is at most that skew off.
 */
export async function appendEntry(
  chain: readonly SignedEntry[],
  fields: Omit<AuditEntry, "v" | "seq" | "prev">,
  signer: AuditSigner,
): Promise<SignedEntry> {
  const last = chain.at(-1);
  if (!ISO_TIME.test(fields.at) || !Number.isFinite(Date.parse(fields.at))) {
    throw new TypeError(
      `appendEntry: at must be an ISO 8601 time such as 2024-05-01T12:00:00.000Z, got ${JSON.stringify(fields.at)}`,
    );
  }
  if (
    last &&
    (last.entry.repo.toLowerCase() !== fields.repo.toLowerCase() || last.entry.issue !== fields.issue)
  ) {
    throw new TypeError(
      `appendEntry: the chain belongs to ${last.entry.repo}#${last.entry.issue}, not ${fields.repo}#${fields.issue}`,
    );
  }
  if (chain.some((e) => e.entry.id === fields.id))
    throw new TypeError(`appendEntry: id ${JSON.stringify(fields.id)} is already in the chain`);
  const at = last && Date.parse(fields.at) < Date.parse(last.entry.at) ? last.entry.at : fields.at;
  const entry: AuditEntry = {
    v: 1,
    seq: chain.length,
    prev: last ? entryHash(last.jws) : GENESIS_PREV,
    at,
    repo: fields.repo,
    issue: fields.issue,
    id: fields.id,
    event: fields.event,
  };
  const problem = entryProblem(entry);
  if (problem) throw new TypeError(`appendEntry: ${problem}`);
  const text = canonicalJson(entry);
  const jws = await signer.sign(new TextEncoder().encode(text));
  if (jws.split(".")[1] !== Buffer.from(text, "utf8").toString("base64url")) {
    throw new TypeError("appendEntry: the signer returned a JWS over a different payload");
  }
  // Parsed back from the signed text, so the entry holds exactly what was signed (no undefined fields).
  return { jws, entry: JSON.parse(text) as AuditEntry };
}

/**
 * Checks a whole chain against the published keys and reports the first problem with its index.
 * Every entry must be an ES256 or EdDSA compact JWS of type {@link AUDIT_TYP} from a known key whose
 * payload is the canonical JSON of a well-formed entry, with contiguous `seq`, `prev` linking to the
 * previous JWS, one repository and issue throughout (`expect` pins them) and time never going back.
 */
export async function verifyChain(
  jwsList: readonly string[],
  jwks: JSONWebKeySet,
  expect: { repo?: string; issue?: number } = {},
): Promise<VerifyResult> {
  let keys: ReturnType<typeof createLocalJWKSet>;
  try {
    keys = createLocalJWKSet(jwks);
  } catch (error) {
    return {
      ok: false,
      index: 0,
      reason: `the key set is not a valid JWKS (${(error as Error).message})`,
      entries: [],
    };
  }
  const knownKids = new Set(
    jwks.keys.map((k) => k.kid).filter((kid): kid is string => typeof kid === "string"),
  );
  const entries: AuditEntry[] = [];
  for (const [index, jws] of jwsList.entries()) {
    const fail = (reason: string): VerifyResult => ({
      ok: false,
      index,
      reason: `entry ${index}: ${reason}`,
      entries,
    });
    const headerProblem = checkHeader(jws, knownKids);
    if (headerProblem) return fail(headerProblem);
    let payload: Uint8Array;
    try {
      ({ payload } = await compactVerify(jws, keys, { algorithms: [...ALLOWED_ALGS] }));
    } catch (error) {
      return fail(describeVerifyError(error));
    }
    const parsed = parseEntry(payload);
    if (typeof parsed === "string") return fail(parsed);
    const entry = parsed;
    const previous = entries.at(-1);
    if (entry.seq !== index)
      return fail(`seq is ${entry.seq}, expected ${index} (an entry is missing, duplicated or out of order)`);
    const expectedPrev = index === 0 ? GENESIS_PREV : entryHash(jwsList[index - 1]!);
    if (entry.prev !== expectedPrev) {
      return fail(
        index === 0
          ? `prev of the first entry must be ${GENESIS_PREV} (found ${entry.prev})`
          : `prev does not match the hash of entry ${index - 1} (expected ${expectedPrev}, found ${entry.prev})`,
      );
    }
    const repo = expect.repo ?? entries[0]?.repo;
    if (repo !== undefined && entry.repo.toLowerCase() !== repo.toLowerCase())
      return fail(`repo is ${entry.repo}, expected ${repo}`);
    const issue = expect.issue ?? entries[0]?.issue;
    if (issue !== undefined && entry.issue !== issue)
      return fail(`issue is ${entry.issue}, expected ${issue}`);
    if (previous && Date.parse(entry.at) < Date.parse(previous.at)) {
      return fail(`at ${entry.at} is earlier than entry ${index - 1} (${previous.at}): time cannot go back`);
    }
    entries.push(entry);
  }
  return { ok: true, entries };
}

/** Refusals that need no key, phrased precisely before jose gives its generic errors. */
function checkHeader(jws: string, knownKids: ReadonlySet<string>): string | null {
  if (typeof jws !== "string" || jws.split(".").length !== 3)
    return "not a compact JWS (three dot-separated parts)";
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(jws);
  } catch (error) {
    return `the protected header cannot be read (${(error as Error).message})`;
  }
  const alg = header.alg;
  if (typeof alg !== "string" || alg.toLowerCase() === "none")
    return `alg ${JSON.stringify(alg ?? null)} is refused: entries must be signed`;
  if (!(ALLOWED_ALGS as readonly string[]).includes(alg))
    return `alg ${JSON.stringify(alg)} is not allowed (only ${ALLOWED_ALGS.join(", ")})`;
  if (header.typ !== AUDIT_TYP)
    return `typ must be ${JSON.stringify(AUDIT_TYP)}, found ${JSON.stringify(header.typ ?? null)}`;
  if (typeof header.kid !== "string" || header.kid === "") return "the header has no kid";
  if (!knownKids.has(header.kid)) return `unknown key id ${JSON.stringify(header.kid)}`;
  return null;
}

function describeVerifyError(error: unknown): string {
  if (error instanceof errors.JWSSignatureVerificationFailed) return "bad signature";
  if (error instanceof errors.JWKSNoMatchingKey) return "no key in the key set matches this kid and alg";
  return `cannot be verified (${(error as Error).message})`;
}

function parseEntry(payload: Uint8Array): AuditEntry | string {
  let text: string;
  let value: unknown;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(payload);
    value = JSON.parse(text);
  } catch {
    return "payload is not JSON";
  }
  const problem = entryProblem(value);
  if (problem) return problem;
  if (canonicalJson(value) !== text) return "payload is not in canonical JSON form";
  return value as AuditEntry;
}

/** What makes a value not a well-formed entry, or null. */
function entryProblem(value: unknown): string | null {
  if (!isRecord(value)) return "payload is not an object";
  const keys = Object.keys(value).sort();
  if (keys.join() !== ENTRY_KEYS.join())
    return `payload must have exactly the fields ${ENTRY_KEYS.join(", ")} (found ${keys.join(", ")})`;
  if (value.v !== 1) return `unsupported version ${JSON.stringify(value.v)}`;
  if (!Number.isSafeInteger(value.seq) || (value.seq as number) < 0)
    return "seq must be a whole number from 0";
  if (typeof value.prev !== "string" || !HEX64.test(value.prev))
    return "prev must be 64 lowercase hex digits";
  if (typeof value.at !== "string" || !ISO_TIME.test(value.at) || !Number.isFinite(Date.parse(value.at)))
    return "at must be an ISO 8601 time";
  if (typeof value.repo !== "string" || !REPO.test(value.repo)) return "repo must be owner/name";
  if (!Number.isSafeInteger(value.issue) || (value.issue as number) < 1)
    return "issue must be a positive whole number";
  if (typeof value.id !== "string" || value.id === "" || value.id.length > MAX_ID_LENGTH)
    return `id must be 1 to ${MAX_ID_LENGTH} characters`;
  const event = value.event;
  if (
    !isRecord(event) ||
    typeof event.type !== "string" ||
    event.type === "" ||
    typeof event.actor !== "string"
  ) {
    return "event must be an object with a type and an actor";
  }
  return null;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

export interface AuditKey {
  privateKey: CryptoKey;
  kid: string;
  /** Public half only, with kid (RFC 7638 thumbprint), alg and use: "sig". */
  publicJwk: JWK;
}

/** A fresh signing key, for the sandbox and tests; production keys come from configuration. */
export async function generateAuditKey(alg: AuditAlg = "ES256"): Promise<AuditKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { privateKey, kid, publicJwk: { ...jwk, kid, alg, use: "sig" } };
}

const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"];

/**
 * The JWKS to publish for verifiers. Private members are stripped and symmetric keys refused, so a
 * private JWK passed by mistake cannot leak and no verifier ever holds a key that can sign.
 */
export function exportPublicJwks(keys: ReadonlyArray<{ publicJwk: JWK } | JWK>): JSONWebKeySet {
  return {
    keys: keys.map((key) => {
      const jwk: JWK = "publicJwk" in key && key.publicJwk ? key.publicJwk : (key as JWK);
      if (jwk.kty === "oct")
        throw new TypeError("exportPublicJwks: symmetric (oct) keys cannot be published");
      if (typeof jwk.kid !== "string" || jwk.kid === "")
        throw new TypeError("exportPublicJwks: every key needs a kid");
      return Object.fromEntries(
        Object.entries(jwk).filter(([name]) => !PRIVATE_MEMBERS.includes(name)),
      ) as JWK;
    }),
  };
}
