import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { JSONWebKeySet } from "jose";
import { exportPublicJwks } from "../core/audit-chain.ts";
import { err, ok, type Result } from "../core/result.ts";

const FETCH_TIMEOUT_MS = 15_000;
const HINT =
  "Give the app's key set: --jwks https://<your app>/breakglass/jwks.json, or a file holding that JSON.";

/**
 * Reads the app's public key set from a URL or a file. Private members are dropped (a verifier must
 * never hold a key that can sign) and a symmetric key is refused.
 */
export async function loadJwks(
  source: string,
  options: { cwd: string; fetch?: typeof fetch },
): Promise<Result<JSONWebKeySet, string>> {
  let text: string;
  if (/^https?:\/\//i.test(source)) {
    try {
      const response = await (options.fetch ?? fetch)(source, {
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
        headers: { accept: "application/json" },
      });
      if (!response.ok) return err(`${source} answered ${response.status}. ${HINT}`);
      text = await response.text();
    } catch (error) {
      return err(`cannot fetch ${source} (${(error as Error).message}). ${HINT}`);
    }
  } else {
    try {
      text = await readFile(resolve(options.cwd, source), "utf8");
    } catch {
      return err(`cannot read the key file ${source}. ${HINT}`);
    }
  }
  return parseJwks(text, source);
}

export function parseJwks(text: string, source: string): Result<JSONWebKeySet, string> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return err(`${source} is not JSON. ${HINT}`);
  }
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (
    !Array.isArray(keys) ||
    keys.length === 0 ||
    !keys.every(
      (k) => typeof k === "object" && k !== null && typeof (k as { kty?: unknown }).kty === "string",
    )
  ) {
    return err(`${source} is not a key set: it needs {"keys": [ … ]} with at least one key. ${HINT}`);
  }
  try {
    return ok(exportPublicJwks(keys as JSONWebKeySet["keys"]));
  } catch (error) {
    return err(`${source}: ${(error as Error).message.replace(/^exportPublicJwks: /, "")}. ${HINT}`);
  }
}
