import type { AppendResult, Ledger, LedgerChain, LedgerLine, OrphanCredential } from "./ledger.ts";
import { LedgerUnavailable } from "./ledger.ts";
import { mergeUses, type UseRecord } from "../core/usage.ts";
import type { PortOctokit } from "./port-octokit.ts";
import type { IncidentIssueRef } from "../core/incident-issue.ts";

/** The repository (of the same owner as the request repositories) that holds the ledger, unless configured. */
export const DEFAULT_LEDGER_REPO = "breakglass-ledger";
const CHAIN_FILE = "chain.jsonl";
const ORPHAN_FILE = "orphan.json";
const USES_FILE = "uses.jsonl";
/** Appends of uses that lose a compare-and-swap are retried on the fresh list, this many times. */
const USE_APPEND_ATTEMPTS = 5;
/** A ledger file write GitHub failed (5xx, no answer) is tried this many times, as Octokit's retry plugin would. */
const LEDGER_WRITE_ATTEMPTS = 4;

const status = (error: unknown): number | undefined =>
  typeof error === "object" && error !== null ? (error as { status?: number }).status : undefined;

/**
 * Commits by SHA and the entries they hold. A commit id hashes its tree, so an entry here can never be
 * stale: it only saves re-reading a version this process already knows. Bounded; oldest go first.
 */
const known = new Map<string, readonly LedgerLine[]>();
/** The blob id of each known commit's chain file: what an append names as the version it replaces. */
const chainBlobs = new Map<string, string>();
const KNOWN_COMMITS = 5000;
function remember(sha: string, entries: readonly LedgerLine[], blob?: string): void {
  known.delete(sha);
  known.set(sha, entries);
  if (blob) {
    chainBlobs.delete(sha);
    chainBlobs.set(sha, blob);
  }
  if (known.size > KNOWN_COMMITS) known.delete(known.keys().next().value!);
  if (chainBlobs.size > KNOWN_COMMITS) chainBlobs.delete(chainBlobs.keys().next().value!);
}
const chainText = (entries: readonly LedgerLine[]) => `${entries.map((e) => JSON.stringify(e)).join("\n")}\n`;

const refPart = (s: string) => s.toLowerCase().replace(/[^a-z0-9._-]/g, "-");

/**
 * The ledger over GitHub's Git Data API in a repository only the app can push to. Each request is a
 * branch `requests/<owner>/<repo>/<issue>` whose tip commit holds the whole chain (one JWS a line);
 * an append is a new commit on top, and the branch moves only by a fast-forward (`force: false`), which
 * GitHub refuses (422) when another writer moved it first. So the branch's history is itself a hash
 * chain, and nobody without push access to the ledger repository can change it.
 * A reservation is a branch `runs/<owner>/<repo>/<key>`: creating a ref that exists is refused (422).
 */
export function gitLedger(
  octokit: PortOctokit,
  ledgerOwner: string,
  ledgerRepo: string,
  requestOwner: string,
  requestRepo: string,
): Ledger {
  const base = { owner: ledgerOwner, repo: ledgerRepo };
  const location = `${ledgerOwner}/${ledgerRepo}`;
  const scope = `${refPart(requestOwner)}/${refPart(requestRepo)}`;
  const requestRef = (issue: number) => `heads/requests/${scope}/${issue}`;
  const runRef = (key: string) => `heads/runs/${scope}/${refPart(key)}`;
  const openRef = (issue: number) => `heads/open/${scope}/${issue}`;

  const orphanRef = (key: string) => `heads/orphans/${scope}/${refPart(key)}`;
  // Uses live on their own branch: they are many, are not lifecycle entries, and get no comment each.
  const usesRef = (issue: number) => `heads/uses/${scope}/${issue}`;
  const incidentPrefix = (i: IncidentIssueRef) =>
    `heads/incidents/${refPart(i.owner)}/${refPart(i.repo)}/${i.number}/`;
  const createIgnoringExisting = async (ref: string, sha: string) => {
    try {
      await octokit.rest.git.createRef({ ...base, ref: `refs/${ref}`, sha });
    } catch (error) {
      if (status(error) !== 422) throw unavailable(error);
    }
  };
  const lastTip = new Map<number, string>();

  const unavailable = (error: unknown) => {
    if (status(error) === 409)
      return new LedgerUnavailable(
        location,
        new Error("the ledger repository is empty; create it with an initial commit (README)"),
      );
    if (status(error) === 404)
      return new LedgerUnavailable(
        location,
        new Error("the ledger repository does not exist or the app is not installed on it"),
      );
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
      const entries = Buffer.from(blob.content, "base64")
        .toString("utf8")
        .split("\n")
        .filter(Boolean)
        .map(parseLine);
      remember(commit, entries, file.sha);
      return entries;
    } catch (error) {
      throw unavailable(error);
    }
  }

  // Passkeys belong to a person across the owner's repositories: one branch per login, outside any repository's scope.
  const passkeyRef = (login: string) =>
    `heads/passkeys/${refPart(requestOwner)}/${refPart(login.toLowerCase())}`;

  // Access reviews are the repository's, one branch per period.
  const reviewRef = (period: string) => `heads/access-reviews/${scope}/${refPart(period)}`;
  // So are the monthly metrics, one branch per month.
  const metricsRef = (month: string) => `heads/metrics/${scope}/${refPart(month)}`;
  const listBranches = async (prefix: string): Promise<string[]> => {
    try {
      const refs = await octokit.paginate(octokit.rest.git.listMatchingRefs, {
        ...base,
        ref: prefix,
        per_page: 100,
      });
      return refs.map((r) => r.ref.slice(`refs/${prefix}`.length));
    } catch (error) {
      throw unavailable(error);
    }
  };

  /** A chain outside any request (passkeys, access reviews): tree, commit, then a fast-forward of its branch. */
  async function appendSideChain(
    ref: string,
    what: string,
    expected: LedgerChain,
    entry: LedgerLine,
  ): Promise<AppendResult> {
    const entries = [...expected.entries, entry];
    let commit: string;
    try {
      const { data: tree } = await octokit.rest.git.createTree({
        ...base,
        tree: [{ path: CHAIN_FILE, mode: "100644", type: "blob", content: chainText(entries) }],
      });
      const { data } = await octokit.rest.git.createCommit({
        ...base,
        message: `${what}: entry ${entries.length - 1}`,
        tree: tree.sha,
        parents: expected.tip ? [expected.tip] : [],
      });
      commit = data.sha;
    } catch (error) {
      throw unavailable(error);
    }
    try {
      if (expected.tip === null)
        await octokit.rest.git.createRef({ ...base, ref: `refs/${ref}`, sha: commit });
      else await octokit.rest.git.updateRef({ ...base, ref, sha: commit, force: false });
    } catch (error) {
      if (status(error) === 422) return { ok: false, reason: "conflict" };
      throw unavailable(error);
    }
    remember(commit, entries);
    return { ok: true, chain: { tip: commit, entries } };
  }

  return {
    location,
    async passkeys(login) {
      const tip = await tipOf(passkeyRef(login));
      return tip === null ? { tip: null, entries: [] } : { tip, entries: await entriesAt(tip) };
    },
    async appendPasskey(login, expected, entry): Promise<AppendResult> {
      return appendSideChain(passkeyRef(login), `passkeys of ${requestOwner}/@${login}`, expected, entry);
    },
    async accessReview(period) {
      const tip = await tipOf(reviewRef(period));
      return tip === null ? { tip: null, entries: [] } : { tip, entries: await entriesAt(tip) };
    },
    async appendAccessReview(period, expected, entry): Promise<AppendResult> {
      return appendSideChain(
        reviewRef(period),
        `access review ${period} of ${requestOwner}/${requestRepo}`,
        expected,
        entry,
      );
    },
    async accessReviewPeriods() {
      return (await listBranches(reviewRef(""))).map((p) => p.replace(/-q/, "-Q")).sort();
    },
    async metrics(month) {
      const tip = await tipOf(metricsRef(month));
      return tip === null ? { tip: null, entries: [] } : { tip, entries: await entriesAt(tip) };
    },
    async appendMetrics(month, expected, entry): Promise<AppendResult> {
      return appendSideChain(
        metricsRef(month),
        `metrics ${month} of ${requestOwner}/${requestRepo}`,
        expected,
        entry,
      );
    },
    async metricsMonths() {
      return (await listBranches(metricsRef(""))).sort();
    },
    async read(issue) {
      const tip = await tipOf(requestRef(issue));
      if (tip === null) return { tip: null, entries: [] };
      lastTip.set(issue, tip);
      return { tip, entries: await entriesAt(tip) };
    },
    async append(issue, expected, entry): Promise<AppendResult> {
      const entries = [...expected.entries, entry];
      const message = `${requestOwner}/${requestRepo}#${issue}: entry ${entries.length - 1}`;
      // Every entry after the first is one write: "Create or update file contents" on the request's
      // branch, naming the chain file's blob at the version read. GitHub refuses it (409) when the
      // file is no longer that blob, i.e. another writer appended first: the same compare-and-swap
      // as a fast-forward, since the chain only grows. (Tree, commit and ref are three writes.)
      const blob = expected.tip === null ? undefined : chainBlobs.get(expected.tip);
      if (expected.tip !== null && blob) {
        let written: { commit: string; blob: string } | null = null;
        for (let attempt = 1; written === null; attempt++) {
          try {
            // A 409 is the answer, not a fault: Octokit's retry plugin would send it again three times
            // (it retries 409s), each refused the same way, seconds apart. So its retries are off here
            // and a GitHub error (5xx, no answer) is retried below instead: if the failed write was in
            // fact applied, the retry is refused 409 and the re-read finds this entry already there.
            const { data } = await octokit.rest.repos.createOrUpdateFileContents({
              ...base,
              path: CHAIN_FILE,
              branch: requestRef(issue).replace(/^heads\//, ""),
              message,
              content: Buffer.from(chainText(entries)).toString("base64"),
              sha: blob,
              request: { retries: 0 },
            });
            written = { commit: data.commit.sha ?? "", blob: data.content?.sha ?? "" };
          } catch (error) {
            if (status(error) === 409) return { ok: false, reason: "conflict" };
            const transient = status(error) === undefined || (status(error) ?? 0) >= 500;
            if (!transient || attempt >= LEDGER_WRITE_ATTEMPTS) throw unavailable(error);
            await new Promise((r) => setTimeout(r, attempt * attempt * 1000));
          }
        }
        if (!written.commit) throw unavailable(new Error("GitHub did not say which commit holds the entry"));
        remember(written.commit, entries, written.blob || undefined);
        lastTip.set(issue, written.commit);
        return { ok: true, chain: { tip: written.commit, entries } };
      }
      let commit: string;
      let chainBlob: string | undefined;
      try {
        const { data: tree } = await octokit.rest.git.createTree({
          ...base,
          tree: [{ path: CHAIN_FILE, mode: "100644", type: "blob", content: chainText(entries) }],
        });
        chainBlob = tree.tree.find((e) => e.path === CHAIN_FILE)?.sha;
        const { data } = await octokit.rest.git.createCommit({
          ...base,
          message,
          tree: tree.sha,
          parents: expected.tip ? [expected.tip] : [],
        });
        commit = data.sha;
      } catch (error) {
        throw unavailable(error);
      }
      // The index entry comes first: a crash between the two leaves an indexed request with no entry
      // (the sweep ignores it), never an entry the sweep cannot find.
      if (expected.tip === null) await createIgnoringExisting(openRef(issue), commit);
      try {
        if (expected.tip === null)
          await octokit.rest.git.createRef({ ...base, ref: `refs/${requestRef(issue)}`, sha: commit });
        else await octokit.rest.git.updateRef({ ...base, ref: requestRef(issue), sha: commit, force: false });
      } catch (error) {
        // Not a fast-forward, or the branch already exists: someone else appended first.
        if (status(error) === 422) return { ok: false, reason: "conflict" };
        throw unavailable(error);
      }
      remember(commit, entries, chainBlob);
      lastTip.set(issue, commit);
      const chain: LedgerChain = { tip: commit, entries };
      return { ok: true, chain };
    },
    async reserve(key, issue) {
      // The reservation points at the request's ledger version it was taken for (any existing commit would do).
      const at =
        lastTip.get(issue) ??
        (await tipOf(requestRef(issue))) ??
        (await tipOf("heads/" + (await defaultBranch())));
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
    async uses(issue) {
      return (await usesAt(issue)).uses;
    },
    async addUses(issue, added) {
      for (let attempt = 0; attempt < USE_APPEND_ATTEMPTS; attempt++) {
        const current = await usesAt(issue);
        const merged = mergeUses(current.uses, added);
        if (merged.added.length === 0) return [];
        try {
          const { data: tree } = await octokit.rest.git.createTree({
            ...base,
            tree: [
              {
                path: USES_FILE,
                mode: "100644",
                type: "blob",
                content: `${merged.uses.map((u) => JSON.stringify(u)).join("\n")}\n`,
              },
            ],
          });
          const { data } = await octokit.rest.git.createCommit({
            ...base,
            message: `${requestOwner}/${requestRepo}#${issue}: ${merged.added.length} use(s)`,
            tree: tree.sha,
            parents: current.tip ? [current.tip] : [],
          });
          if (current.tip === null)
            await octokit.rest.git.createRef({ ...base, ref: `refs/${usesRef(issue)}`, sha: data.sha });
          else
            await octokit.rest.git.updateRef({ ...base, ref: usesRef(issue), sha: data.sha, force: false });
          return merged.added;
        } catch (error) {
          if (status(error) === 422) continue;
          throw unavailable(error);
        }
      }
      throw unavailable(
        new Error(
          `#${issue}: the list of uses kept moving under ${USE_APPEND_ATTEMPTS} attempts to add to it`,
        ),
      );
    },
    async keepOrphan(orphan) {
      try {
        const { data: tree } = await octokit.rest.git.createTree({
          ...base,
          tree: [{ path: ORPHAN_FILE, mode: "100644", type: "blob", content: `${JSON.stringify(orphan)}\n` }],
        });
        const { data: commit } = await octokit.rest.git.createCommit({
          ...base,
          message: `${requestOwner}/${requestRepo}#${orphan.issue}: credential ${orphan.credential_id} owes a revocation`,
          tree: tree.sha,
          parents: [],
        });
        await createIgnoringExisting(orphanRef(orphan.key), commit.sha);
      } catch (error) {
        throw error instanceof LedgerUnavailable ? error : unavailable(error);
      }
    },
    async orphans() {
      const prefix = orphanRef("").replace(/\/$/, "/");
      try {
        const refs = await octokit.paginate(octokit.rest.git.listMatchingRefs, {
          ...base,
          ref: prefix,
          per_page: 100,
        });
        const found: OrphanCredential[] = [];
        for (const ref of refs) {
          const { data: c } = await octokit.rest.git.getCommit({ ...base, commit_sha: ref.object.sha });
          const { data: tree } = await octokit.rest.git.getTree({ ...base, tree_sha: c.tree.sha });
          const file = tree.tree.find((e) => e.path === ORPHAN_FILE);
          if (!file?.sha) continue;
          const { data: blob } = await octokit.rest.git.getBlob({ ...base, file_sha: file.sha });
          found.push(JSON.parse(Buffer.from(blob.content, "base64").toString("utf8")) as OrphanCredential);
        }
        return found;
      } catch (error) {
        throw unavailable(error);
      }
    },
    async dropOrphan(key) {
      try {
        await octokit.rest.git.deleteRef({ ...base, ref: orphanRef(key) });
      } catch (error) {
        if (status(error) !== 422 && status(error) !== 404) throw unavailable(error);
      }
    },
    async index() {
      return issuesUnder(openRef(0).replace(/0$/, ""));
    },
    async requests() {
      return issuesUnder(requestRef(0).replace(/0$/, ""));
    },
    async tips() {
      const prefix = `refs/${requestRef(0).replace(/0$/, "")}`;
      try {
        const refs = await octokit.paginate(octokit.rest.git.listMatchingRefs, {
          ...base,
          ref: requestRef(0).replace(/0$/, ""),
          per_page: 100,
        });
        const tips = new Map<number, string>();
        for (const r of refs) {
          const n = Number(r.ref.slice(prefix.length));
          if (Number.isSafeInteger(n) && n > 0) tips.set(n, r.object.sha);
        }
        return tips;
      } catch (error) {
        throw unavailable(error);
      }
    },
    linkIncident,
    linkedToIncident,
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

  /** The issue numbers of the refs under `prefix` ("heads/open/<owner>/<repo>/"). */
  async function issuesUnder(prefix: string): Promise<number[]> {
    try {
      const refs = await octokit.paginate(octokit.rest.git.listMatchingRefs, {
        ...base,
        ref: prefix,
        per_page: 100,
      });
      return refs
        .map((r) => Number(r.ref.slice(`refs/${prefix}`.length)))
        .filter((n) => Number.isSafeInteger(n) && n > 0)
        .sort((a, b) => a - b);
    } catch (error) {
      throw unavailable(error);
    }
  }

  async function usesAt(issue: number): Promise<{ tip: string | null; uses: UseRecord[] }> {
    const tip = await tipOf(usesRef(issue));
    if (tip === null) return { tip, uses: [] };
    try {
      const { data: c } = await octokit.rest.git.getCommit({ ...base, commit_sha: tip });
      const { data: tree } = await octokit.rest.git.getTree({ ...base, tree_sha: c.tree.sha });
      const file = tree.tree.find((e) => e.path === USES_FILE);
      if (!file?.sha) return { tip, uses: [] };
      const { data: blob } = await octokit.rest.git.getBlob({ ...base, file_sha: file.sha });
      const uses = Buffer.from(blob.content, "base64")
        .toString("utf8")
        .split("\n")
        .filter(Boolean)
        .flatMap((line) => {
          try {
            return [JSON.parse(line) as UseRecord];
          } catch {
            return [];
          }
        });
      return { tip, uses };
    } catch (error) {
      throw unavailable(error);
    }
  }

  async function linkIncident(issue: number, incident: IncidentIssueRef): Promise<void> {
    const at = lastTip.get(issue) ?? (await tipOf(requestRef(issue)));
    if (at) await createIgnoringExisting(`${incidentPrefix(incident)}${scope}/${issue}`, at);
  }

  async function linkedToIncident(
    incident: IncidentIssueRef,
  ): Promise<Array<{ owner: string; repo: string; issue: number }>> {
    const prefix = incidentPrefix(incident);
    try {
      const refs = await octokit.paginate(octokit.rest.git.listMatchingRefs, {
        ...base,
        ref: prefix,
        per_page: 100,
      });
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
    return {
      jws: typeof value.jws === "string" ? value.jws : "",
      text: typeof value.text === "string" ? value.text : "",
    };
  } catch {
    return { jws: "", text: "" };
  }
}
