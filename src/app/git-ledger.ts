import type { AppendResult, Ledger, LedgerChain, LedgerLine } from "./ledger.ts";
import { LedgerUnavailable } from "./ledger.ts";
import type { PortOctokit } from "./octokit-port.ts";
import type { IncidentIssueRef } from "../core/incident-issue.ts";

/** The repository (of the same owner as the request repositories) that holds the ledger, unless configured. */
export const DEFAULT_LEDGER_REPO = "breakglass-ledger";
const CHAIN_FILE = "chain.jsonl";

const status = (error: unknown): number | undefined => (typeof error === "object" && error !== null ? (error as { status?: number }).status : undefined);

/**
 * Commits by SHA and the entries they hold. A commit id hashes its tree, so an entry here can never be
 * stale: it only saves re-reading a version this process already knows. Bounded; oldest go first.
 */
const known = new Map<string, readonly LedgerLine[]>();
const KNOWN_COMMITS = 5000;
function remember(sha: string, entries: readonly LedgerLine[]): void {
  known.delete(sha);
  known.set(sha, entries);
  if (known.size > KNOWN_COMMITS) known.delete(known.keys().next().value!);
}

const refPart = (s: string) => s.toLowerCase().replace(/[^a-z0-9._-]/g, "-");

/**
 * The ledger over GitHub's Git Data API in a repository only the app can push to. Each request is a
 * branch `requests/<owner>/<repo>/<issue>` whose tip commit holds the whole chain (one JWS a line);
 * an append is a new commit on top, and the branch moves only by a fast-forward (`force: false`), which
 * GitHub refuses (422) when another writer moved it first. So the branch's history is itself a hash
 * chain, and nobody without push access to the ledger repository can change it.
 * A reservation is a branch `runs/<owner>/<repo>/<key>`: creating a ref that exists is refused (422).
 */
export function gitLedger(octokit: PortOctokit, ledgerOwner: string, ledgerRepo: string, requestOwner: string, requestRepo: string): Ledger {
  const base = { owner: ledgerOwner, repo: ledgerRepo };
  const location = `${ledgerOwner}/${ledgerRepo}`;
  const scope = `${refPart(requestOwner)}/${refPart(requestRepo)}`;
  const requestRef = (issue: number) => `heads/requests/${scope}/${issue}`;
  const runRef = (key: string) => `heads/runs/${scope}/${refPart(key)}`;
  const openRef = (issue: number) => `heads/open/${scope}/${issue}`;
  const incidentPrefix = (i: IncidentIssueRef) => `heads/incidents/${refPart(i.owner)}/${refPart(i.repo)}/${i.number}/`;
  const createIgnoringExisting = async (ref: string, sha: string) => {
    try {
      await octokit.rest.git.createRef({ ...base, ref: `refs/${ref}`, sha });
    } catch (error) {
      if (status(error) !== 422) throw unavailable(error);
    }
  };
  const lastTip = new Map<number, string>();

  const unavailable = (error: unknown) => {
    if (status(error) === 409) return new LedgerUnavailable(location, new Error("the ledger repository is empty; create it with an initial commit (README)"));
    if (status(error) === 404) return new LedgerUnavailable(location, new Error("the ledger repository does not exist or the app is not installed on it"));
    return new LedgerUnavailable(location, error);
  };

  async function tipOf(ref: string): Promise<string | null> {
    try {
      const { data } = await octokit.rest.git.getRef({ ...base, ref });
      return data.object.sha;
    } catch (error) {
      if (status(error) === 404) return null;
      throw unavailable(error);
    }
  }

  async function entriesAt(commit: string): Promise<readonly LedgerLine[]> {
    const cached = known.get(commit);
    if (cached) return cached;
    try {
      const { data: c } = await octokit.rest.git.getCommit({ ...base, commit_sha: commit });
      const { data: tree } = await octokit.rest.git.getTree({ ...base, tree_sha: c.tree.sha });
      const file = tree.tree.find((e) => e.path === CHAIN_FILE);
      if (!file?.sha) return [];
      const { data: blob } = await octokit.rest.git.getBlob({ ...base, file_sha: file.sha });
      const entries = Buffer.from(blob.content, "base64").toString("utf8").split("\n").filter(Boolean).map(parseLine);
      remember(commit, entries);
      return entries;
    } catch (error) {
      throw unavailable(error);
    }
  }

  return {
    location,
    async read(issue) {
      const tip = await tipOf(requestRef(issue));
      if (tip === null) return { tip: null, entries: [] };
      lastTip.set(issue, tip);
      return { tip, entries: await entriesAt(tip) };
    },
    async append(issue, expected, entry): Promise<AppendResult> {
      const entries = [...expected.entries, entry];
      let commit: string;
      try {
        const { data: tree } = await octokit.rest.git.createTree({ ...base, tree: [{ path: CHAIN_FILE, mode: "100644", type: "blob", content: `${entries.map((e) => JSON.stringify(e)).join("\n")}\n` }] });
        const { data } = await octokit.rest.git.createCommit({ ...base, message: `${requestOwner}/${requestRepo}#${issue}: entry ${entries.length - 1}`, tree: tree.sha, parents: expected.tip ? [expected.tip] : [] });
        commit = data.sha;
      } catch (error) {
        throw unavailable(error);
      }
      // The index entry comes first: a crash between the two leaves an indexed request with no entry
      // (the sweep ignores it), never an entry the sweep cannot find.
      if (expected.tip === null) await createIgnoringExisting(openRef(issue), commit);
      try {
        if (expected.tip === null) await octokit.rest.git.createRef({ ...base, ref: `refs/${requestRef(issue)}`, sha: commit });
        else await octokit.rest.git.updateRef({ ...base, ref: requestRef(issue), sha: commit, force: false });
      } catch (error) {
        // Not a fast-forward, or the branch already exists: someone else appended first.
        if (status(error) === 422) return { ok: false, reason: "conflict" };
        throw unavailable(error);
      }
      remember(commit, entries);
      lastTip.set(issue, commit);
      const chain: LedgerChain = { tip: commit, entries };
      return { ok: true, chain };
    },
    async reserve(key, issue) {
      // The reservation points at the request's ledger version it was taken for (any existing commit would do).
      const at = lastTip.get(issue) ?? (await tipOf(requestRef(issue))) ?? (await tipOf("heads/" + (await defaultBranch())));
      if (!at) throw unavailable(new Error("the ledger repository has no commit to point a reservation at"));
      try {
        await octokit.rest.git.createRef({ ...base, ref: `refs/${runRef(key)}`, sha: at });
        return true;
      } catch (error) {
        if (status(error) === 422) return false;
        throw unavailable(error);
      }
    },
    async reserved(key) {
      return (await tipOf(runRef(key))) !== null;
    },
    async index() {
      const prefix = `refs/${openRef(0).replace(/0$/, "")}`;
      try {
        const refs = await octokit.paginate(octokit.rest.git.listMatchingRefs, { ...base, ref: openRef(0).replace(/0$/, ""), per_page: 100 });
        return refs.map((r) => Number(r.ref.slice(prefix.length))).filter((n) => Number.isSafeInteger(n) && n > 0).sort((a, b) => a - b);
      } catch (error) {
        throw unavailable(error);
      }
    },
    linkIncident,
    linkedToIncident,
    async requests() {
      const prefix = requestRef(0).replace(/0$/, "");
      try {
        const refs = await octokit.paginate(octokit.rest.git.listMatchingRefs, { ...base, ref: prefix, per_page: 100 });
        return refs.map((r) => Number(r.ref.slice(`refs/${prefix}`.length))).filter((n) => Number.isSafeInteger(n) && n > 0).sort((a, b) => a - b);
      } catch (error) {
        if (status(error) === 404) return [];
        throw unavailable(error);
      }
    },
    async setIndexed(issue, indexed) {
      if (indexed) {
        const at = lastTip.get(issue) ?? (await tipOf(requestRef(issue)));
        if (at) await createIgnoringExisting(openRef(issue), at);
        return;
      }
      try {
        await octokit.rest.git.deleteRef({ ...base, ref: openRef(issue) });
      } catch (error) {
        if (status(error) !== 422 && status(error) !== 404) throw unavailable(error);
      }
    },
  };

  async function linkIncident(issue: number, incident: IncidentIssueRef): Promise<void> {
    const at = lastTip.get(issue) ?? (await tipOf(requestRef(issue)));
    if (at) await createIgnoringExisting(`${incidentPrefix(incident)}${scope}/${issue}`, at);
  }

  async function linkedToIncident(incident: IncidentIssueRef): Promise<Array<{ owner: string; repo: string; issue: number }>> {
    const prefix = incidentPrefix(incident);
    try {
      const refs = await octokit.paginate(octokit.rest.git.listMatchingRefs, { ...base, ref: prefix, per_page: 100 });
      return refs.flatMap((r) => {
        const m = /^([^/]+)\/([^/]+)\/(\d+)$/.exec(r.ref.slice(`refs/${prefix}`.length));
        return m ? [{ owner: m[1]!, repo: m[2]!, issue: Number(m[3]) }] : [];
      });
    } catch (error) {
      throw unavailable(error);
    }
  }

  async function defaultBranch(): Promise<string> {
    try {
      return (await octokit.rest.repos.get(base)).data.default_branch;
    } catch (error) {
      throw unavailable(error);
    }
  }
}

/** A line of the chain file; one that is not an entry is kept as an unverifiable record (the chain check rejects it). */
function parseLine(line: string): LedgerLine {
  try {
    const value = JSON.parse(line) as Partial<LedgerLine>;
    return { jws: typeof value.jws === "string" ? value.jws : "", text: typeof value.text === "string" ? value.text : "" };
  } catch {
    return { jws: "", text: "" };
  }
}
