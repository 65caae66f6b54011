/**
 * Who vouches for a passkey's attestation (A230): `none`, self-attestation and chains to an unknown
 * root are never hardware; a chain to a configured root is, and metadata roots count only for their
 * own AAGUID. Real certificates made with openssl.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  checkAttestationTrust,
  pemCertificates,
  rootsFromMetadata,
  type AttestationRoots,
} from "../../src/core/attestation-trust.ts";

const AAGUID = "cb69481e-8ff7-4039-93ec-0a2729a154a8";
const der = (pem: string) => pem.replace(/-----[A-Z ]+-----|\s+/g, "");

describe("attestation trust", () => {
  let dir: string;
  let root = "";
  let otherRoot = "";
  let leaf = "";
  let selfSigned = "";
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const ca = (name: string) => {
    openssl(
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.pem`,
      "-days",
      "30",
      "-subj",
      `/C=US/O=${name}/CN=${name} Root`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
    );
    return readFileSync(join(dir, `${name}.pem`), "utf8");
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "breakglass-attestation-"));
    root = ca("Vendor");
    otherRoot = ca("Other");
    openssl(
      "req",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      "leaf.key",
      "-out",
      "leaf.csr",
      "-subj",
      "/C=US/O=Vendor/OU=Authenticator Attestation/CN=Batch",
    );
    writeFileSync(join(dir, "ext"), "basicConstraints=CA:FALSE\n");
    openssl(
      "x509",
      "-req",
      "-in",
      "leaf.csr",
      "-CA",
      "Vendor.pem",
      "-CAkey",
      "Vendor.key",
      "-CAcreateserial",
      "-out",
      "leaf.pem",
      "-days",
      "10",
      "-extfile",
      "ext",
    );
    leaf = readFileSync(join(dir, "leaf.pem"), "utf8");
    openssl(
      "req",
      "-x509",
      "-key",
      "leaf.key",
      "-out",
      "self.pem",
      "-days",
      "10",
      "-subj",
      "/C=US/O=Vendor/OU=Authenticator Attestation/CN=Batch",
    );
    selfSigned = readFileSync(join(dir, "self.pem"), "utf8");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const roots = (any: string[], byAaguid: Record<string, string[]> = {}): AttestationRoots => ({
    any,
    byAaguid: new Map(Object.entries(byAaguid)),
    source: "test",
  });
  const check = (chain: string[], r: AttestationRoots | null, fmt = "packed", aaguid = AAGUID) =>
    checkAttestationTrust({ fmt, chain: chain.map(der), aaguid, roots: r, now: Date.now() });
  const code = (r: ReturnType<typeof check>) => (r.ok ? "ok" : r.error.code);

  it("A230 `none` and self-attestation never count, whatever roots are configured", () => {
    assert.equal(code(check([], roots([root]), "none")), "attestation_none");
    assert.equal(code(check([], roots([root]))), "attestation_self");
  });

  it("A230 no roots configured: nothing is trusted (fails closed, saying how to configure them)", () => {
    const r = check([leaf], null);
    assert.equal(code(r), "attestation_roots_missing");
    assert.match(!r.ok ? r.error.message : "", /BREAKGLASS_ATTESTATION_ROOTS/);
    assert.equal(code(check([leaf], roots([]))), "attestation_roots_missing");
  });

  it("A230 a chain to a configured root is trusted; to another root, or a self-signed leaf not configured, it is not", () => {
    const r = check([leaf], roots([root]));
    assert.ok(r.ok, JSON.stringify(r));
    assert.match(r.value.root_subject, /Vendor Root/);
    assert.equal(code(check([leaf, root], roots([root]))), "ok", "the root may be sent in the chain too");
    assert.equal(code(check([leaf], roots([otherRoot]))), "attestation_untrusted");
    assert.equal(
      code(check([leaf, otherRoot], roots([otherRoot]))),
      "attestation_untrusted",
      "a chain that does not link",
    );
    assert.equal(code(check([selfSigned], roots([root]))), "attestation_untrusted");
    assert.equal(
      code(check([selfSigned], roots([selfSigned]))),
      "ok",
      "a configured self-signed batch certificate",
    );
  });

  it("A230 metadata roots count only for their own AAGUID; expired certificates never", () => {
    const byModel = roots([], { [AAGUID]: [der(root)] });
    assert.equal(code(check([leaf], byModel)), "ok");
    assert.equal(
      code(check([leaf], byModel, "packed", "01020304-0506-0708-0102-030405060708")),
      "attestation_untrusted",
    );
    const expired = checkAttestationTrust({
      fmt: "packed",
      chain: [der(leaf)],
      aaguid: AAGUID,
      roots: roots([root]),
      now: Date.now() + 20 * 86400_000,
    });
    assert.ok(!expired.ok && /not valid now/.test(expired.error.message));
  });

  it("reads roots from PEM text and metadata statements", () => {
    assert.equal(pemCertificates(`${root}\njunk\n${otherRoot}`).length, 2);
    assert.equal(pemCertificates("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----").length, 0);
    const m = rootsFromMetadata([
      { aaguid: AAGUID.toUpperCase(), attestationRootCertificates: [der(root)] },
      { attestationRootCertificates: [der(otherRoot)] },
    ]);
    assert.deepEqual([...m.keys()], [AAGUID]);
  });
});
