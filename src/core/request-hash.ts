import { createHash } from "node:crypto";
import { canonicalJson } from "./canonical-json.ts";
import type { AccessRequest } from "./types.ts";

export { canonicalJson };

/** Bumped if the hashed shape ever changes, so old and new hashes can never be confused. */
const REQUEST_HASH_VERSION = 1;

/**
 * SHA-256 (hex) of the request's content, which approvals are bound to. Spellings that GitHub or a
 * browser may change on a re-save without the author changing anything — CRLF versus LF, Unicode
 * composed or decomposed, surrounding whitespace — hash the same; any real change to a field
 * (including `2h` → `3h`, or one letter of the justification) gives a different hash and so voids
 * earlier approvals.
 */
export function requestHash(request: AccessRequest): string {
  const content = {
    type: "breakglass.request",
    v: REQUEST_HASH_VERSION,
    resource: normalizeText(request.resource),
    role: normalizeText(request.role),
    duration_seconds: request.duration_seconds,
    severity: normalizeText(request.severity),
    justification: normalizeText(request.justification),
    incident: request.incident === null ? null : normalizeText(request.incident),
    drill: request.drill,
    // Only present on retroactive records, so every other request keeps the hash it always had.
    ...(request.retroactive
      ? {
          retroactive: {
            started_at: normalizeText(request.retroactive.started_at),
            ended_at: normalizeText(request.retroactive.ended_at),
          },
        }
      : {}),
  };
  return createHash("sha256").update(canonicalJson(content), "utf8").digest("hex");
}

function normalizeText(text: string): string {
  return text.replace(/\r\n?/g, "\n").normalize("NFC").trim();
}
