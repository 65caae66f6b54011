import { createHash } from "node:crypto";
import type { UsageSeal } from "../../core/lifecycle-events.ts";
import { summariseUses } from "../../core/usage.ts";
import type { UseCollection } from "../../providers/provider.ts";
import { credentialOf } from "./credential-ref.ts";
import { recordUses } from "./record-uses.ts";
import type { RequestSession } from "../infra/request-session.ts";

/**
 * Asks the grant's provider what its credential was used for and keeps the new uses in the ledger.
 * A provider that cannot see uses, or a collection that fails, is said so in the notes: the review
 * must never read "no use" where the truth is "could not look".
 */
export async function collectGrantUses(session: RequestSession): Promise<UseCollection> {
  const grant = session.state.grant;
  if (!grant) return { uses: [], source: "no grant", notes: [] };
  let provider;
  let ref;
  try {
    ({ provider, ref } = credentialOf(session));
  } catch (error) {
    return {
      uses: [],
      source: `the ${grant.provider} provider`,
      notes: [`Uses could not be collected: ${(error as Error).message}`],
    };
  }
  if (!provider.collectUses)
    return {
      uses: [],
      source: `the ${grant.provider} provider`,
      notes: [`The ${grant.provider} provider reports no uses of its credentials.`],
    };
  try {
    const collection = await provider.collectUses(ref, Date.parse(grant.granted_at));
    await recordUses(session, collection.uses);
    return collection;
  } catch (error) {
    return {
      uses: [],
      source: `the ${grant.provider} provider`,
      notes: [`Uses could not be collected: ${(error as Error).message.slice(0, 300)}`],
    };
  }
}

/** The summary signed into the `revoked` record: counts, first and last, and a digest of the full list. */
export async function usageSeal(session: RequestSession, collection: UseCollection): Promise<UsageSeal> {
  session.forgetUses();
  const uses = await session.uses();
  const summary = summariseUses(uses);
  const digest = createHash("sha256")
    .update(uses.map((u) => `${JSON.stringify(u)}\n`).join(""))
    .digest("hex");
  return {
    count: summary.count,
    first: summary.first,
    last: summary.last,
    source: collection.source.slice(0, 300),
    notes: collection.notes.map((n) => n.slice(0, 600)).slice(0, 5),
    digest,
  };
}
