export interface FaultRule {
  /** HTTP method; any when absent. */
  method?: string;
  /** A route template (exactly as GitHub writes it, e.g. "/repos/{owner}/{repo}/issues/{issue_number}/comments") or a RegExp tried on the template and on the actual path. Any when absent. */
  route?: string | RegExp;
  /** How many matching requests it affects (default: all until cleared). */
  times?: number;
  /** Delay before answering (wall-clock ms). */
  latencyMs?: number;
  /** Answer with this server error instead of the real response; 403 is GitHub's answer to an installation that lost access ("Resource not accessible by integration"), which clients do not retry. */
  status?: 403 | 500 | 502 | 503;
  /** Answer with a rate-limit refusal: a secondary limit (403 or 429 with `retry-after`) or the primary limit (`x-ratelimit-remaining: 0`). */
  rateLimit?: { retryAfterSeconds: number; status?: 403 | 429; kind?: "secondary" | "primary" };
}

export interface ActiveFault {
  readonly rule: FaultRule;
  /** Requests it has affected so far. */
  readonly hits: number;
  remove(): void;
}

export interface WebhookView {
  event: string;
  action: string | null;
  payload: Record<string, unknown>;
}

export type WebhookSelector = number | ((webhook: WebhookView) => boolean);

interface RuleState {
  rule: FaultRule;
  remaining: number;
  hits: number;
}

/**
 * Fault injection for the emulator: per-route latency, server errors and rate limits on the REST
 * API; dropped and duplicated webhook deliveries. A number selects the next N; a predicate selects
 * every match until `clear()`.
 */
export class Faults {
  #rules: RuleState[] = [];
  #drop: Array<{ selector: WebhookSelector; remaining: number }> = [];
  #duplicate: Array<{ selector: WebhookSelector; remaining: number }> = [];
  #hold: Array<{ selector: WebhookSelector; remaining: number }> = [];

  add(rule: FaultRule): ActiveFault {
    if (rule.times !== undefined && (!Number.isInteger(rule.times) || rule.times < 1))
      throw new RangeError(`fault times must be a positive integer, got ${rule.times}`);
    if (rule.latencyMs !== undefined && (!Number.isFinite(rule.latencyMs) || rule.latencyMs < 0))
      throw new RangeError(`fault latencyMs must be >= 0, got ${rule.latencyMs}`);
    const state: RuleState = { rule, remaining: rule.times ?? Infinity, hits: 0 };
    this.#rules.push(state);
    return {
      rule,
      get hits() {
        return state.hits;
      },
      remove: () => {
        this.#rules = this.#rules.filter((r) => r !== state);
      },
    };
  }

  /** The first live rule for this request, consuming one of its `times`. */
  take(method: string, template: string, path: string): FaultRule | null {
    for (const state of this.#rules) {
      if (state.remaining <= 0) continue;
      const { rule } = state;
      if (rule.method && rule.method.toUpperCase() !== method) continue;
      if (rule.route !== undefined) {
        const hit =
          typeof rule.route === "string"
            ? rule.route === template
            : rule.route.test(template) || rule.route.test(path);
        if (!hit) continue;
      }
      state.remaining--;
      state.hits++;
      return rule;
    }
    return null;
  }

  dropWebhooks(selector: WebhookSelector): void {
    this.#drop.push({ selector, remaining: typeof selector === "number" ? selector : Infinity });
  }

  duplicateWebhooks(selector: WebhookSelector): void {
    this.#duplicate.push({ selector, remaining: typeof selector === "number" ? selector : Infinity });
  }

  /**
   * Parks matching deliveries until `emulator.releaseHeldWebhooks()`: GitHub neither orders nor
   * guarantees deliveries, so an event can reach the app long after later ones.
   */
  holdWebhooks(selector: WebhookSelector): void {
    this.#hold.push({ selector, remaining: typeof selector === "number" ? selector : Infinity });
  }

  takeHold(webhook: WebhookView): boolean {
    return takeSelector(this.#hold, webhook);
  }

  takeDrop(webhook: WebhookView): boolean {
    return takeSelector(this.#drop, webhook);
  }

  takeDuplicate(webhook: WebhookView): boolean {
    return takeSelector(this.#duplicate, webhook);
  }

  clear(): void {
    this.#rules = [];
    this.#drop = [];
    this.#duplicate = [];
    this.#hold = [];
  }
}

function takeSelector(
  list: Array<{ selector: WebhookSelector; remaining: number }>,
  webhook: WebhookView,
): boolean {
  for (const entry of list) {
    if (entry.remaining <= 0) continue;
    if (typeof entry.selector === "function" && !entry.selector(webhook)) continue;
    entry.remaining--;
    return true;
  }
  return false;
}
