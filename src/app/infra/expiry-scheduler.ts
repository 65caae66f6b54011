import type { GitHubPort } from "../../github/github-port.ts";

/**
 * In-process timers for expiry and revocation retries, one per issue at the earliest time due. Only an optimisation for timeliness: every
 * timer is rebuilt from the records by reconcile at start-up, and the scheduled sweep catches
 * whatever a stopped process missed.
 */
export interface ExpiryScheduler {
  schedule(port: GitHubPort, issue: number, atMs: number): void;
  retry(port: GitHubPort, issue: number, attempt: number): void;
  /** Timers due now (used by fake clocks in the sandbox). */
  due(now: number): Array<{ port: GitHubPort; issue: number }>;
  stop(): void;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

export function createExpiryScheduler(options: {
  now: () => number;
  retryBaseMs: number;
  fire: (port: GitHubPort, issue: number) => Promise<void>;
  /** Use real timers (false in the sandbox with a fake clock, where `due` is polled instead). */
  realTimers: boolean;
  onError?: (error: unknown) => void;
}): ExpiryScheduler {
  const entries = new Map<
    string,
    { port: GitHubPort; issue: number; at: number; timer?: ReturnType<typeof setTimeout> }
  >();
  const key = (port: GitHubPort, issue: number) => `${port.owner}/${port.repo}#${issue}`;
  function set(port: GitHubPort, issue: number, at: number) {
    const k = key(port, issue);
    const old = entries.get(k);
    // One timer per issue, at the earliest time anything on it is due: a request naming several
    // resources has a grant (or a timeout) per resource, and a later one must not push back an
    // earlier one. Waking early costs one reconcile of the issue, which schedules what is due next.
    if (old && old.at <= at) return;
    if (old?.timer) clearTimeout(old.timer);
    const entry: { port: GitHubPort; issue: number; at: number; timer?: ReturnType<typeof setTimeout> } = {
      port,
      issue,
      at,
    };
    if (options.realTimers) {
      entry.timer = setTimeout(
        () => {
          entries.delete(k);
          options.fire(port, issue).catch((e) => options.onError?.(e));
        },
        Math.min(MAX_TIMER_MS, Math.max(0, at - options.now())),
      );
      entry.timer.unref?.();
    }
    entries.set(k, entry);
  }
  return {
    schedule: (port, issue, at) => set(port, issue, at),
    retry: (port, issue, attempt) =>
      set(port, issue, options.now() + Math.min(options.retryBaseMs * 2 ** (attempt - 1), 15 * 60_000)),
    due(now) {
      const out: Array<{ port: GitHubPort; issue: number }> = [];
      for (const [k, e] of entries) {
        if (e.at <= now) {
          if (e.timer) clearTimeout(e.timer);
          entries.delete(k);
          out.push({ port: e.port, issue: e.issue });
        }
      }
      return out;
    },
    stop() {
      for (const e of entries.values()) if (e.timer) clearTimeout(e.timer);
      entries.clear();
    },
  };
}
