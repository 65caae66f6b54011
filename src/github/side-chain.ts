import type { JSONWebKeySet } from "jose";
import { verifyChain, type SignedEntry } from "../core/audit-chain.ts";
import type { LedgerChain } from "./ledger.ts";

export interface SideChainRecords {
  chain: SignedEntry[];
  /** The entries that count, oldest first: none when the chain does not verify. */
  entries: Array<SignedEntry["entry"]>;
  /** Why the records do not verify (then nothing in them counts), or null. */
  problem: string | null;
  /** Read without keys: `entries` are what the records claim. */
  unverified?: boolean;
}

/**
 * A chain of the ledger outside any request (an access review, a month's metrics), named `repo` in its
 * signed entries (`issue` 1): every entry verified against the app's keys, in one unbroken chain.
 * Without keys (an auditor who gave none), what the records claim, proving nothing.
 */
export async function readSideChain(
  deps: { jwks?: JSONWebKeySet | undefined },
  ledger: LedgerChain,
  repo: string,
): Promise<SideChainRecords> {
  const jws = ledger.entries.map((e) => e.jws);
  if (!deps.jwks) {
    const entries = jws.flatMap((j) => {
      try {
        return [
          JSON.parse(
            Buffer.from(j.split(".")[1] ?? "", "base64url").toString("utf8"),
          ) as SignedEntry["entry"],
        ];
      } catch {
        return [];
      }
    });
    return {
      chain: entries.map((entry, i) => ({ entry, jws: jws[i]! })),
      entries,
      problem: "not checked: no keys were given",
      unverified: true,
    };
  }
  const verified = await verifyChain(jws, deps.jwks, { repo, issue: 1 });
  return {
    chain: verified.entries.map((entry, i) => ({ entry, jws: jws[i]! })),
    entries: verified.ok ? verified.entries : [],
    problem: verified.ok ? null : verified.reason,
  };
}
