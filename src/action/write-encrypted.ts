import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { EncryptedDelivery } from "../core/app-wire.ts";

/**
 * Writes the app's age-encrypted credential bundle to the runner's temp directory, for the workflow
 * to upload as a short-lived artifact (`actions/upload-artifact` with `retention-days: 1`). The run
 * never had the plaintext: only the requester's age identity opens the file.
 */
export async function writeEncryptedBundle(
  encrypted: EncryptedDelivery,
  issue: number,
  dir = process.env.RUNNER_TEMP ?? process.cwd(),
): Promise<string> {
  if (encrypted.format !== "age" || !encrypted.armored.startsWith("-----BEGIN AGE ENCRYPTED FILE-----")) {
    throw new Error(
      "The app answered with an encrypted bundle this Action cannot write (expected an ASCII-armored age file).",
    );
  }
  await mkdir(dir, { recursive: true });
  const path = join(dir, `breakglass-${issue}.age`);
  await writeFile(path, encrypted.armored, { mode: 0o600 });
  return path;
}

/** How the requester opens it, for the job summary and the log. */
export function decryptInstructions(path: string, runUrl: string | null): string {
  const name = path.split("/").pop()!;
  return [
    `The credentials are in ${name}, encrypted to your age key; nobody else (this run included) can read them.`,
    runUrl
      ? `Download the artifact "breakglass-credentials" from ${runUrl} (it is deleted after a day), then:`
      : `Download the artifact "breakglass-credentials" of this run (it is deleted after a day), then:`,
    `  age --decrypt --identity ~/.config/age/breakglass.key ${name} | jq .`,
  ].join("\n");
}
