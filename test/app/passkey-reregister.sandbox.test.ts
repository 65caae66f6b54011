/**
 * A removed passkey is not registered again (A236): its credential id's registration is in the
 * ledger, so a second registration of it used to answer "registered" and record nothing. It is
 * refused `passkey_registered_before`, saying what to do. The passkey is made by a software
 * authenticator here (real WebAuthn registration responses, `none` attestation), through the real app.
 */
import assert from "node:assert/strict";
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { isoCBOR } from "@simplewebauthn/server/helpers";
import { readPasskeys } from "../../src/app/http/passkeys/passkey-records.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import { sessionOf } from "../support/web-sign-in.ts";

let sb: Sandbox;
before(async () => {
  sb = await startSandbox({ runWorkflows: false, dashboard: "github" });
});
after(() => sb.close());

const b64url = (b: Uint8Array | Buffer) => Buffer.from(b).toString("base64url");
const origin = () => sb.app.url.replace("127.0.0.1", "localhost");
const owner = () => sb.repository.split("/")[0]!;

async function post(cookie: string, path: string, body: Record<string, unknown>) {
  const res = await fetch(`${sb.app.url}${path}`, {
    method: "POST",
    headers: { cookie, origin: origin(), "content-type": "application/json" },
    body: JSON.stringify({ owner: owner(), ...body }),
  });
  const set = res.headers.getSetCookie().map((c) => c.split(";")[0]!);
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, set };
}

/** A registration response for `credentialId` answering `challenge`, as a software authenticator makes it. */
function registration(credentialId: Buffer, challenge: string) {
  const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = publicKey.export({ format: "jwk" });
  const cose = isoCBOR.encode(
    new Map<number, number | Uint8Array>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, Buffer.from(jwk.x!, "base64url")],
      [-3, Buffer.from(jwk.y!, "base64url")],
    ]),
  );
  const length = Buffer.alloc(2);
  length.writeUInt16BE(credentialId.length);
  const authData = Buffer.concat([
    createHash("sha256").update("localhost").digest(),
    Buffer.from([0x41]), // user present, attested credential data
    Buffer.alloc(4),
    Buffer.alloc(16),
    length,
    credentialId,
    Buffer.from(cose),
  ]);
  const attestationObject = isoCBOR.encode(
    new Map<string, unknown>([
      ["fmt", "none"],
      ["attStmt", new Map()],
      ["authData", new Uint8Array(authData)],
    ]) as never,
  );
  const clientData = JSON.stringify({
    type: "webauthn.create",
    challenge,
    origin: origin(),
    crossOrigin: false,
  });
  return {
    id: b64url(credentialId),
    rawId: b64url(credentialId),
    type: "public-key",
    response: {
      clientDataJSON: b64url(Buffer.from(clientData)),
      attestationObject: b64url(attestationObject),
      transports: [],
    },
    clientExtensionResults: {},
  };
}

describe("re-registering a removed passkey", () => {
  it("A236 a removed credential id registered again is refused (passkey_registered_before), not silently ignored", async () => {
    const session = await sessionOf(sb, "grace");
    const id = randomBytes(16);
    const register = async () => {
      const options = await post(session, "/breakglass/passkeys/options", {});
      assert.equal(options.status, 200, JSON.stringify(options.body));
      const cookie = [session, ...options.set].join("; ");
      return post(cookie, "/breakglass/passkeys/register", {
        response: registration(id, String(options.body.challenge)),
      });
    };
    const first = await register();
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.credential_id, b64url(id));
    // Not active (only pending): removing it needs no step-up.
    const removed = await post(session, "/breakglass/passkeys/remove", { credential_id: b64url(id) });
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
    const again = await register();
    assert.equal(again.status, 409, JSON.stringify(again.body));
    assert.equal(again.body.error, "passkey_registered_before");
    assert.match(
      String(again.body.message),
      /was registered here before and removed: a removed passkey is not registered again/,
    );
    const port = (await sb.app.portFor(owner(), sb.repository.split("/")[1]!))!;
    const records = await readPasskeys(sb.app.deps, port, "grace");
    assert.deepEqual(records.passkeys, [], "still removed");
  });
});
