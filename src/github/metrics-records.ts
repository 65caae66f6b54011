import type { JSONWebKeySet } from "jose";
import type { MonthlyMetrics } from "../audit/monthly-metrics.ts";
import type { SignedEntry } from "../core/audit-chain.ts";
import type { GitHubPort } from "./github-port.ts";
import type { LedgerChain } from "./ledger.ts";
import { readSideChain } from "./side-chain.ts";

/** The chain's name in its signed entries: a month's metrics count for that month only. */
export const metricsChainRepo = (port: GitHubPort, month: string) =>
  `${port.owner}/.metrics.${port.repo}.${month}`;

/** The figures of a month as the app posted them, with the issue's exact title and body. */
export interface MetricsPosted {
  type: "metrics_posted";
  actor: string;
  month: string;
  issue: number;
  metrics: MonthlyMetrics;
  title: string;
  body: string;
}

export interface MetricsRecords {
  month: string;
  /** The first `metrics_posted` record and when it was written, or null. */
  posted: (MetricsPosted & { at: string }) | null;
  chain: SignedEntry[];
  ledger: LedgerChain;
  problem: string | null;
  unverified?: boolean;
}

/** A month's metrics records from the ledger, verified against the app's keys. */
export async function readMetricsRecords(
  deps: { jwks?: JSONWebKeySet | undefined },
  port: GitHubPort,
  month: string,
): Promise<MetricsRecords> {
  const ledger = await port.ledger.metrics(month);
  const read = await readSideChain(deps, ledger, metricsChainRepo(port, month));
  const first = read.entries.find((e) => (e.event as { type?: string }).type === "metrics_posted");
  return {
    month,
    posted: first ? { ...(first.event as unknown as MetricsPosted), at: first.at } : null,
    chain: read.chain,
    ledger,
    problem: read.problem,
    ...(read.unverified ? { unverified: true } : {}),
  };
}

/** Every month of the repository with recorded metrics, oldest first (the last `limit`). */
export async function listMetricsRecords(
  deps: { jwks?: JSONWebKeySet | undefined },
  port: GitHubPort,
  limit = 24,
): Promise<MetricsRecords[]> {
  const months = (await port.ledger.metricsMonths()).slice(-limit);
  return Promise.all(months.map((m) => readMetricsRecords(deps, port, m)));
}
