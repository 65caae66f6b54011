import type { JSONWebKeySet } from "jose";
import type { GitHubPort, IssueComment } from "../github/github-port.ts";
import { readHistory, type History } from "../github/issue-records.ts";
import type { TimedEvent } from "../core/lifecycle-events.ts";
import { applyEvent, initialState, type RequestState } from "../core/lifecycle.ts";
import { decodePayload, isAppAuthored } from "./app-records.ts";
import { readRecordMarker } from "../core/record-marker.ts";
import type { ChainSummary } from "./audit-row.ts";
import { verdictOf, type ChainVerdict } from "./verify-issue-chain.ts";

export const UNVERIFIED_PROBLEM =
  "not checked: no keys were given (pass --jwks with the app's /breakglass/jwks.json)";

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
 * Reads one request's records from the app's ledger. With the app's keys the state is what the app
 * itself would read (readHistory) and the chain gets a strict verdict, comments checked against the
 * ledger; without keys the ledger's records are decoded as they are, which shows what they claim but
 * proves nothing, and the chain is marked unverified.
 */
export async function readRequest(
  port: GitHubPort,
  issue: number,
  options: { appLogin: string; jwks?: JSONWebKeySet | undefined },
): Promise<RequestReading> {
  if (!options.jwks) {
    const records = (await port.ledger.read(issue)).entries.map((e) => e.jws);
    const { events, problem } = decodeUnverified(records);
    const { state, refused } = foldUntrusted(events);
    return {
      state,
      events,
      chain: {
        entries: records.length,
        status: "unverified",
        problem: problem ?? refused ?? UNVERIFIED_PROBLEM,
      },
      records,
      verdict: null,
    };
  }
  const { history, verdict } = await verifyRequest(port, issue, {
    appLogin: options.appLogin,
    jwks: options.jwks,
  });
  const lifecycleProblem = history.problems.find((p) => p.includes("refused by the lifecycle")) ?? null;
  return {
    state: history.state,
    events: history.events,
    chain: {
      entries: verdict.entries,
      status: verdict.ok ? "verified" : "broken",
      problem: verdict.break ? verdict.break.reason : lifecycleProblem,
    },
    records: history.ledger.entries.map((e) => e.jws),
    verdict,
  };
}

/**
 * The app's own read (readHistory: the ledger, checked against the comments) and the auditor's
 * verdict on it. The CLI knows the app by its login only (see isAppAuthored).
 */
export async function verifyRequest(
  port: GitHubPort,
  issue: number,
  options: { appLogin: string; jwks: JSONWebKeySet },
): Promise<{ history: History; verdict: ChainVerdict }> {
  const appLogin = options.appLogin;
  const comments = await port.listComments(issue);
  const own: IssueComment[] = comments
    .filter((c) => isAppAuthored(c, appLogin))
    .map((c) => ({ ...c, app_id: null, user: { login: appLogin, type: "Bot" } }));
  const history = await readHistory(port, issue, { appId: 0, login: appLogin }, options.jwks, own);
  const verdict = await verdictOf(history, { repo: `${port.owner}/${port.repo}`, issue });
  const foreign = comments.filter(
    (c) => !isAppAuthored(c, appLogin) && readRecordMarker(c.body) !== null,
  ).length;
  if (foreign > 0)
    verdict.notes.push(`${foreign} record marker(s) in comments not written by the app were ignored`);
  return { history, verdict };
}

/** Events as the records claim them, stopping at the first record that is not even shaped like one. */
function decodeUnverified(chain: readonly string[]): { events: TimedEvent[]; problem: string | null } {
  const events: TimedEvent[] = [];
  for (const [index, jws] of chain.entries()) {
    const payload = decodePayload(jws);
    const event = payload?.event as Record<string, unknown> | undefined;
    if (
      !payload ||
      typeof payload.at !== "string" ||
      typeof event !== "object" ||
      event === null ||
      typeof event.type !== "string"
    ) {
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
    if (!result?.ok)
      return { state, refused: `${UNVERIFIED_PROBLEM}; event ${index} is refused by the lifecycle` };
    state = result.value;
  }
  return { state, refused: null };
}
