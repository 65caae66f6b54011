import { armor, Decrypter, identityToRecipient } from "age-encryption";
import type { Octokit } from "@octokit/rest";
import { readZip } from "../core/zip.ts";
import { UserError } from "./io.ts";

export const ARTIFACT_NAME = "breakglass-credentials";

/** The run's `breakglass-credentials` artifact, or null while the upload step has not finished. */
export async function findCredentialsArtifact(
  octokit: Octokit,
  owner: string,
  repo: string,
  runId: number,
): Promise<{ id: number; expired: boolean } | null> {
  const { data } = await octokit.rest.actions.listWorkflowRunArtifacts({
    owner,
    repo,
    run_id: runId,
    name: ARTIFACT_NAME,
    per_page: 10,
  });
  const found = data.artifacts.find((a) => a.name === ARTIFACT_NAME);
  return found ? { id: found.id, expired: found.expired } : null;
}

/**
 * Downloads an artifact as GitHub serves it: the API answers 302 with a short-lived signed URL, which
 * is fetched without the token (it is another host on GitHub, and the token must not travel there).
 */
export async function downloadArtifact(
  apiUrl: string,
  token: string,
  owner: string,
  repo: string,
  artifactId: number,
  fetchFn: typeof fetch = fetch,
): Promise<Buffer> {
  const res = await fetchFn(`${apiUrl}/repos/${owner}/${repo}/actions/artifacts/${artifactId}/zip`, {
    headers: {
      authorization: `Bearer ${token}`,
      accept: "application/vnd.github+json",
      "x-github-api-version": "2022-11-28",
    },
    redirect: "manual",
  });
  if (res.status === 410)
    throw new UserError(
      "the credentials artifact has expired (they are kept one day): ask for access again.",
    );
  const location = res.headers.get("location");
  if (res.status !== 302 || !location)
    throw new UserError(
      `GitHub did not hand out the credentials artifact (HTTP ${res.status}): your token needs read access to the repository's Actions.`,
    );
  await res.body?.cancel();
  const zip = await fetchFn(location);
  if (!zip.ok)
    throw new UserError(
      `the artifact download failed (HTTP ${zip.status}); run the command again for a fresh link.`,
    );
  return Buffer.from(await zip.arrayBuffer());
}

/** The age identity (AGE-SECRET-KEY-1…) from an identity file, comments and blank lines skipped. */
export function identityFrom(text: string, path: string): string {
  const line = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l.startsWith("AGE-SECRET-KEY-1"));
  if (!line)
    throw new UserError(
      `${path} holds no age identity (a line AGE-SECRET-KEY-1…): make one with \`age-keygen -o ${path}\`.`,
    );
  return line;
}

export async function recipientOfIdentity(identity: string, path: string): Promise<string> {
  try {
    return await identityToRecipient(identity);
  } catch {
    throw new UserError(`${path} holds an age identity that is not valid (checksum or length).`);
  }
}

/** The credential bundle in the artifact, opened with the responder's identity. */
export async function openBundle(
  zip: Buffer,
  identity: string,
  identityPath: string,
  recipient: string,
): Promise<{ secrets: Record<string, string>; outputs?: Record<string, string>; expires_at?: string }> {
  let files: Map<string, Buffer>;
  try {
    files = readZip(zip);
  } catch (error) {
    throw new UserError(`the credentials artifact is not a readable ZIP: ${(error as Error).message}.`);
  }
  const file = [...files.entries()].find(([name]) => name.endsWith(".age"));
  if (!file) throw new UserError("the credentials artifact holds no .age file.");
  const decrypter = new Decrypter();
  decrypter.addIdentity(identity);
  let text: string;
  try {
    const raw = file[1].toString("utf8");
    text = await decrypter.decrypt(
      raw.startsWith("-----BEGIN AGE ENCRYPTED FILE-----") ? armor.decode(raw) : file[1],
      "text",
    );
  } catch {
    throw new UserError(
      `your age identity (${identityPath}, ${recipient}) does not open these credentials: they were encrypted to the key listed for you in .github/breakglass-recipients.yml.`,
    );
  }
  const bundle = JSON.parse(text) as { secrets?: unknown };
  if (!bundle.secrets || typeof bundle.secrets !== "object")
    throw new UserError("the decrypted bundle holds no secrets.");
  return bundle as { secrets: Record<string, string> };
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const quote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/** `export NAME='value'` lines (POSIX shell), or `NAME='value'` for an env file; unsafe names dropped. */
export function shellLines(secrets: Record<string, string>, exported: boolean): string {
  return Object.entries(secrets)
    .filter(([name, value]) => NAME.test(name) && typeof value === "string")
    .map(([name, value]) => `${exported ? "export " : ""}${name}=${quote(value)}\n`)
    .join("");
}
