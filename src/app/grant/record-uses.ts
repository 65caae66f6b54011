import { describeUseCount, summariseUses, type UseRecord } from "../../core/usage.ts";
import type { RequestSession } from "../infra/request-session.ts";

const counts = (u: UseRecord) => !u.result || u.result === "active";

/**
 * Keeps uses of a request's credential in the ledger (the full list), then brings the status comment's
 * use count up to date. The first use that worked is announced to the policy's notification targets
 * ("first use"), so the people watching see the credential go into action, not only its grant.
 */
export async function recordUses(session: RequestSession, uses: readonly UseRecord[]): Promise<UseRecord[]> {
  if (uses.length === 0) return [];
  // Of this credential only: a request naming several resources keeps every part's uses together.
  const credential = session.state.grant?.credential_id;
  const before = (await session.port.ledger.uses(session.number)).filter(
    (u) => credential === undefined || u.credential_id === credential,
  );
  const added = await session.port.ledger.addUses(session.number, uses);
  if (added.length === 0) return [];
  session.forgetUses();
  const first = !before.some(counts) && added.find(counts);
  const policy = session.policy();
  if (first && policy) {
    const all = await session.uses();
    await session.deps.notifier.notify(policy.notify, {
      event: "first_use",
      repository: `${session.port.owner}/${session.port.repo}`,
      issue: session.number,
      url: session.url,
      summary: `first use of ${first.credential_id} (${first.kind}: ${first.action.slice(0, 80)}${first.source ? ` by ${first.source.slice(0, 60)}` : ""}); ${describeUseCount(summariseUses(all))}`,
    });
  }
  await session.publish();
  return added;
}
