/**
 * The hidden marker that carries a signed audit record in an app comment. Only comments the app
 * authored may be read for it (see src/github/issue-records.ts); anyone can type the same text.
 */
export const RECORD_MARKER = /<!-- breakglass:record ([A-Za-z0-9_\-.]+) -->/;

export const recordMarker = (jws: string): string => `<!-- breakglass:record ${jws} -->`;

/** The compact JWS in a comment body, or null. */
export const readRecordMarker = (body: string | null | undefined): string | null =>
  RECORD_MARKER.exec(body ?? "")?.[1] ?? null;
