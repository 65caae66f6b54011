/**
 * Limits on the passkey pages, whose access checks cost GitHub API calls under the installation's
 * token (the installed repositories, one permission look-up per repository): a signed-in stranger
 * reloading them in a loop must not drain the installation's rate limit, which every request,
 * approval and revocation of the app depends on. So answers are cached per login for a short time,
 * and each login and each client address gets a bounded number of requests per minute (429 past it).
 */
export interface RequestLimits {
  /** Whether one more request from this login and address is admitted; else the seconds to wait. */
  admit(login: string, address: string): { ok: true } | { ok: false; retryAfterSeconds: number };
  /** A value computed at most once per `ttlMs` for a key (a promise, so concurrent requests share one look-up). */
  cached<T>(key: string, compute: () => Promise<T>): Promise<T>;
}

export const PASSKEY_REQUESTS_PER_MINUTE_PER_LOGIN = 60;
export const PASSKEY_REQUESTS_PER_MINUTE_PER_ADDRESS = 120;
export const PASSKEY_ACCESS_CACHE_MS = 60_000;

export function requestLimits(
  now: () => number,
  options: { perLogin?: number; perAddress?: number; ttlMs?: number } = {},
): RequestLimits {
  const perLogin = options.perLogin ?? PASSKEY_REQUESTS_PER_MINUTE_PER_LOGIN;
  const perAddress = options.perAddress ?? PASSKEY_REQUESTS_PER_MINUTE_PER_ADDRESS;
  const ttl = options.ttlMs ?? PASSKEY_ACCESS_CACHE_MS;
  const windows = new Map<string, { start: number; count: number }>();
  const values = new Map<string, { at: number; value: Promise<unknown> }>();
  const count = (key: string, limit: number): number | null => {
    const t = now();
    const w = windows.get(key);
    if (!w || t - w.start >= 60_000) {
      windows.set(key, { start: t, count: 1 });
      return null;
    }
    if (w.count >= limit) return Math.max(1, Math.ceil((w.start + 60_000 - t) / 1000));
    w.count++;
    return null;
  };
  const sweep = () => {
    const t = now();
    if (windows.size > 10_000) for (const [k, w] of windows) if (t - w.start >= 60_000) windows.delete(k);
    if (values.size > 10_000) for (const [k, v] of values) if (t - v.at >= ttl) values.delete(k);
  };
  return {
    admit(login, address) {
      sweep();
      const wait = count(`ip:${address}`, perAddress) ?? count(`login:${login.toLowerCase()}`, perLogin);
      return wait === null ? { ok: true } : { ok: false, retryAfterSeconds: wait };
    },
    cached<T>(key: string, compute: () => Promise<T>): Promise<T> {
      const hit = values.get(key);
      if (hit && now() - hit.at < ttl) return hit.value as Promise<T>;
      const value = compute();
      values.set(key, { at: now(), value });
      // A failed look-up is not kept: the next request asks again.
      value.catch(() => values.delete(key));
      return value;
    },
  };
}
