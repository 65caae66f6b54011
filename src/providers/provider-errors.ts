/** What every provider says the same way: an error's message, a secret kept out of it, a grant already over. */

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `text` with every occurrence of each secret replaced, longest first (so a secret containing another is not half shown). */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length))
    if (secret) out = out.split(secret).join("[redacted]");
  return out;
}

/** The error a provider throws when asked to mint for a grant whose end has passed. */
export function grantAlreadyEnded(grantId: string, expiresAt: number): Error {
  return new Error(
    `The grant ${grantId} has already ended (${new Date(expiresAt).toISOString()}); request access again.`,
  );
}
