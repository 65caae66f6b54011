/**
 * Serialises work on one issue inside this process, so two webhooks for the same issue (say an
 * approval and an edit arriving together) cannot interleave their reads and writes. Across
 * replicas, idempotent record ids and first-writer-wins chain reading keep the outcome single.
 */
export function createIssueLock() {
  const tails = new Map<string, Promise<unknown>>();
  return async function withIssueLock<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = tails.get(key) ?? Promise.resolve();
    const run = previous.then(work, work);
    const tail = run.catch(() => undefined);
    tails.set(key, tail);
    try {
      return await run;
    } finally {
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
}
export type IssueLock = ReturnType<typeof createIssueLock>;
