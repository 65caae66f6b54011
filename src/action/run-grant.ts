import {
  APP_ROUTES,
  relativeRoute,
  type ExchangeResult,
  type GrantRunRequest,
  type ReleaseResult,
} from "../core/app-wire.ts";
import { postToApp } from "./app-client.ts";
import type { ActionCore } from "./action-core.ts";
import { decryptInstructions, writeEncryptedBundle } from "./write-encrypted.ts";
import { idToken } from "./id-token.ts";

export const GRANT_STATE = "breakglass-grant";

/**
 * Grant mode: exchange the run's OIDC token for the approved credentials. Every secret is masked
 * before anything else happens with it; secrets go to the job's environment, never to outputs.
 */
export async function runGrant(
  core: ActionCore,
  inputs: { appUrl: string; issue: number; audience: string; exportEnv: boolean; repository: string },
): Promise<ExchangeResult> {
  const token = await idToken(core, inputs.audience);
  const result = await postToApp<ExchangeResult, GrantRunRequest>(
    inputs.appUrl,
    relativeRoute(APP_ROUTES.exchange),
    {
      token,
      repository: inputs.repository,
      issue: inputs.issue,
    },
  );
  for (const value of Object.values(result.secrets)) core.setSecret(value);
  if (inputs.exportEnv)
    for (const [name, value] of Object.entries(result.secrets)) core.exportVariable(name, value);
  // Non-secret settings the job needs beside the secrets (PGHOST, AWS_REGION…): environment-style
  // names go to the environment; all of them to one JSON output. A value equal to a secret never does.
  const secretValues = new Set(Object.values(result.secrets));
  const plain = Object.fromEntries(
    Object.entries(result.outputs ?? {}).filter(([, value]) => !secretValues.has(value)),
  );
  if (inputs.exportEnv)
    for (const [name, value] of Object.entries(plain))
      if (/^[A-Z][A-Z0-9_]{0,63}$/.test(name)) core.exportVariable(name, value);
  core.setOutput("provider-outputs", JSON.stringify(plain));
  core.setOutput("grant-id", result.grant_id);
  core.setOutput("credential-id", result.credential_id);
  core.setOutput("provider", result.provider);
  core.setOutput("expires-at", result.expires_at);
  core.setOutput("issue-url", result.issue_url);
  const encryptedFile = result.encrypted ? await writeEncryptedBundle(result.encrypted, inputs.issue) : null;
  if (encryptedFile) {
    core.setOutput("encrypted-file", encryptedFile);
    if (inputs.exportEnv) core.exportVariable("BREAKGLASS_ENCRYPTED_FILE", encryptedFile);
    core.info(decryptInstructions(encryptedFile, runUrl()));
  }
  core.saveState(
    GRANT_STATE,
    JSON.stringify({
      issue: inputs.issue,
      appUrl: inputs.appUrl,
      audience: inputs.audience,
      repository: inputs.repository,
      keep: result.keep_alive_after_job,
    }),
  );
  core.info(
    `Granted ${result.provider} credential ${result.credential_id} until ${result.expires_at} (${result.issue_url}).`,
  );
  if (Object.keys(result.secrets).length)
    core.info(`Exported for the next steps: ${Object.keys(result.secrets).join(", ")} (masked).`);
  await core.summary
    .addHeading("🔓 Break-glass access granted", 2)
    .addTable([
      [
        { data: "Field", header: true },
        { data: "Value", header: true },
      ],
      ["Request", `<a href="${result.issue_url}">#${inputs.issue}</a>`],
      ["Provider", result.provider],
      ["Credential", `<code>${result.credential_id}</code>`],
      ["Expires", result.expires_at],
      encryptedFile
        ? [
            "Secrets",
            `encrypted to the requester's age key in <code>${encryptedFile.split("/").pop()}</code> (artifact <code>breakglass-credentials</code>, one day); this run never saw them`,
          ]
        : [
            "Secrets",
            Object.keys(result.secrets)
              .map((k) => `<code>${k}</code>`)
              .join(", ") + " (masked, exported to the job)",
          ],
    ])
    .addRaw(
      `\n\n\`\`\`mermaid\ntimeline\n  title Grant for #${inputs.issue}\n  ${new Date().toISOString()} : credentials delivered to this run\n  ${result.expires_at} : revoked by Breakglass\n\`\`\`\n`,
    )
    .write();
  return result;
}

function runUrl(): string | null {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: run } = process.env;
  return server && repo && run ? `${server}/${repo}/actions/runs/${run}` : null;
}

/** The post step: the job is over, so its grant ends too, unless the policy keeps it alive until expiry. */
export async function runRelease(core: ActionCore): Promise<string> {
  const saved = core.getState(GRANT_STATE);
  if (!saved) return "nothing";
  const state = JSON.parse(saved) as {
    issue: number;
    appUrl: string;
    audience: string;
    repository: string;
    keep: boolean;
  };
  if (state.keep) {
    core.info("The policy keeps this grant alive until it expires; not revoking it now.");
    return "kept";
  }
  const token = await idToken(core, state.audience);
  const { outcome } = await postToApp<ReleaseResult, GrantRunRequest>(
    state.appUrl,
    relativeRoute(APP_ROUTES.release),
    {
      token,
      repository: state.repository,
      issue: state.issue,
    },
  );
  core.info(`Grant for #${state.issue}: ${outcome}.`);
  if (outcome === "failed")
    core.setFailed(
      `Revocation of the grant for #${state.issue} failed; Breakglass keeps retrying and has alerted its owners.`,
    );
  return outcome;
}
