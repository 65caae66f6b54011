/** Where the sandbox reads the time: epoch milliseconds. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export type ClockListener = (now: number, previous: number) => void;

/**
 * A clock that only moves when told to, so an hour-long grant can expire in a millisecond of test
 * time. Listeners hear every move (forwards with `advance`, either way with `set`) so a scheduler can
 * fire what became due.
 */
export class FakeClock implements Clock {
  #now: number;
  readonly #listeners = new Set<ClockListener>();

  constructor(startMs: number) {
    if (!Number.isFinite(startMs))
      throw new RangeError(`FakeClock needs a finite start time in epoch ms, got ${startMs}`);
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  /** Moves forwards by `ms` (>= 0); use `set` for a jump backwards. */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0)
      throw new RangeError(
        `FakeClock.advance needs a finite, non-negative number of ms, got ${ms}; use set() to jump backwards`,
      );
    this.set(this.#now + ms);
  }

  set(ms: number): void {
    if (!Number.isFinite(ms))
      throw new RangeError(`FakeClock.set needs a finite time in epoch ms, got ${ms}`);
    const previous = this.#now;
    this.#now = ms;
    // Every listener hears the move even if an earlier one throws; the first error is rethrown.
    let failure: { error: unknown } | null = null;
    for (const listener of [...this.#listeners]) {
      try {
        listener(ms, previous);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
  }

  /** Subscribes to moves; returns the unsubscribe function. */
  onAdvance(listener: ClockListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** GitHub's timestamp format: ISO 8601 in UTC without milliseconds. */
export function githubTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}
