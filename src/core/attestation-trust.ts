import { X509Certificate } from "node:crypto";
import { err, ok, type Result } from "./result.ts";

/**
 * Whether a passkey's attestation proves its authenticator model. The AAGUID a registration names is
 * the authenticator's own claim: with `none` attestation, or `packed` self-attestation (signed by the
 * credential's own key), any software authenticator can claim a security key's AAGUID. Only an
 * attestation certificate chain that ends at a root the operator trusts (a PEM file, or the FIDO
 * Metadata Service's roots for that AAGUID) makes the model a fact; without roots, nothing is hardware.
 */
export interface AttestationRoots {
  /** Roots any authenticator model may chain to (PEM certificates, `BREAKGLASS_ATTESTATION_ROOTS`). */
  any: readonly string[];
  /** Roots for one model only (lower-case AAGUID → PEM or base64 DER), from FIDO metadata statements. */
  byAaguid: ReadonlyMap<string, readonly string[]>;
  /** Where the roots come from, for messages (e.g. the file names). */
  source: string;
}

export type AttestationTrustCode =
  "attestation_none" | "attestation_self" | "attestation_roots_missing" | "attestation_untrusted";

export interface AttestationTrustRefusal {
  code: AttestationTrustCode;
  message: string;
}

/** What is recorded of a trusted attestation: the root's SHA-256 fingerprint and subject. */
export interface AttestationTrusted {
  root_fingerprint: string;
  root_subject: string;
}

const parse = (text: string): X509Certificate | null => {
  try {
    return new X509Certificate(
      text.includes("-----BEGIN") ? text : Buffer.from(text.replace(/\s+/g, ""), "base64"),
    );
  } catch {
    return null;
  }
};

/** The PEM certificates in a text (a roots file may hold several); those that do not parse are left out. */
export function pemCertificates(text: string): string[] {
  return (text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []).filter(
    (pem) => parse(pem) !== null,
  );
}

export const hasAttestationRoots = (roots: AttestationRoots | null): roots is AttestationRoots =>
  !!roots && (roots.any.length > 0 || roots.byAaguid.size > 0);

const within = (c: X509Certificate, now: number) =>
  Date.parse(c.validFrom) <= now && now <= Date.parse(c.validTo);

/**
 * Checks a registration's attestation: format, certificate chain (base64 DER, leaf first, as the
 * attestation statement's `x5c`), each certificate valid at `now` and issued by the next, the last
 * issued by (or being) one of the roots for this AAGUID. The library checked that the leaf signed the
 * registration; this checks who vouches for the leaf.
 */
export function checkAttestationTrust(input: {
  fmt: string;
  chain: readonly string[];
  aaguid: string;
  roots: AttestationRoots | null;
  now: number;
}): Result<AttestationTrusted, AttestationTrustRefusal> {
  if (input.fmt === "none")
    return err({
      code: "attestation_none",
      message:
        "the authenticator gave no attestation (`none`), so nothing proves its model: its AAGUID is only its own claim",
    });
  if (input.chain.length === 0)
    return err({
      code: "attestation_self",
      message: `the attestation (\`${input.fmt}\`) is self-attestation, signed by the credential's own key: any software authenticator can make one and claim any model`,
    });
  const source = input.roots?.source ?? "";
  if (!hasAttestationRoots(input.roots))
    return err({
      code: "attestation_roots_missing",
      message: `the app has no attestation trust roots configured (BREAKGLASS_ATTESTATION_ROOTS or BREAKGLASS_ATTESTATION_MDS${source ? `: ${source}` : ""}), so it cannot tell a security key from a software authenticator: no passkey counts as a hardware key`,
    });
  const certs = input.chain.map(parse);
  if (certs.some((c) => c === null))
    return err({ code: "attestation_untrusted", message: "an attestation certificate does not parse" });
  const chain = certs as X509Certificate[];
  for (const [i, c] of chain.entries()) {
    if (!within(c, input.now))
      return err({
        code: "attestation_untrusted",
        message: `attestation certificate ${i} (${c.subject.replace(/\n/g, ", ")}) is not valid now (${c.validFrom} – ${c.validTo})`,
      });
    const issuer = chain[i + 1];
    if (issuer && !(c.checkIssued(issuer) && c.verify(issuer.publicKey)))
      return err({
        code: "attestation_untrusted",
        message: `attestation certificate ${i} is not issued by the next one in its chain`,
      });
  }
  const last = chain.at(-1)!;
  const candidates = [
    ...input.roots.any,
    ...(input.roots.byAaguid.get(input.aaguid.trim().toLowerCase()) ?? []),
  ]
    .map(parse)
    .filter((r): r is X509Certificate => r !== null && within(r, input.now));
  const root = candidates.find(
    (r) => r.fingerprint256 === last.fingerprint256 || (last.checkIssued(r) && last.verify(r.publicKey)),
  );
  if (!root)
    return err({
      code: "attestation_untrusted",
      message: `the attestation chain (issuer ${last.issuer.replace(/\n/g, ", ")}) ends at none of the trusted roots (${input.roots.source}) for model ${input.aaguid}`,
    });
  return ok({ root_fingerprint: root.fingerprint256, root_subject: root.subject.replace(/\n/g, ", ") });
}

/** The trust roots from FIDO metadata statements: each statement's `attestationRootCertificates`, for its AAGUID only. */
export function rootsFromMetadata(
  statements: ReadonlyArray<{ aaguid?: string; attestationRootCertificates?: readonly string[] }>,
): Map<string, string[]> {
  const byAaguid = new Map<string, string[]>();
  for (const s of statements) {
    if (!s.aaguid || !s.attestationRootCertificates?.length) continue;
    const key = s.aaguid.trim().toLowerCase();
    byAaguid.set(key, [...(byAaguid.get(key) ?? []), ...s.attestationRootCertificates]);
  }
  return byAaguid;
}
