import { readFile, stat } from "node:fs/promises";
import { verifyMDSBlob } from "@simplewebauthn/server/helpers";
import { pemCertificates, rootsFromMetadata, type AttestationRoots } from "../../core/attestation-trust.ts";

/**
 * The attestation trust roots the operator configured, read when needed (a file replaced while the
 * app runs counts from the next registration or approval): `BREAKGLASS_ATTESTATION_ROOTS`, a PEM file
 * of root (or self-signed batch) certificates any model may chain to; `BREAKGLASS_ATTESTATION_MDS`, a
 * FIDO Metadata Service BLOB (the JWT from https://mds3.fidoalliance.org/), verified with the FIDO
 * Alliance's root by @simplewebauthn/server, whose statements' roots count only for their AAGUID.
 * A file that cannot be read or verified gives no roots, and says why (fails closed).
 */
export function attestationRootsLoader(
  paths: { roots?: string | undefined; mds?: string | undefined },
  verifyBlob: typeof verifyMDSBlob = verifyMDSBlob,
): () => Promise<AttestationRoots | null> {
  if (!paths.roots && !paths.mds) return async () => null;
  let cached: { key: string; roots: AttestationRoots } | null = null;
  const mtime = async (path: string | undefined) =>
    path
      ? await stat(path).then(
          (s) => `${path}@${s.mtimeMs}:${s.size}`,
          () => `${path}@missing`,
        )
      : "";
  return async () => {
    const key = `${await mtime(paths.roots)}|${await mtime(paths.mds)}`;
    if (cached?.key === key) return cached.roots;
    const problems: string[] = [];
    const sources: string[] = [];
    let any: string[] = [];
    let byAaguid = new Map<string, string[]>();
    if (paths.roots) {
      try {
        any = pemCertificates(await readFile(paths.roots, "utf8"));
        if (any.length === 0)
          problems.push(`BREAKGLASS_ATTESTATION_ROOTS ${paths.roots} holds no certificate`);
        else sources.push(`${any.length} from ${paths.roots}`);
      } catch (error) {
        problems.push(
          `BREAKGLASS_ATTESTATION_ROOTS ${paths.roots} cannot be read (${(error as Error).message})`,
        );
      }
    }
    if (paths.mds) {
      try {
        const { statements } = await verifyBlob((await readFile(paths.mds, "utf8")).trim());
        byAaguid = rootsFromMetadata(statements);
        sources.push(`FIDO metadata for ${byAaguid.size} models from ${paths.mds}`);
      } catch (error) {
        problems.push(
          `BREAKGLASS_ATTESTATION_MDS ${paths.mds} does not verify as a FIDO metadata BLOB (${(error as Error).message})`,
        );
      }
    }
    const roots = { any, byAaguid, source: [...sources, ...problems].join("; ") };
    cached = { key, roots };
    return roots;
  };
}
