import type { IssueComment } from "../github/github-port.ts";

export const DEFAULT_APP_LOGIN = "breakglass[bot]";

/**
 * Only comments by the app's bot user count. The CLI knows the app by its login, not its numeric id:
 * GitHub reserves `<slug>[bot]` logins for the app of that slug, and only it can post as that user.
 */
export const isAppAuthored = (comment: IssueComment, appLogin: string): boolean =>
  comment.user.type === "Bot" && comment.user.login.toLowerCase() === appLogin.toLowerCase();

/** The seq a record claims, read without checking anything: only to put records in order. */
export function peekSeq(jws: string): number | null {
  const payload = decodePayload(jws);
  const seq = payload?.seq;
  return typeof seq === "number" && Number.isSafeInteger(seq) && seq >= 0 ? seq : null;
}

/** The JSON payload of a compact JWS, unverified; null when it is not a JSON object. */
export function decodePayload(jws: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(jws.split(".")[1] ?? "", "base64url").toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
