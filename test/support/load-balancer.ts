import { createServer, request as httpRequest, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { Sandbox } from "../../src/sandbox/start-sandbox.ts";

export interface Answer {
  target: string;
  status: number;
  /** Whether the request was a GitHub webhook delivery (as opposed to the Action calling the app). */
  webhook: boolean;
}

/** Forwards one request to one backend and returns its answer. */
function forward(
  target: string,
  req: IncomingMessage,
  body: Buffer,
): Promise<{ status: number; type: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const url = new URL(req.url ?? "/", target);
    const out = httpRequest(
      url,
      { method: req.method, headers: { ...req.headers, host: url.host } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 502,
            type: String(res.headers["content-type"] ?? "application/json"),
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    out.on("error", reject);
    out.end(body);
  });
}

/** What a webhook delivery is, for routes that send different events to different replicas. */
export interface Delivery {
  event: string;
  action: string | null;
  issue: number | null;
}

function deliveryOf(req: IncomingMessage, body: Buffer): Delivery {
  let payload: { action?: unknown; issue?: { number?: unknown } } = {};
  try {
    payload = JSON.parse(body.toString("utf8")) as typeof payload;
  } catch {
    // not JSON: the app answers it
  }
  return {
    event: String(req.headers["x-github-event"] ?? ""),
    action: typeof payload.action === "string" ? payload.action : null,
    issue: typeof payload.issue?.number === "number" ? payload.issue.number : null,
  };
}

/**
 * A load balancer in front of app replicas, for replica tests: `route` picks the backend(s) of each
 * request (several = the same request to each, as duplicated deliveries would); the caller sees the
 * first backend's answer, and `onAnswer` every backend's. The sandbox's webhooks and the Action's
 * calls are pointed at it.
 */
export async function startLoadBalancer(
  sb: Sandbox,
  route: (webhook: boolean, delivery: Delivery | null) => string[],
  onAnswer: (answer: Answer) => void = () => undefined,
) {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const webhook = (req.url ?? "").startsWith("/api/github/webhooks");
      const targets = route(webhook, webhook ? deliveryOf(req, body) : null);
      Promise.all(targets.map((t) => forward(t, req, body)))
        .then((answers) => {
          answers.forEach((a, i) => onAnswer({ target: targets[i]!, status: a.status, webhook }));
          res.writeHead(answers[0]!.status, { "content-type": answers[0]!.type }).end(answers[0]!.body);
        })
        .catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  sb.emulator.setWebhookUrl(`${url}/api/github/webhooks`);
  sb.routeActionsTo(url);
  return { url, close: () => new Promise<void>((r) => server.close(() => r())) };
}
