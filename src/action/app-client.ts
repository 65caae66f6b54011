import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { RefusalBody } from "../core/app-wire.ts";

/** Calls the Breakglass app's routes; errors carry the app's reason code and message. */
export class AppRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface RetryOptions {
  /** Tries in all, the first included. */
  attempts: number;
  /** The wait before the second try; it doubles each time, up to maxDelayMs. */
  baseDelayMs: number;
  /** No wait is longer than this, Retry-After included: a job must not hang on a slow app. */
  maxDelayMs: number;
}

// Four tries over about 7 s: enough for a restarting app or a replica being replaced behind a load
// balancer, short enough that the job's OIDC token (about 5 minutes) is still valid at the last try.
export const DEFAULT_RETRY: RetryOptions = { attempts: 4, baseDelayMs: 1_000, maxDelayMs: 10_000 };

export interface PostOptions {
  timeoutMs?: number;
  retry?: RetryOptions;
  /** Where tests see the waits. */
  wait?: (ms: number) => Promise<unknown>;
  log?: (line: string) => void;
}

/** 5xx and 429 may pass (the app restarting, a replica going away, a rate limit); any other 4xx is the app's answer and is final. */
export const isRetryableStatus = (status: number): boolean => status >= 500 || status === 429;

/** The wait before try `attempt + 1`: doubling from the base, or the server's Retry-After, never over the cap. */
export function retryDelayMs(
  attempt: number,
  retryAfter: string | null,
  options: RetryOptions,
  nowMs: number,
): number {
  const backoff = options.baseDelayMs * 2 ** (attempt - 1);
  let asked: number | null = null;
  if (retryAfter !== null && /^\s*\d+\s*$/.test(retryAfter)) asked = Number(retryAfter) * 1000;
  else if (retryAfter !== null && !Number.isNaN(Date.parse(retryAfter)))
    asked = Math.max(0, Date.parse(retryAfter) - nowMs);
  return Math.min(asked ?? backoff, options.maxDelayMs);
}

export async function postToApp<T, B extends object = Record<string, unknown>>(
  appUrl: string,
  path: string,
  body: B,
  options: PostOptions = {},
): Promise<T> {
  const {
    timeoutMs = 30_000,
    retry = DEFAULT_RETRY,
    wait = sleep,
    log = (line: string) => console.log(line),
  } = options;
  const url = new URL(path, appUrl.endsWith("/") ? appUrl : `${appUrl}/`);
  // Names this run in the app's logs, so a refusal printed here can be found there.
  const requestId = `run-${process.env.GITHUB_RUN_ID ?? "local"}-${process.env.GITHUB_RUN_ATTEMPT ?? "1"}-${randomBytes(3).toString("hex")}`;
  for (let attempt = 1; ; attempt++) {
    const last = attempt >= retry.attempts;
    let res: Response;
    try {
      res = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "breakglass-action",
          "x-request-id": requestId,
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const reason = `Could not reach the Breakglass app at ${url.origin}: ${(error as Error).message}`;
      if (last) throw new Error(attempt > 1 ? `${reason} (after ${attempt} tries)` : reason);
      const delay = retryDelayMs(attempt, null, retry, Date.now());
      log(`${reason}; trying again in ${delay} ms (try ${attempt + 1} of ${retry.attempts}).`);
      await wait(delay);
      continue;
    }
    const text = await res.text();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      /* reported below */
    }
    if (!res.ok) {
      const err = (json ?? {}) as Partial<RefusalBody>;
      const id = res.headers.get("x-request-id") ?? requestId;
      const refusal = new AppRefusal(
        res.status,
        err.error ?? `http_${res.status}`,
        `${err.message ?? `The app answered ${res.status}.`} (request id ${id})`,
      );
      if (last || !isRetryableStatus(res.status)) throw refusal;
      const delay = retryDelayMs(attempt, res.headers.get("retry-after"), retry, Date.now());
      log(
        `The Breakglass app answered ${res.status} (${refusal.code}); trying again in ${delay} ms (try ${attempt + 1} of ${retry.attempts}).`,
      );
      await wait(delay);
      continue;
    }
    if (json === null) throw new Error(`The Breakglass app answered ${res.status} without JSON.`);
    return json as T;
  }
}
