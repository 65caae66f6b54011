import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * SSH signing keys for the sandbox's people, made with the real `ssh-keygen` on first use and added
 * to their GitHub account (as a *signing* key) in the emulator, as an approver sets one up.
 */
export function approverKeys(register: (login: string, publicKey: string) => void) {
  let dir: Promise<string> | null = null;
  const keys = new Map<string, Promise<string>>();
  const make = async (login: string): Promise<string> => {
    dir ??= mkdtemp(join(tmpdir(), "breakglass-sandbox-keys-"));
    const path = join(await dir, login.replace(/[^A-Za-z0-9-]/g, "_"));
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `${login}@sandbox`, "-f", path]);
    register(login, (await readFile(`${path}.pub`, "utf8")).trim());
    return path;
  };
  return {
    /** The private key file of `login`'s signing key (made and registered the first time). */
    keyOf(login: string): Promise<string> {
      const key = login.toLowerCase();
      if (!keys.has(key)) keys.set(key, make(login));
      return keys.get(key)!;
    },
    async close(): Promise<void> {
      if (dir) await rm(await dir, { recursive: true, force: true });
    },
  };
}
