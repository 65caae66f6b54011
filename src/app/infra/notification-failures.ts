/** One notification that did not arrive: which target, why, when. No URL or secret is kept. */
export interface NotificationFailure {
  at: string;
  target: "slack" | "webhook";
  url_env: string;
  event: string;
  repository: string;
  issue: number;
  reason: string;
}

/**
 * The latest notification failures, for the dashboard, and listeners (the log line, the metric).
 * Display only: nothing decides by it, so losing it on restart loses no state.
 */
export interface NotificationFailureLog {
  add(failure: NotificationFailure): void;
  recent(): NotificationFailure[];
  total(): number;
  onFailure(listener: (failure: NotificationFailure) => void): void;
}

export function notificationFailureLog(keep = 20): NotificationFailureLog {
  const latest: NotificationFailure[] = [];
  const listeners: Array<(failure: NotificationFailure) => void> = [];
  let count = 0;
  return {
    add(failure) {
      count++;
      latest.unshift(failure);
      latest.length = Math.min(latest.length, keep);
      for (const l of listeners) l(failure);
    },
    recent: () => [...latest],
    total: () => count,
    onFailure: (listener) => void listeners.push(listener),
  };
}
