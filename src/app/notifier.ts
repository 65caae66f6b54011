import { createHmac } from "node:crypto";
import type { NotifyTarget } from "../core/types.ts";

export interface Notification {
  event: "requested" | "approved" | "break_glass" | "granted" | "revoked" | "revocation_failed" | "escalated";
  repository: string;
  issue: number;
  url: string;
  summary: string;
}

/** Sends policy notifications. Never throws: a failed notification must not block the lifecycle. */
export interface Notifier {
  notify(targets: readonly NotifyTarget[], notification: Notification): Promise<void>;
}

export interface HttpNotifierOptions {
  env: Record<string, string | undefined>;
  fetch?: typeof fetch;
  attempts?: number;
  log?: (message: string) => void;
}

/**
 * Slack incoming webhooks and generic webhooks signed with HMAC-SHA256 (`X-Breakglass-Signature-256:
 * sha256=<hex>`, like GitHub's own webhooks). URLs and secrets come from environment variables named
 * by the policy, so policies never contain them.
 */
export function httpNotifier(options: HttpNotifierOptions): Notifier {
  const send = options.fetch ?? fetch;
  const attempts = options.attempts ?? 3;
  const log = options.log ?? (() => undefined);
  return {
    async notify(targets, n) {
      await Promise.all(
        targets.map(async (target) => {
          const url = options.env[target.url_env];
          if (!url) {
            log(`notify: ${target.url_env} is not set; skipped a ${target.type} notification`);
            return;
          }
          const body =
            target.type === "slack"
              ? JSON.stringify({ text: `*Breakglass* ${n.event}: ${n.summary} <${n.url}|${n.repository}#${n.issue}>` })
              : JSON.stringify(n);
          const headers: Record<string, string> = { "content-type": "application/json" };
          if (target.type === "webhook" && target.secret_env) {
            const secret = options.env[target.secret_env] ?? "";
            headers["x-breakglass-signature-256"] = `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
          }
          for (let attempt = 1; attempt <= attempts; attempt++) {
            try {
              const res = await send(url, { method: "POST", headers, body, signal: AbortSignal.timeout(5000) });
              if (res.ok) return;
              log(`notify: ${target.type} answered ${res.status} (attempt ${attempt})`);
            } catch (error) {
              log(`notify: ${target.type} failed (attempt ${attempt}): ${(error as Error).message}`);
            }
            await new Promise((r) => setTimeout(r, 200 * attempt));
          }
        }),
      );
    },
  };
}

/** Records notifications in memory: the sandbox and tests use it to see who was alerted. */
export function memoryNotifier(): Notifier & { sent: Array<{ targets: readonly NotifyTarget[]; notification: Notification }> } {
  const sent: Array<{ targets: readonly NotifyTarget[]; notification: Notification }> = [];
  return {
    sent,
    async notify(targets, notification) {
      sent.push({ targets, notification });
    },
  };
}
