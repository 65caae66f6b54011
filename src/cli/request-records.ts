import type { Octokit } from "@octokit/rest";
import { decodePayload } from "../audit/app-records.ts";
import { readRecordMarker } from "../core/record-marker.ts";
import type { TimedEvent } from "../core/lifecycle-events.ts";
import { foldEvents, type RequestState } from "../core/lifecycle.ts";

/**
 * The request's records as the app's comments mirror them, for the responder's own tools. Only
 * comments by the app's bot count (a `<slug>[bot]` login only that app can post as); the fold is
 * what the app itself does, so a record nobody could have written is never followed.
 */
export async function readRequestRecords(
  octokit: Octokit,
  owner: string,
  repo: string,
  issue: number,
  appLogin: string,
): Promise<{ state: RequestState; events: TimedEvent[] }> {
  const comments = await octokit.paginate(octokit.rest.issues.listComments, {
    owner,
    repo,
    issue_number: issue,
    per_page: 100,
  });
  const events: Array<TimedEvent & { seq: number }> = [];
  for (const comment of comments) {
    if (comment.user?.type !== "Bot" || comment.user.login.toLowerCase() !== appLogin.toLowerCase()) continue;
    const jws = readRecordMarker(comment.body ?? "");
    const payload = jws ? decodePayload(jws) : null;
    const event = payload?.event as TimedEvent | undefined;
    if (
      !payload ||
      !event ||
      typeof event.type !== "string" ||
      typeof payload.seq !== "number" ||
      typeof payload.at !== "string"
    )
      continue;
    events.push({ ...event, at: payload.at, seq: payload.seq });
  }
  const ordered = events
    .sort((a, b) => a.seq - b.seq)
    .filter((e, i, all) => i === 0 || all[i - 1]!.seq !== e.seq);
  const folded = foldEvents(ordered);
  return { state: folded.state, events: ordered };
}
