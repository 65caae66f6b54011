import { ConfigError } from "./config-error.ts";

/** Settings Probot apps read for local development (Probot's docs: "Configuration", "Developing an app"). */
export interface LocalDevelopment {
  /** A smee.io channel (or any Server-Sent Events webhook relay) whose deliveries are forwarded to this app. */
  webhookProxyUrl?: string;
  /** The organization the manifest flow (`npm run setup`) registers the GitHub App under, instead of the user. */
  org?: string;
}

/** GitHub's rule for account names: alphanumerics and single hyphens, not at either end, at most 39. */
const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;

/** WEBHOOK_PROXY_URL and GH_ORG, checked; a wrong value names its variable and what to write. */
export function localDevelopmentFromEnv(env: Record<string, string | undefined>): LocalDevelopment {
  const out: LocalDevelopment = {};
  const proxy = env.WEBHOOK_PROXY_URL?.trim();
  if (proxy) {
    const url = URL.canParse(proxy) ? new URL(proxy) : null;
    if (!url || !["https:", "http:"].includes(url.protocol) || !url.host) {
      throw new ConfigError(
        "WEBHOOK_PROXY_URL",
        `WEBHOOK_PROXY_URL must be the URL of a webhook relay channel, e.g. https://smee.io/AbC123 (create one at https://smee.io/new), not "${proxy.slice(0, 60)}".`,
      );
    }
    if (url.username || url.password)
      throw new ConfigError("WEBHOOK_PROXY_URL", "WEBHOOK_PROXY_URL must not carry a user name or password.");
    out.webhookProxyUrl = url.toString().replace(/\/$/, "");
  }
  const org = env.GH_ORG?.trim();
  if (org) {
    if (!LOGIN.test(org))
      throw new ConfigError(
        "GH_ORG",
        `GH_ORG must be an organization's login as in its URL (github.com/<login>), e.g. acme, not "${org.slice(0, 60)}".`,
      );
    out.org = org;
  }
  return out;
}
