/**
 * The scheduled sweep over many active grants. One real lifecycle runs in the sandbox up to a live
 * grant (request → approval → the real Action exchanging its OIDC token); its records are then
 * re-signed by the app's own audit signer for each copy and written straight into the emulator's
 * state (10,000 HTTP round trips of seeding would measure the seeding). The sweep itself is the
 * real one: the sweep workflow's OIDC token POSTed to the app's /breakglass/sweep route, which lists
 * the open requests and reconciles each through Octokit over HTTP to the emulator.
 */
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { appendEntry, type SignedEntry } from "../src/core/audit-chain.ts";
import { readRecordMarker, recordMarker } from "../src/core/record-marker.ts";
import { readHistory } from "../src/github/issue-records.ts";
import type { CommentRecord, IssueRecord } from "../src/sandbox/github/state.ts";
import { nodeId } from "../src/sandbox/github/state.ts";
import { requestFormBody } from "../src/sandbox/request-body.ts";
import { SANDBOX_AUDIENCE, SANDBOX_LEDGER_REPO, startSandbox } from "../src/sandbox/start-sandbox.ts";
import { store as storeGitObject } from "../src/sandbox/github/routes/git.ts";
import { withoutStepUp } from "./limits.ts";

export interface SweepPoint {
  grants: number;
  /** The first sweep of this process over these grants (each read once, as after a restart). */
  cold: { ms: number; apiCalls: number };
  /** The next sweep: the steady state of a running app (the ledger listing, then only what changed or is due). */
  ms: number;
  apiCalls: number;
  scheduled: number;
  byRoute: Array<[string, number]>;
  /** Resident memory the process grew by while the app read and held these grants (after GC), in bytes. */
  rssGrowth: number;
  rss: number;
  /** V8 heap still in use after GC grew by this (what the app holds, without allocator slack). */
  heapGrowth: number;
}

const gc: () => void = (() => {
  v8.setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
})();
const settledRss = async () => {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 50));
  }
  const { rss, heapUsed } = process.memoryUsage();
  return { rss, heapUsed };
};

export async function benchSweep(sizes: number[]): Promise<{ points: SweepPoint[]; seedMs: number }> {
  const sb = withoutStepUp(await startSandbox({ logLevel: "silent" }));
  try {
    // One real grant, live for 2 hours of the sandbox's (frozen) clock.
    const dave = sb.as("dave");
    const { data } = await dave.rest.issues.create({
      owner: "acme",
      repo: "ops",
      title: "[breakglass] model-guardrail-override override",
      labels: ["breakglass"],
      body: requestFormBody({
        resource: "model-guardrail-override",
        role: "override",
        duration: "2h",
        severity: "critical",
      }),
    });
    await sb.settle();
    await sb
      .as("grace")
      .rest.issues.createComment({ owner: "acme", repo: "ops", issue_number: data.number, body: "/approve" });
    await sb.settle();
    const port = (await sb.app.portFor("acme", "ops"))!;
    const { deps } = sb.app;
    const template = await readHistory(port, data.number, deps.identity, deps.jwks);
    if (template.state.status !== "active")
      throw new Error(
        `the template request is ${template.state.status}, not active: ${template.problems.join("; ")}`,
      );

    const state = sb.emulator.state;
    const repo = state.repository;
    // Each copy also gets its ledger branch and index entry, as the app's appends would have made them.
    const ledgerRepo = [...state.repositories.values()].find((r) => r.name === SANDBOX_LEDGER_REPO)!;
    const templateLines = (await port.ledger.read(data.number)).entries;
    const who = {
      name: "breakglass[bot]",
      email: "breakglass@users.noreply.github.com",
      date: new Date(sb.clock.now()).toISOString(),
    };
    const templateIssue = repo.issues.get(data.number)!;
    const templateComments = templateIssue.commentIds.map((id) => state.comments.get(id)!);
    let seedMs = 0;
    let seeded = 1;
    const seed = async (count: number) => {
      const t = performance.now();
      for (let k = 0; k < count; k++) {
        const number = repo.nextIssueNumber++;
        const id = state.nextId("issue");
        const issue: IssueRecord = {
          ...templateIssue,
          id,
          node_id: nodeId("I", id),
          number,
          labels: [...templateIssue.labels],
          reactions: [],
          commentIds: [],
        };
        repo.issues.set(number, issue);
        let chain: SignedEntry[] = [];
        let recordIndex = 0;
        for (const c of templateComments) {
          let body = c.body;
          const jws = readRecordMarker(c.body);
          if (jws && c.user.login === deps.identity.login) {
            const { entry } = template.chain[recordIndex++]!;
            const signed = await appendEntry(
              chain,
              { at: entry.at, repo: entry.repo, issue: number, id: entry.id, event: entry.event },
              deps.signer,
            );
            chain = [...chain, signed];
            body = body.replace(recordMarker(jws), recordMarker(signed.jws));
          }
          const cid = state.nextId("comment");
          const comment: CommentRecord = {
            ...c,
            id: cid,
            node_id: nodeId("IC", cid),
            issueNumber: number,
            body,
            reactions: [],
          };
          state.comments.set(cid, comment);
          issue.commentIds.push(cid);
        }
        const lines = chain.map((signed, i) => ({ jws: signed.jws, text: templateLines[i]!.text }));
        const blob = storeGitObject(ledgerRepo.git, {
          type: "blob",
          content: Buffer.from(`${lines.map((l) => JSON.stringify(l)).join("\n")}\n`),
        });
        const tree = storeGitObject(ledgerRepo.git, {
          type: "tree",
          entries: [{ path: "chain.jsonl", mode: "100644", type: "blob", sha: blob }],
        });
        const commit = storeGitObject(ledgerRepo.git, {
          type: "commit",
          tree,
          parents: [],
          message: `acme/ops#${number}: entry ${lines.length - 1}`,
          author: who,
          committer: who,
        });
        ledgerRepo.git.refs.set(`refs/heads/requests/acme/ops/${number}`, commit);
        ledgerRepo.git.refs.set(`refs/heads/open/acme/ops/${number}`, commit);
      }
      seedMs += performance.now() - t;
      seeded += count;
    };

    const repository = `${repo.owner.login}/${repo.name}`;
    const sweepToken = () =>
      sb.issuer.mint({
        aud: SANDBOX_AUDIENCE,
        repository,
        repository_id: String(repo.id),
        repository_owner_id: String(repo.owner.id),
        workflow: "breakglass-sweep",
        workflow_ref: `${repository}/.github/workflows/breakglass-sweep.yml@refs/heads/main`,
        event_name: "schedule",
        actor: "github-actions[bot]",
      });

    const points: SweepPoint[] = [];
    for (const size of sizes) {
      if (size > seeded) await seed(size - seeded);
      const sweep = async () => {
        await sb.emulator.waitForIdle();
        sb.emulator.resetApiRequestLog();
        const token = await sweepToken();
        const t = performance.now();
        const res = await fetch(`${sb.app.url}/breakglass/sweep`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ token }),
        });
        const report = (await res.json()) as {
          checked?: number;
          scheduled?: unknown[];
          failed?: number[];
          error?: string;
          message?: string;
        };
        const ms = performance.now() - t;
        if (!res.ok) throw new Error(`sweep refused: ${res.status} ${report.error}: ${report.message}`);
        // Rate-limit-counted calls: the app's, but 304s (conditional reads that did not change).
        const calls = sb.emulator.apiRequests.filter(
          (r) => (r.tokenKind === "installation" || r.tokenKind === "app") && r.status !== 304,
        );
        if (report.checked !== size)
          throw new Error(`the sweep checked ${report.checked} requests, expected ${size}`);
        if (report.failed?.length) throw new Error(`the sweep failed on ${report.failed.length} requests`);
        return { ms, calls, scheduled: report.scheduled?.length ?? 0 };
      };
      const rssBefore = await settledRss();
      const cold = await sweep();
      const warm = await sweep();
      const rssAfter = await settledRss();
      const coldRoutes = new Map<string, number>();
      for (const r of cold.calls)
        coldRoutes.set(`${r.method} ${r.route}`, (coldRoutes.get(`${r.method} ${r.route}`) ?? 0) + 1);
      console.log(`  first sweep over ${size}: ${[...coldRoutes].map(([k, v]) => `${v}× ${k}`).join(", ")}`);
      const m = new Map<string, number>();
      for (const r of warm.calls) m.set(`${r.method} ${r.route}`, (m.get(`${r.method} ${r.route}`) ?? 0) + 1);
      points.push({
        grants: size,
        cold: { ms: cold.ms, apiCalls: cold.calls.length },
        ms: warm.ms,
        apiCalls: warm.calls.length,
        scheduled: warm.scheduled,
        byRoute: [...m].sort((a, b) => b[1] - a[1]),
        rssGrowth: rssAfter.rss - rssBefore.rss,
        rss: rssAfter.rss,
        heapGrowth: rssAfter.heapUsed - rssBefore.heapUsed,
      });
      console.log(
        `  sweep over ${size} grants: first ${(cold.ms / 1000).toFixed(1)} s and ${cold.calls.length} calls; then ${(warm.ms / 1000).toFixed(2)} s, ${warm.calls.length} calls (${[...m].map(([k, v]) => `${v}× ${k}`).join(", ")}), ${warm.scheduled} scheduled`,
      );
    }
    return { points, seedMs };
  } finally {
    await sb.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sizes = (process.env.BENCH_SWEEP_SIZES ?? "100,500").split(",").map(Number);
  console.log(JSON.stringify(await benchSweep(sizes), null, 1));
}
