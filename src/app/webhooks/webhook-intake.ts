import type { IncomingMessage, ServerResponse } from "node:http";
import type { Probot } from "probot";

export const WEBHOOK_PATH = "/api/github/webhooks";
const MAX_PAYLOAD_BYTES = 25 * 1024 * 1024;
const REQUIRED_HEADERS = ["x-github-event", "x-hub-signature-256", "x-github-delivery"] as const;

export interface WebhookIntake {
  /** Answers a webhook request (true) or leaves the request to other routes (false). */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Resolves when every acknowledged delivery's work has finished. */
  idle(): Promise<void>;
  /** Acknowledged deliveries whose work has not finished (waiting ones included). */
  pending(): number;
  /** Tests: keep acknowledging but start no work until `resume` (a crash right after the answer). */
  pause(): void;
  resume(): void;
  /** Work acknowledged and not started is dropped, as a crash drops it. */
  stop(): void;
}

/**
 * GitHub fails a delivery not answered within 10 seconds and never sends it again, and a handler
 * under GitHub's write spacing can take longer than that. So a delivery is answered 202 as soon as
 * its signature checks out, and its work runs afterwards. Work lost to a crash after the answer is
 * found again at start-up (catch-up.ts) and by the sweep (reconcile.ts); see docs/architecture.md.
 */
export function webhookIntake(
  probot: Probot,
  log: { error(obj: object, msg: string): void },
  onDone: (event: string, seconds: number, ok: boolean) => void,
): WebhookIntake {
  const running = new Set<Promise<void>>();
  let waiting: Array<() => void> = [];
  let paused = false;
  let stopped = false;

  const start = (job: () => Promise<void>) => {
    if (stopped) return;
    const p = job().finally(() => running.delete(p));
    running.add(p);
  };
  const queue = (job: () => Promise<void>) => {
    if (paused) waiting.push(() => start(job));
    else start(job);
  };

  return {
    async handle(req, res) {
      const path = new URL(req.url ?? "/", "http://app").pathname;
      if (path !== WEBHOOK_PATH) return false;
      const answer = (status: number, body: string) =>
        res.writeHead(status, { "content-type": "application/json" }).end(body);
      if (req.method !== "POST")
        return (answer(404, JSON.stringify({ error: `Unknown route: ${req.method} ${path}` })), true);
      if (!/^application\/json\b/i.test(String(req.headers["content-type"] ?? "")))
        return (answer(415, '{"error":"Content-Type must be application/json"}'), true);
      const missing = REQUIRED_HEADERS.filter((h) => typeof req.headers[h] !== "string");
      if (missing.length)
        return (
          answer(400, JSON.stringify({ error: `Required headers missing: ${missing.join(", ")}` })),
          true
        );
      const body = await readBody(req);
      if (body === null) return (answer(413, '{"error":"payload too large"}'), true);
      if (!(await probot.webhooks.verify(body, String(req.headers["x-hub-signature-256"])))) {
        return (answer(400, '{"error":"signature does not match event payload and secret"}'), true);
      }
      let payload: unknown;
      try {
        payload = JSON.parse(body);
      } catch {
        return (answer(400, '{"error":"payload is not JSON"}'), true);
      }
      const name = String(req.headers["x-github-event"]);
      const id = String(req.headers["x-github-delivery"]);
      answer(202, '{"accepted":true}');
      queue(async () => {
        const started = process.hrtime.bigint();
        let ok = true;
        try {
          await probot.receive({ id, name, payload } as Parameters<Probot["receive"]>[0]);
        } catch (error) {
          ok = false;
          log.error(
            { err: error, delivery: id, event: name },
            "webhook work failed after it was acknowledged; the start-up catch-up and the sweep pick it up",
          );
        } finally {
          onDone(name.slice(0, 64), Number(process.hrtime.bigint() - started) / 1e9, ok);
        }
      });
      return true;
    },
    async idle() {
      while (running.size) await Promise.allSettled([...running]);
    },
    pending: () => running.size + waiting.length,
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      const jobs = waiting;
      waiting = [];
      for (const job of jobs) job();
    },
    stop() {
      stopped = true;
      waiting = [];
    },
  };
}

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_PAYLOAD_BYTES) {
        resolve(null);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
