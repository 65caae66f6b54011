import { appendEntry, type SignedEntry } from "../../core/audit-chain.ts";
import type { AppendResult, LedgerChain, LedgerLine } from "../../github/ledger.ts";
import type { BreakglassDeps } from "./deps.ts";

/** One ledger chain outside any request (an access review, a month's metrics), as the append needs it. */
export interface SideChain<R extends { chain: SignedEntry[]; ledger: LedgerChain; problem: string | null }> {
  /** Its name in the signed entries (`<owner>/.access-review.<repo>.<period>`). */
  repo: string;
  /** What it is, for errors (`the access review records of 2026-11`). */
  what: string;
  read(): Promise<R>;
  append(expected: LedgerChain, entry: LedgerLine): Promise<AppendResult>;
}

export type SideChainOutcome<R> =
  { ok: true; records: R; recorded: boolean } | { ok: false; problem: string; conflict?: boolean };

/**
 * Appends one signed record (compare-and-swap; read again and retry when another replica wrote first).
 * An `id` already in the chain is not recorded twice. `firstOnly`: the record must be the chain's first:
 * when another process wrote first, nothing is recorded (`conflict`).
 */
export async function appendSideChainRecord<
  R extends { chain: SignedEntry[]; ledger: LedgerChain; problem: string | null },
>(
  deps: Pick<BreakglassDeps, "signer" | "now">,
  side: SideChain<R>,
  id: string,
  event: { type: string; actor: string } & Record<string, unknown>,
  text: string,
  options: { firstOnly?: boolean } = {},
): Promise<SideChainOutcome<R>> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await side.read();
    if (current.problem) return { ok: false, problem: `${side.what} do not verify (${current.problem})` };
    if (current.chain.some((e) => e.entry.id === id)) return { ok: true, records: current, recorded: false };
    if (options.firstOnly && current.chain.length > 0)
      return { ok: false, problem: "another process wrote first", conflict: true };
    const signed = await appendEntry(
      current.chain,
      { at: new Date(deps.now()).toISOString(), repo: side.repo, issue: 1, id, event },
      deps.signer,
    );
    const written = await side.append(current.ledger, { jws: signed.jws, text });
    if (written.ok) return { ok: true, records: await side.read(), recorded: true };
  }
  return { ok: false, problem: "the ledger kept moving; try again" };
}
