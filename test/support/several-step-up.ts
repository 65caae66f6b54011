import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { command } from "../../src/cli/commands/approve.ts";
import type { CliIO } from "../../src/cli/io.ts";
import type { CredentialProvider } from "../../src/providers/provider.ts";
import type { Sandbox } from "../../src/sandbox/start-sandbox.ts";

/**
 * What the step-up suites of requests naming several resources share: two policies owned by
 * @acme/ai-governance (grace, heidi), each needing both of them with an SSH signature (the guardrail
 * policy's step-up) and extensions approved, on a provider that extends in place; a request for both.
 */
export const stepUpPolicy = readFileSync("policies/model-guardrail-override.yml", "utf8")
  .replace("provider: jwt", "provider: postgres")
  .replace(/settings:\n(?: {6}.*\n)+/, "settings:\n      grant_role: bg_model_ops\n")
  .replace("required: 1", "required: 2")
  .replace("max_requests_per_user_per_day: 2", "max_requests_per_user_per_day: 20")
  .replace("max_active_grants_per_user: 1", "max_active_grants_per_user: 5");

export const STEP_UP_FILES = {
  "policies/model-alpha.yml": stepUpPolicy,
  "policies/model-beta.yml": stepUpPolicy,
  // The same, but the requester may break the glass (with the same step-up, which it inherits).
  "policies/model-gamma.yml": stepUpPolicy.replace(
    /break_glass:\n {2}allowed: false/,
    "break_glass:\n  allowed: true",
  ),
};

export const TWO = {
  resource: "model-alpha",
  role: "override",
  duration: "30m",
  severity: "high",
  more: ["model-beta override 20m"],
};

/** A provider that extends in place, one credential per resource: what it was asked to extend, by credential id. */
export function perResourceProvider(): { provider: CredentialProvider; extended: string[] } {
  const extended: string[] = [];
  return {
    extended,
    provider: {
      name: "postgres",
      async mint(request) {
        return {
          credentialId: `ext_${request.issue}_${request.resource}`,
          expiresAt: request.expiresAt,
          secrets: { EXTENDABLE_SECRET: `s-${request.issue}` },
          outputs: {},
        };
      },
      async revoke() {},
      async verifyRevoked() {
        return { revoked: true, evidence: "gone" };
      },
      async extend(ref, expiresAt) {
        extended.push(ref.credentialId);
        return expiresAt;
      },
    },
  };
}

/** A CLI's io as `login` on the sandbox, and what it printed. */
export function cliAs(sb: Sandbox, login: string): { io: CliIO; out: () => string; err: () => string } {
  let out = "";
  let err = "";
  return {
    io: {
      stdout: (t) => void (out += t),
      stderr: (t) => void (err += t),
      readStdin: async () => "",
      cwd: process.cwd(),
      env: {
        GITHUB_TOKEN: sb.emulator.userToken(login),
        GITHUB_API_URL: sb.emulator.apiUrl,
        HOME: "/nonexistent",
      },
    },
    out: () => out,
    err: () => err,
  };
}

/** `breakglass approve --dry-run` as `login` (with `--resource` when given): the signed comment it would post, and what it showed. */
export async function signedComment(
  sb: Sandbox,
  login: string,
  n: number,
  resource?: string,
): Promise<{ body: string; shown: string }> {
  const cli = cliAs(sb, login);
  const code = await command("approve")(
    [
      `${sb.repository}#${n}`,
      "--key",
      await sb.signingKeyOf(login),
      "--jwks",
      `${sb.app.url}/breakglass/jwks.json`,
      "--dry-run",
      ...(resource ? ["--resource", resource] : []),
    ],
    cli.io,
  );
  assert.equal(code, 0, cli.err());
  return { body: cli.out(), shown: cli.err() };
}
