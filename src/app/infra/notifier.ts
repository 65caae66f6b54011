import { createHmac } from "node:crypto";
import { IncomingWebhook, type FetchFunction } from "@slack/webhook";
import { stripInvisible } from "../../core/strip-invisible.ts";
import type { NotifyTarget } from "../../core/types.ts";
import type { NotificationFailure } from "./notification-failures.ts";

export interface Notification {
  event:
    | "requested"
    | "approved"
    | "break_glass"
    | "granted"
    | "revoked"
    | "revocation_failed"
    | "escalated"
    | "records_tampered"
    | "first_use"
    | "passkey_registered"
    | "passkey_removed"
    | "passkey_activated"
    | "access_review_overdue";
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
  /** Called once per notification that did not arrive (after its retries), or could not be sent at all. */
  onFailure?: (failure: NotificationFailure) => void;
}

/**
 * Slack's mrkdwn treats `<…>` as links and mentions (`<!channel>`, `<@U123>`) and `&` as an entity:
 * user-written text (a justification, a break-glass reason) must not ping a channel or fake a link.
 * https://api.slack.com/reference/surfaces/formatting#escaping
 * Invisible and bidi characters are removed first, as in every other output.
 */
export const escapeSlack = (text: string): string =>
  stripInvisible(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** The notification as a reader will see it: no invisible or bidi characters in any of its text. */
export const visibleNotification = (n: Notification): Notification => ({
  ...n,
  repository: stripInvisible(n.repository),
  url: stripInvisible(n.url),
  summary: stripInvisible(n.summary),
});

/** The Slack message for a notification: escaped text, one link to the issue. */
export function slackText(n: Notification): string {
  const link = `<${stripInvisible(n.url).replace(/[<>|]/g, encodeURIComponent)}|${escapeSlack(`${n.repository}#${n.issue}`)}>`;
  return `*Breakglass* ${n.event}: ${escapeSlack(n.summary)} ${link}`;
}

/**
 * Slack incoming webhooks (through @slack/webhook, with its retries) and generic webhooks signed
 * with HMAC-SHA256 (`X-Breakglass-Signature-256: sha256=<hex>`, like GitHub's own webhooks). URLs
 * and secrets come from environment variables named by the policy, so policies never contain them.
 */
export function httpNotifier(options: HttpNotifierOptions): Notifier {
  const send = options.fetch ?? fetch;
  const attempts = options.attempts ?? 3;
  const log = options.log ?? (() => undefined);
  const failed = (target: NotifyTarget, n: Notification, reason: string) =>
    options.onFailure?.({
      at: new Date().toISOString(),
      target: target.type,
      url_env: target.url_env,
      event: n.event,
      repository: n.repository,
      issue: n.issue,
      reason: reason.slice(0, 300),
    });
  const toSlack = async (url: string, n: Notification): Promise<string | null> => {
    const webhook = new IncomingWebhook(url, {
      timeout: 5000,
      ...(options.fetch ? { fetch: options.fetch as unknown as FetchFunction } : {}),
      retryConfig: { retries: attempts - 1, factor: 2, minTimeout: 200, maxTimeout: 2000 },
    });
    try {
      await webhook.send({ text: slackText(n), unfurl_links: false });
      return null;
    } catch (error) {
      log(`notify: slack failed after ${attempts} attempt(s): ${(error as Error).message}`);
      return `failed after ${attempts} attempt(s): ${(error as Error).message}`;
    }
  };
  const toWebhook = async (url: string, secret: string | null, n: Notification): Promise<string | null> => {
    const body = JSON.stringify(visibleNotification(n));
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (secret !== null)
      headers["x-breakglass-signature-256"] =
        `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
    let last = "";
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const res = await send(url, { method: "POST", headers, body, signal: AbortSignal.timeout(5000) });
        if (res.ok) return null;
        last = `answered ${res.status}`;
        log(`notify: webhook answered ${res.status} (attempt ${attempt})`);
      } catch (error) {
        last = (error as Error).message;
        log(`notify: webhook failed (attempt ${attempt}): ${(error as Error).message}`);
      }
      if (attempt < attempts) await new Promise((r) => setTimeout(r, 200 * attempt));
    }
    return `failed after ${attempts} attempt(s): ${last}`;
  };
  return {
    async notify(targets, n) {
      await Promise.all(
        targets.map(async (target) => {
          const url = options.env[target.url_env];
          if (!url) {
            log(`notify: ${target.url_env} is not set; skipped a ${target.type} notification`);
            failed(target, n, `${target.url_env} is not set in the app's environment`);
            return;
          }
          if (target.secret_env && !options.env[target.secret_env]) {
            // An unsigned POST to a receiver that checks signatures is dropped there: say so here.
            log(`notify: ${target.secret_env} is not set; skipped a signed webhook notification`);
            failed(target, n, `${target.secret_env} is not set in the app's environment`);
            return;
          }
          const problem =
            target.type === "slack"
              ? await toSlack(url, n)
              : await toWebhook(url, target.secret_env ? options.env[target.secret_env]! : null, n);
          if (problem !== null) failed(target, n, problem);
        }),
      );
    },
  };
}

/** Records notifications in memory: the sandbox and tests use it to see who was alerted. */
export function memoryNotifier(): Notifier & {
  sent: Array<{ targets: readonly NotifyTarget[]; notification: Notification }>;
} {
  const sent: Array<{ targets: readonly NotifyTarget[]; notification: Notification }> = [];
  return {
    sent,
    async notify(targets, notification) {
      sent.push({ targets, notification });
    },
  };
}
