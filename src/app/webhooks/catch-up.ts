import { parseCommand } from "../../core/commands.ts";
import { withoutSignature } from "../../core/step-up.ts";
import type { BreakglassDeps } from "../infra/deps.ts";
import type { GitHubPort, IssueSummary, RepositoryComment } from "../../github/github-port.ts";
import { handleCommand } from "./handle-command.ts";
import { handleRequestIssue } from "./handle-request-issue.ts";
import { isRequestIssue } from "../infra/request-recognition.ts";
import { resubmitAfterOutage } from "../../core/messages/record-messages.ts";

/** How far back the start-up catch-up looks for work a previous process acknowledged but never did. */
export const CATCH_UP_WINDOW_MS = 24 * 3600_000;
/** A fresh issue's form labels land within this of its creation; later changes may be someone's edit. */
const UNTOUCHED_MS = 2_000;

export interface CatchUpReport {
  /** Requests that were opened while no process handled them, now handled. */
  opened: number[];
  /** Opened requests changed since, by someone the app cannot tell: the requester is asked to save again. */
  askedToResubmit: number[];
  /** Command comments that had no answer from the app, now handled. */
  commands: number[];
}

/**
 * Webhooks are acknowledged before their work is done (server.ts), so a process that dies between
 * the two loses that work: GitHub counts the delivery as answered and never sends it again. At
 * start-up this finds it from GitHub itself, in two listings: open request issues changed in the
 * window that the ledger's index does not know, and command comments in the window that the app
 * never answered (no 🚀 or 👎 of its own). Both are handled as their webhooks would have been; every
 * handler is idempotent (record ids), so work that was half done is finished, not repeated.
 *
 * What cannot be told from a listing is not guessed: an edit's author (the body of an unrecorded
 * request that changed since it was opened may be someone else's edit, so the requester is asked
 * to save it again) and an edited command (an edit can only withdraw). Closings, label changes and
 * deletions that were lost are what the sweep's reconcile already covers from the ledger.
 */
export async function catchUp(
  deps: BreakglassDeps,
  port: GitHubPort,
  windowMs = CATCH_UP_WINDOW_MS,
): Promise<CatchUpReport> {
  const report: CatchUpReport = { opened: [], askedToResubmit: [], commands: [] };
  if (!port.listRepositoryComments) return report;
  const since = new Date(deps.now() - windowMs).toISOString();
  const indexed = new Set(await port.ledger.index());
  const issues = new Map<number, IssueSummary>();
  for (const issue of await port.listIssues({ state: "open", since })) {
    issues.set(issue.number, issue);
    if (!(await isRequestIssue(deps, port, issue)) || indexed.has(issue.number)) continue;
    if ((await port.ledger.read(issue.number)).tip !== null) continue;
    const lock = (work: () => Promise<void>) =>
      deps.lock ? deps.lock(`${port.owner}/${port.repo}#${issue.number}`, work) : work();
    const untouched =
      issue.updated_at === undefined ||
      Date.parse(issue.updated_at) - Date.parse(issue.created_at) <= UNTOUCHED_MS;
    if (untouched) {
      await lock(() => handleRequestIssue(deps, port, issue, issue.user.login, "opened"));
      report.opened.push(issue.number);
    } else {
      await port.createComment(issue.number, resubmitAfterOutage(issue.user.login));
      report.askedToResubmit.push(issue.number);
    }
  }
  for (const comment of await port.listRepositoryComments(since)) {
    if (!(await unanswered(deps, port, comment))) continue;
    let issue = issues.get(comment.issue_number);
    if (!issue) {
      issue = await port.getIssue(comment.issue_number);
      issues.set(issue.number, issue);
    }
    if (!(await isRequestIssue(deps, port, issue))) continue;
    const work = () => handleCommand(deps, port, issue, comment);
    await (deps.lock ? deps.lock(`${port.owner}/${port.repo}#${issue.number}`, work) : work());
    report.commands.push(comment.id);
  }
  return report;
}

/** A command comment, unedited, that the app has not answered with its own 🚀 or 👎. */
async function unanswered(
  deps: BreakglassDeps,
  port: GitHubPort,
  comment: RepositoryComment,
): Promise<boolean> {
  if (comment.user.login === deps.identity.login) return false;
  if (comment.updated_at !== comment.created_at) return false;
  if (!parseCommand(withoutSignature(comment.body))) return false;
  // The counts are anyone's: only a reaction by the app itself says it answered.
  if (comment.reactions.rocket === 0 && comment.reactions["-1"] === 0) return true;
  const reactions = (await port.listCommentReactions?.(comment.id)) ?? [];
  return !reactions.some(
    (r) => r.user === deps.identity.login && (r.content === "rocket" || r.content === "-1"),
  );
}
