import { SmeeClient } from "smee-client";

export interface WebhookProxy {
  stop(): Promise<void>;
}

/**
 * Forwards the deliveries of a smee.io channel (WEBHOOK_PROXY_URL) to this app's webhook route, as
 * Probot's own server does in development: GitHub posts to the channel, smee-client replays each
 * delivery with its original headers (the signature included) to `target`, and the app verifies it
 * like any delivery. Nothing is trusted because it came through the relay.
 */
export async function startWebhookProxy(options: {
  source: string;
  target: string;
  logger: { info(msg: string): void; error(msg: string | Error, ...rest: unknown[]): void };
}): Promise<WebhookProxy> {
  const client = new SmeeClient({
    source: options.source,
    target: options.target,
    logger: {
      info: (m: string) => options.logger.info(m),
      error: (m: unknown, ...rest: unknown[]) =>
        options.logger.error(m instanceof Error ? m : String(m), ...rest),
    } as never,
  });
  await client.start();
  return { stop: () => client.stop() };
}
