/**
 * The operator's attestation roots (A230): a PEM file read again when it changes, a FIDO metadata BLOB
 * that must verify; a file missing or a BLOB that does not verify gives no roots, and says why.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { attestationRootsLoader } from "../../../src/app/infra/attestation-roots.ts";
import { hasAttestationRoots } from "../../../src/core/attestation-trust.ts";

describe("attestation roots from the operator's files", () => {
  const dir = mkdtempSync(join(tmpdir(), "breakglass-roots-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const roots = join(dir, "roots.pem");

  it("A230 a roots file that does not exist yet gives no roots, then counts once written", async () => {
    const load = attestationRootsLoader({ roots });
    const missing = await load();
    assert.equal(hasAttestationRoots(missing), false);
    assert.match(missing!.source, /roots\.pem cannot be read/);
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        join(dir, "k"),
        "-out",
        roots,
        "-days",
        "2",
        "-subj",
        "/CN=Vendor Root",
      ],
      { stdio: "pipe" },
    );
    const loaded = await load();
    assert.equal(loaded!.any.length, 1);
    assert.match(loaded!.source, /1 from .*roots\.pem/);
    writeFileSync(roots, "not a certificate");
    assert.match((await load())!.source, /holds no certificate/);
    assert.equal(readFileSync(roots, "utf8"), "not a certificate");
  });

  it("A230 a metadata BLOB that does not verify gives no roots (fails closed)", async () => {
    const blob = join(dir, "mds.jwt");
    writeFileSync(blob, "eyJhbGciOiJub25lIn0.eyJlbnRyaWVzIjpbXX0.");
    const refused = await attestationRootsLoader({ mds: blob })();
    assert.equal(hasAttestationRoots(refused), false);
    assert.match(refused!.source, /does not verify as a FIDO metadata BLOB/);
    // A BLOB the library verified: its statements' roots count for their AAGUID only.
    const verified = await attestationRootsLoader({ mds: blob }, async () => ({
      statements: [
        { aaguid: "CB69481E-8FF7-4039-93EC-0A2729A154A8", attestationRootCertificates: ["MIIB"] },
      ] as never,
      parsedNextUpdate: new Date(),
      payload: {} as never,
    }))();
    assert.deepEqual([...verified!.byAaguid.keys()], ["cb69481e-8ff7-4039-93ec-0a2729a154a8"]);
    assert.equal(await attestationRootsLoader({})(), null, "nothing configured");
  });
});
