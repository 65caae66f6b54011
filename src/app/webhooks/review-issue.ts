import { reviewItems } from "../../core/review-items.ts";
import type { BreakglassDeps } from "../infra/deps.ts";
import type { GitHubPort, IssueSummary } from "../../github/github-port.ts";
import { RequestSession } from "../infra/request-session.ts";

const REVIEW_TITLE = /^\[breakglass audit\] Review #(\d{1,9})(?:\s|$)/;

/**
 * The request a post-event review issue belongs to, as its title says — only for issues the app
 * itself opened. The title and labels are anyone's to edit, so this is a hint: {@link openReviewSession}
 * checks it against the request's own signed records.
 */
export function reviewedRequestNumber(
  issue: Pick<IssueSummary, "title" | "user">,
  appLogin: string,
): number | null {
  if (issue.user.type !== "Bot" || issue.user.login !== appLogin) return null;
  const n = REVIEW_TITLE.exec(issue.title)?.[1];
  return n ? Number(n) : null;
}

/**
 * The request session of a review issue, or null when the issue is not one: the request's records
 * must name this very issue as its review (a review retitled to point at another request is not
 * that request's review).
 */
export async function openReviewSession(
  deps: BreakglassDeps,
  port: GitHubPort,
  issue: IssueSummary,
): Promise<RequestSession | null> {
  const n = reviewedRequestNumber(issue, deps.identity.login);
  if (n === null || n === issue.number) return null;
  const session = await RequestSession.open(deps, port, n).catch((error: unknown) => {
    const status = (error as { status?: unknown } | null)?.status;
    if (status === 404 || status === 410) return null;
    throw error;
  });
  return session && session.state.review_issue === issue.number ? session : null;
}

/** The review's items: as recorded when it opened, or (reviews opened before items were recorded) from the policy now. */
export function itemsOfReview(session: RequestSession): string[] {
  return (
    session.state.review.items ??
    reviewItems(session.policy()?.audit_checklist, session.state.break_glass !== null)
  );
}
