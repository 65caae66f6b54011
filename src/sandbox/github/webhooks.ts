import { createHmac, randomUUID } from "node:crypto";
import { sign } from "@octokit/webhooks-methods";
import type { Clock } from "../clock.ts";
import type { Faults } from "./faults.ts";

export interface DeliveryRecord {
  /** GitHub's numeric delivery id (unique per attempt). */
  id: number;
  /** X-GitHub-Delivery; duplicates and redeliveries keep the original's. */
  guid: string;
  event: string;
  action: string | null;
  payload: Record<string, unknown>;
  /** When it was queued, by the scenario clock. */
  queuedAt: number;
  /** The app's HTTP status; null when it was not delivered (dropped, no URL, connection error, timeout). */
  status: number | null;
  /** Wall-clock milliseconds from sending to the app's answer. */
  durationMs: number | null;
  error: string | null;
  dropped: boolean;
  /** Parked by fault injection until released (then sent, late, after everything queued meanwhile). */
  held: boolean;
  duplicate: boolean;
  redelivery: boolean;
}

interface Pending {
  record: DeliveryRecord;
  done: (record: DeliveryRecord) => void;
}

export interface WebhookQueueOptions {
  secret: string;
  hookId: number;
  appId: number;
  clock: Clock;
  faults: Faults;
  timeoutMs: number;
  /** Called whenever the queue's business changes, so idle waiters can look again. */
  onChange: () => void;
  /**
   * "serial": one at a time, in order (one hook at low traffic). "concurrent": as GitHub documents
   * ("deliveries are concurrent and can arrive out of order"): everything queued in one turn is sent
   * at once, the newest first, so `labeled` reaches the app before `opened`.
   */
  delivery?: "serial" | "concurrent";
}

/**
 * Delivers webhooks one at a time, in the order the events happened, the way a single GitHub hook
 * does; every attempt is recorded. Faults may drop or duplicate deliveries as they are queued.
 */
export class WebhookQueue {
  readonly deliveries: DeliveryRecord[] = [];
  #queue: Pending[] = [];
  #held: DeliveryRecord[] = [];
  #inFlight = false;
  #concurrentInFlight = 0;
  #flushScheduled = false;
  #url: string | null = null;
  #nextId = 90_000_001;
  #closed = false;

  constructor(private readonly options: WebhookQueueOptions) {}

  setUrl(url: string | null): void {
    this.#url = url;
  }

  get busy(): boolean {
    return this.#inFlight || this.#concurrentInFlight > 0 || this.#queue.length > 0;
  }

  /** Describes what is still pending, for timeouts that need explaining. */
  describe(): string {
    const names = this.#queue.map((p) => `${p.record.event}.${p.record.action ?? ""}`);
    return `${this.#inFlight ? "1 delivery in flight, " : ""}${names.length} queued${names.length ? ` (${names.slice(0, 5).join(", ")})` : ""}`;
  }

  enqueue(event: string, payload: Record<string, unknown>): DeliveryRecord {
    const guid = randomUUID();
    const base = { guid, event, action: typeof payload.action === "string" ? payload.action : null, payload };
    const record = this.#record({ ...base, duplicate: false, redelivery: false });
    const faultView = { event, action: record.action, payload };
    if (this.options.faults.takeDrop(faultView)) {
      record.dropped = true;
      record.error = "dropped by fault injection";
      this.deliveries.push(record);
      return record;
    }
    this.deliveries.push(record);
    if (this.options.faults.takeHold(faultView)) {
      record.held = true;
      this.#held.push(record);
      return record;
    }
    this.#push(record);
    if (this.options.faults.takeDuplicate(faultView)) {
      const copy = this.#record({ ...base, duplicate: true, redelivery: false });
      this.deliveries.push(copy);
      this.#push(copy);
    }
    return record;
  }

  /** Sends every held delivery now, in the order they were held; resolves when they were delivered. */
  releaseHeld(): Promise<DeliveryRecord[]> {
    const held = this.#held.splice(0);
    return Promise.all(
      held.map((record) => new Promise<DeliveryRecord>((resolve) => this.#push(record, resolve))),
    );
  }

  /** Sends a recorded delivery again (same GUID, `redelivery` set), like the "Redeliver" button. */
  redeliver(idOrGuid: number | string): Promise<DeliveryRecord> {
    const original = this.deliveries.find((d) => d.id === idOrGuid || d.guid === idOrGuid);
    if (!original)
      return Promise.reject(new Error(`no delivery ${idOrGuid}: see emulator.deliveries for ids and GUIDs`));
    const copy = this.#record({
      guid: original.guid,
      event: original.event,
      action: original.action,
      payload: original.payload,
      duplicate: false,
      redelivery: true,
    });
    this.deliveries.push(copy);
    return new Promise((resolve) => this.#push(copy, resolve));
  }

  close(): void {
    this.#closed = true;
    for (const pending of this.#queue.splice(0)) {
      pending.record.error = "emulator closed before delivery";
      pending.done(pending.record);
    }
    this.options.onChange();
  }

  #record(
    fields: Pick<DeliveryRecord, "guid" | "event" | "action" | "payload" | "duplicate" | "redelivery">,
  ): DeliveryRecord {
    return {
      id: this.#nextId++,
      ...fields,
      queuedAt: this.options.clock.now(),
      status: null,
      durationMs: null,
      error: null,
      dropped: false,
      held: false,
    };
  }

  #push(record: DeliveryRecord, done: (record: DeliveryRecord) => void = () => undefined): void {
    if (this.#closed) {
      record.error = "emulator closed before delivery";
      done(record);
      return;
    }
    this.#queue.push({ record, done });
    this.options.onChange();
    if (this.options.delivery === "concurrent") this.#scheduleFlush();
    else void this.#pump();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      const batch = this.#queue.splice(0).reverse();
      for (const next of batch) {
        this.#concurrentInFlight++;
        void this.#send(next.record).finally(() => {
          this.#concurrentInFlight--;
          next.done(next.record);
          this.options.onChange();
        });
      }
    });
  }

  async #pump(): Promise<void> {
    if (this.#inFlight) return;
    const next = this.#queue.shift();
    if (!next) return;
    this.#inFlight = true;
    try {
      await this.#send(next.record);
    } finally {
      this.#inFlight = false;
      next.done(next.record);
      this.options.onChange();
      void this.#pump();
    }
  }

  async #send(record: DeliveryRecord): Promise<void> {
    const url = this.#url;
    if (!url) {
      record.error = "no webhook URL set";
      return;
    }
    const body = JSON.stringify(record.payload);
    const started = performance.now();
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "GitHub-Hookshot/sandbox",
          accept: "*/*",
          "x-github-event": record.event,
          "x-github-delivery": record.guid,
          "x-github-hook-id": String(this.options.hookId),
          "x-github-hook-installation-target-type": "integration",
          "x-github-hook-installation-target-id": String(this.options.appId),
          "x-hub-signature": `sha1=${createHmac("sha1", this.options.secret).update(body).digest("hex")}`,
          "x-hub-signature-256": await sign(this.options.secret, body),
        },
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      await res.arrayBuffer();
      record.status = res.status;
    } catch (error) {
      record.error =
        (error as Error).name === "TimeoutError"
          ? `timed out after ${this.options.timeoutMs} ms`
          : (error as Error).message;
    } finally {
      record.durationMs = performance.now() - started;
    }
  }
}
