import { AsyncLocalStorage } from "node:async_hooks";

/**
 * Which writes may wait. An installation's writes share one paced lane (server.ts), so under load a
 * write queues behind others. The writes a person is waiting for (the ledger record, the status
 * comment, the workflow dispatch) go first; what only shows or mirrors the outcome (reactions, the
 * records' mirror comments after a dispatch, labels) is marked deferred and waits behind every
 * critical write of every request. Deferred writes are still done by the same handler before it
 * reports the command answered (its 🚀), so work a crash cut short is found and finished by the
 * start-up catch-up like any other (see docs/architecture.md).
 */
const deferred = new AsyncLocalStorage<true>();

/** Bottleneck priorities (0 first; Octokit's retries use 0): critical writes, then deferred ones. */
export const CRITICAL_WRITE_PRIORITY = 4;
export const DEFERRED_WRITE_PRIORITY = 8;

/** Runs `work` with its GitHub writes queued behind every critical write. */
export function deferWrites<T>(work: () => Promise<T>): Promise<T> {
  return deferred.run(true, work);
}

/** The priority for a write being queued now. */
export function writePriority(): number {
  return deferred.getStore() ? DEFERRED_WRITE_PRIORITY : CRITICAL_WRITE_PRIORITY;
}
