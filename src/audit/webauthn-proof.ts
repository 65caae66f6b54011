import { verifyAuthenticationResponse, type AuthenticationResponseJSON } from "@simplewebauthn/server";
import { challengeNonce, type SignedTarget, type StepUpKind, type WebAuthnProof } from "../core/step-up.ts";

/**
 * Re-verifies a recorded WebAuthn step-up offline: the authenticator's signature over its data and
 * the browser's client data, with the registered public key; the client data's challenge must bind
 * exactly this request (or extension), the origin and RP ID the recorded ones. Returns a problem, or null.
 */
export async function recheckWebAuthnProof(
  proof: WebAuthnProof,
  kind: StepUpKind,
  repository: string,
  issue: number,
  hash: SignedTarget,
): Promise<string | null> {
  const assertion = proof.assertion as unknown as AuthenticationResponseJSON;
  if (assertion.id !== proof.credential_id)
    return `its assertion was made by credential ${String(assertion.id).slice(0, 24)}, not the recorded ${proof.credential_id.slice(0, 24)}`;
  try {
    const result = await verifyAuthenticationResponse({
      response: assertion,
      expectedChallenge: (challenge) => challengeNonce(challenge, kind, repository, issue, hash) !== null,
      expectedOrigin: proof.origin,
      expectedRPID: proof.rp_id,
      // The counter was checked against the registration when the approval was taken; offline, the signature is what counts.
      credential: {
        id: proof.credential_id,
        publicKey: new Uint8Array(Buffer.from(proof.public_key, "base64url")),
        counter: 0,
      },
      requireUserVerification: false,
    });
    return result.verified ? null : "its WebAuthn assertion does not verify";
  } catch (error) {
    return `its WebAuthn assertion does not verify (${(error as Error).message.slice(0, 160)})`;
  }
}
