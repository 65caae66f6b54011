import { randomUUID } from "node:crypto";
import type { Clock } from "../clock.ts";
import type { RouteResult } from "./router.ts";

/**
 * GitHub's documented REST limits ("Rate limits for the REST API"):
 * - primary: 5,000 requests an hour for an installation (and for a person's token), in a window whose
 *   end `x-ratelimit-reset` names; a conditional request answered 304 does not count;
 * - secondary: at most 100 concurrent requests; at most 900 points a minute (GET/HEAD 1, POST/PATCH/PUT/DELETE 5);
 *   at most 80 content-generating requests a minute and 500 an hour.
 * GitHub does not list which requests "generate content"; the emulator counts every mutating request
 * (POST, PATCH, PUT, DELETE) but minting an installation token, which is at least as strict.
 */
export const GITHUB_REST_LIMITS = {
  primaryPerHour: 5000,
  concurrent: 100,
  pointsPerMinute: 900,
  contentPerMinute: 80,
  contentPerHour: 500,
} as const;

export type RateLimits = { [K in keyof typeof GITHUB_REST_LIMITS]: number };

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DOCS = "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api";
const SECONDARY_MESSAGE =
  "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID";

export const isMutating = (method: string): boolean =>
  method === "POST" || method === "PATCH" || method === "PUT" || method === "DELETE";

/** A write GitHub may count as content-generating: every mutating request but minting an installation token. */
export const isContentCreating = (method: string, route: string): boolean =>
  isMutating(method) && route !== "/app/installations/{installation_id}/access_tokens";

interface Bucket {
  windowStart: number;
  used: number;
  inFlight: number;
  /** Times (wall ms) of recent requests with their points, and of content-generating ones. */
  points: Array<{ at: number; points: number }>;
  content: number[];
}

export interface Admission {
  /** Headers for the answer, after the request's status is known (a 304 is given back). */
  finish(status: number): Record<string, string>;
}

export type AdmitResult = { ok: true; admission: Admission } | { ok: false; result: RouteResult };

/** Counts each caller's requests (an installation, a person, the app's JWT) against GitHub's limits. */
export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  /** Refusals by kind, for tests and benchmarks to read. */
  readonly refusals = { primary: 0, concurrent: 0, points: 0, contentPerMinute: 0, contentPerHour: 0 };

  constructor(
    private readonly clock: Clock,
    private readonly limits: RateLimits = GITHUB_REST_LIMITS,
  ) {}

  /** Admits or refuses one request of `key`; an admitted one must call `finish` when answered. */
  admit(key: string, method: string, route: string): AdmitResult {
    const now = this.clock.now();
    const bucket = this.#bucket(key, now);
    const trim = <T>(list: T[], at: (x: T) => number, span: number) => {
      while (list.length && at(list[0]!) <= now - span) list.shift();
    };
    trim(bucket.points, (p) => p.at, MINUTE_MS);
    trim(bucket.content, (t) => t, HOUR_MS);
    const reset = Math.ceil((bucket.windowStart + HOUR_MS) / 1000);
    const primaryHeaders = () => ({
      "x-ratelimit-limit": String(this.limits.primaryPerHour),
      "x-ratelimit-remaining": String(Math.max(0, this.limits.primaryPerHour - bucket.used)),
      "x-ratelimit-used": String(bucket.used),
      "x-ratelimit-reset": String(reset),
      "x-ratelimit-resource": "core",
    });
    if (bucket.used >= this.limits.primaryPerHour) {
      this.refusals.primary++;
      return {
        ok: false,
        result: {
          status: 403,
          body: { message: `API rate limit exceeded for ${key}.`, documentation_url: DOCS, status: "403" },
          headers: primaryHeaders(),
        },
      };
    }
    const points = isMutating(method) ? 5 : 1;
    const content = isContentCreating(method, route);
    const pointsUsed = bucket.points.reduce((sum, p) => sum + p.points, 0);
    const contentLastMinute = bucket.content.filter((t) => t > now - MINUTE_MS);
    // Seconds until the oldest counted request leaves its window, as GitHub's retry-after says when to try again.
    const wait = (oldest: number, span: number) => Math.max(1, Math.ceil((oldest + span - now) / 1000));
    let secondary: { kind: keyof RateLimiter["refusals"]; retryAfter: number } | null = null;
    if (bucket.inFlight >= this.limits.concurrent) secondary = { kind: "concurrent", retryAfter: 1 };
    else if (pointsUsed + points > this.limits.pointsPerMinute)
      secondary = { kind: "points", retryAfter: wait(bucket.points[0]!.at, MINUTE_MS) };
    else if (content && contentLastMinute.length >= this.limits.contentPerMinute)
      secondary = { kind: "contentPerMinute", retryAfter: wait(contentLastMinute[0]!, MINUTE_MS) };
    else if (content && bucket.content.length >= this.limits.contentPerHour)
      secondary = { kind: "contentPerHour", retryAfter: wait(bucket.content[0]!, HOUR_MS) };
    if (secondary) {
      this.refusals[secondary.kind]++;
      const requestId = randomUUID().toUpperCase();
      return {
        ok: false,
        result: {
          status: 403,
          body: {
            message: `${SECONDARY_MESSAGE} ${requestId}.`,
            documentation_url: `${DOCS}#about-secondary-rate-limits`,
            status: "403",
          },
          headers: {
            "retry-after": String(secondary.retryAfter),
            "x-github-request-id": requestId,
            ...primaryHeaders(),
          },
        },
      };
    }
    bucket.used++;
    bucket.inFlight++;
    bucket.points.push({ at: now, points });
    if (content) bucket.content.push(now);
    return {
      ok: true,
      admission: {
        finish: (status) => {
          bucket.inFlight--;
          // "Making a conditional request does not count against your primary rate limit if a 304 response is returned."
          if (status === 304) bucket.used--;
          return primaryHeaders();
        },
      },
    };
  }

  /** What a caller has used of its primary limit in the current window. */
  used(key: string): number {
    return this.#buckets.get(key)?.used ?? 0;
  }

  #bucket(key: string, now: number): Bucket {
    let bucket = this.#buckets.get(key);
    if (!bucket || now >= bucket.windowStart + HOUR_MS) {
      const carried = bucket ?? { points: [], content: [], inFlight: 0 };
      bucket = {
        windowStart: now,
        used: 0,
        inFlight: carried.inFlight,
        points: carried.points,
        content: carried.content,
      };
      this.#buckets.set(key, bucket);
    }
    return bucket;
  }
}
