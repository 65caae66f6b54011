import type { JSONWebKeySet } from "jose";
import type { GitHubPort, IssueComment } from "../app/github-port.ts";
import { readHistory } from "../app/issue-records.ts";
import type { TimedEvent } from "../core/lifecycle-events.ts";
import { applyEvent, initialState, type RequestState } from "../core/lifecycle.ts";
import { decodePayload, extractIssueRecords, isAppAuthored } from "./app-records.ts";
import type { ChainSummary } from "./audit-row.ts";
import { verifyIssueRecords, type ChainVerdict } from "./verify-issue-chain.ts";

export const UNVERIFIED_PROBLEM = "not checked: no keys were given (pass --jwks with the app's /breakglass/jwks.json)";

export interface RequestReading {
  state: RequestState;
  events: TimedEvent[];
  chain: ChainSummary;
  /** The records of the chain, in order, as `--format jsonl` exports them. */
  records: string[];
  /** With keys only: the full verdict on the chain. */
  verdict: ChainVerdict | null;
}

/**
 * Reads one request issue's records. With the app's keys the state is what the app itself would
 * read (readHistory) and the chain gets a strict verdict; without keys the records are decoded as they
 * are, which shows what they claim but proves nothing, and the chain is marked unverified.
 */
export async function readRequest(
  port: GitHubPort,
  issue: number,
  options: { appLogin: string; jwks?: JSONWebKeySet | undefined },
): Promise<RequestReading> {
  const comments = await port.listComments(issue);
  const records = extractIssueRecords(comments, options.appLogin);
  const repo = `${port.owner}/${port.repo}`;
  if (!options.jwks) {
    const { events, problem } = decodeUnverified(records.chain);
    const { state, refused } = foldUntrusted(events);
    return {
      state,
      events,
      chain: { entries: records.chain.length, status: "unverified", problem: problem ?? refused ?? UNVERIFIED_PROBLEM },
      records: records.chain,
      verdict: null,
    };
  }
  const verdict = await verifyIssueRecords(records, options.jwks, { repo, issue });
  // readHistory knows the app by login and numeric id; the CLI only by login (see isAppAuthored).
  const appLogin = options.appLogin;
  const own: IssueComment[] = comments
    .filter((c) => isAppAuthored(c, appLogin))
    .map((c) => ({ ...c, app_id: null, user: { login: appLogin, type: "Bot" } }));
  const history = await readHistory(port, issue, { appId: 0, login: appLogin }, options.jwks, own);
  const lifecycleProblem = history.problems.find((p) => p.includes("refused by the lifecycle")) ?? null;
  return {
    state: history.state,
    events: history.events,
    chain: {
      entries: records.chain.length,
      status: verdict.ok ? "verified" : "broken",
      problem: verdict.break ? verdict.break.reason : lifecycleProblem,
    },
    records: records.chain,
    verdict,
  };
}

/** Events as the records claim them, stopping at the first record that is not even shaped like one. */
function decodeUnverified(chain: readonly string[]): { events: TimedEvent[]; problem: string | null } {
  const events: TimedEvent[] = [];
  for (const [index, jws] of chain.entries()) {
    const payload = decodePayload(jws);
    const event = payload?.event as Record<string, unknown> | undefined;
    if (!payload || typeof payload.at !== "string" || typeof event !== "object" || event === null || typeof event.type !== "string") {
      return { events, problem: `${UNVERIFIED_PROBLEM}; entry ${index} is not a readable record` };
    }
    events.push({ ...event, at: payload.at } as TimedEvent);
  }
  return { events, problem: null };
}

/** Unchecked records may hold anything, even event types the lifecycle does not know: fold up to the first bad one. */
function foldUntrusted(events: readonly TimedEvent[]): { state: RequestState; refused: string | null } {
  let state = initialState();
  for (const [index, event] of events.entries()) {
    let result: ReturnType<typeof applyEvent> | undefined;
    try {
      result = applyEvent(state, event);
    } catch {
      result = undefined;
    }
    if (!result?.ok) return { state, refused: `${UNVERIFIED_PROBLEM}; event ${index} is refused by the lifecycle` };
    state = result.value;
  }
  return { state, refused: null };
}
