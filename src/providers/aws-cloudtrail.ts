import { LookupEventsCommand, type CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import type { UseRecord } from "../core/usage.ts";
import type { UseCollection } from "./provider.ts";

/** LookupEvents answers at most 50 events a page and 2 calls a second per account and region. */
const MAX_PAGES = 20;
const PAGE_SIZE = 50;

/**
 * The session's CloudTrail management events, looked up by its role session name (CloudTrail's
 * `Username` lookup attribute is the session name for an assumed-role session). Only the event's
 * name, source, time and error code are kept: request parameters can carry data and are never copied.
 */
export async function lookupSessionEvents(
  cloudtrail: Pick<CloudTrailClient, "send">,
  sessionName: string,
  credentialId: string,
  grantedAt: number,
  now: number,
  region: string,
): Promise<UseCollection> {
  const uses: UseRecord[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await cloudtrail.send(
      new LookupEventsCommand({
        LookupAttributes: [{ AttributeKey: "Username", AttributeValue: sessionName }],
        StartTime: new Date(grantedAt - 60_000),
        EndTime: new Date(now),
        MaxResults: PAGE_SIZE,
        ...(token ? { NextToken: token } : {}),
      }),
    );
    for (const event of page.Events ?? []) {
      if (!event.EventId || !event.EventName || !event.EventTime) continue;
      let errorCode: string | undefined;
      try {
        errorCode = (JSON.parse(event.CloudTrailEvent ?? "{}") as { errorCode?: string }).errorCode;
      } catch {
        errorCode = undefined;
      }
      const service = (event.EventSource ?? "aws").replace(/\.amazonaws\.com$/, "");
      uses.push({
        id: event.EventId,
        at: event.EventTime.toISOString(),
        provider: "aws",
        credential_id: credentialId,
        kind: "api_call",
        action: `${service}:${event.EventName}`.slice(0, 200),
        source: (event.EventSource ?? "").slice(0, 100),
        ...(errorCode ? { result: errorCode.slice(0, 100) } : {}),
      });
    }
    token = page.NextToken;
    pages++;
  } while (token && pages < MAX_PAGES);
  const notes = [
    `CloudTrail LookupEvents in ${region} (management events only: data events such as S3 object reads are not in it; events reach it within about 15 minutes, so the last calls before revocation may be missing).`,
  ];
  if (token)
    notes.push(
      `More than ${MAX_PAGES * PAGE_SIZE} events: only the first ${MAX_PAGES * PAGE_SIZE} were collected; look up the rest in CloudTrail with Username = ${sessionName}.`,
    );
  return { uses, source: `AWS CloudTrail (Username = ${sessionName})`, notes };
}
