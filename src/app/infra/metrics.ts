import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** What the app counts as it works; the server turns them into Prometheus metrics. */
export interface AppCounters {
  revokeFailed(provider: string): void;
  exchangeRefused(route: string, code: string): void;
  webhookHandled(event: string, seconds: number): void;
  notificationFailed(target: string): void;
}

export interface AppMetrics extends AppCounters {
  registry: Registry;
}

export interface LiveCounts {
  active: number;
  pending: number;
  revokeFailed: number;
}

/**
 * The app's Prometheus metrics. Active grants and pending requests are read from the request records
 * at scrape time (`live`), as the dashboard reads them: the app holds no count of its own that could
 * drift from the records, and every replica reports the same numbers.
 */
export function createAppMetrics(live: () => Promise<LiveCounts>): AppMetrics {
  const registry = new Registry();
  let snapshot: Promise<LiveCounts> | null = null;
  // One read of the records per scrape, shared by the three gauges.
  const read = () => (snapshot ??= live().finally(() => setTimeout(() => (snapshot = null), 0)));
  new Gauge({
    name: "breakglass_active_grants",
    help: "Grants whose credentials are live now.",
    registers: [registry],
    async collect() {
      this.set((await read()).active);
    },
  });
  new Gauge({
    name: "breakglass_pending_requests",
    help: "Requests waiting for approval or for their grant run.",
    registers: [registry],
    async collect() {
      this.set((await read()).pending);
    },
  });
  new Gauge({
    name: "breakglass_revoke_failed_grants",
    help: "Grants whose revocation failed and is being retried.",
    registers: [registry],
    async collect() {
      this.set((await read()).revokeFailed);
    },
  });
  const revokeFailures = new Counter({
    name: "breakglass_revoke_failures_total",
    help: "Revocations that failed or could not be verified, by provider.",
    labelNames: ["provider"],
    registers: [registry],
  });
  const refusals = new Counter({
    name: "breakglass_exchange_refusals_total",
    help: "Refused calls to the Action's routes, by route and reason code.",
    labelNames: ["route", "code"],
    registers: [registry],
  });
  const webhooks = new Histogram({
    name: "breakglass_webhook_duration_seconds",
    help: "Time to handle a webhook delivery, by event (GitHub gives up after 10 s).",
    labelNames: ["event"],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
    registers: [registry],
  });
  const notifications = new Counter({
    name: "breakglass_notification_failures_total",
    help: "Notifications that did not arrive, by target type.",
    labelNames: ["target"],
    registers: [registry],
  });
  return {
    registry,
    revokeFailed: (provider) => revokeFailures.inc({ provider }),
    exchangeRefused: (route, code) => refusals.inc({ route, code }),
    webhookHandled: (event, seconds) => webhooks.observe({ event }, seconds),
    notificationFailed: (target) => notifications.inc({ target }),
  };
}
