import { err, ok, type Result } from "../core/result.ts";
import type { ChainRecord } from "./verify-records.ts";

const REPO = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
const COMPACT_JWS = /^[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;
const SHAPE =
  'each line must be {"repo":"owner/name","issue":123,"jws":"<compact JWS>"} (as `breakglass audit export --format jsonl` writes)';

/** Reads an entries.jsonl file; the first bad line is named with its number. Blank lines are skipped. */
export function parseChainRecords(text: string): Result<ChainRecord[], string> {
  const records: ChainRecord[] = [];
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  for (const [i, line] of lines.entries()) {
    if (line.trim() === "") continue;
    const where = `line ${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return err(`${where} is not JSON: ${SHAPE}.`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value))
      return err(`${where} is not a JSON object: ${SHAPE}.`);
    const { repo, issue, jws } = value as Record<string, unknown>;
    if (typeof repo !== "string" || !REPO.test(repo))
      return err(`${where}: "repo" must be "owner/name"; ${SHAPE}.`);
    if (typeof issue !== "number" || !Number.isSafeInteger(issue) || issue < 1)
      return err(`${where}: "issue" must be a positive whole number; ${SHAPE}.`);
    if (typeof jws !== "string" || !COMPACT_JWS.test(jws))
      return err(`${where}: "jws" must be a compact JWS (three base64url parts joined by dots); ${SHAPE}.`);
    records.push({ repo, issue, jws });
  }
  if (records.length === 0) return err(`the file holds no records; ${SHAPE}.`);
  return ok(records);
}
