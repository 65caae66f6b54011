/**
 * The scheduled sweep over many active grants. One real lifecycle runs in the sandbox up to a live
 * grant (request → approval → the real Action exchanging its OIDC token); its records are then
 * re-signed by the app's own audit signer for each copy and written straight into the emulator's
 * state (10,000 HTTP round trips of seeding would measure the seeding). The sweep itself is the
 * real one: the sweep workflow's OIDC token POSTed to the app's /breakglass/sweep route, which lists
 * the open requests and reconciles each through Octokit over HTTP to the emulator.
 */
import { appendEntry, type SignedEntry } from "../src/core/audit-chain.ts";
import { readRecordMarker, recordMarker } from "../src/core/record-marker.ts";
import { readHistory } from "../src/app/issue-records.ts";
import type { CommentRecord, IssueRecord } from "../src/sandbox/github/state.ts";
import { nodeId } from "../src/sandbox/github/state.ts";
import { requestFormBody } from "../src/sandbox/request-body.ts";
import { SANDBOX_AUDIENCE, startSandbox } from "../src/sandbox/start-sandbox.ts";

export interface SweepPoint {
  grants: number;
  ms: number;
  apiCalls: number;
  scheduled: number;
  byRoute: Array<[string, number]>;
}

export async function benchSweep(sizes: number[]): Promise<{ points: SweepPoint[]; seedMs: number }> {
  const sb = await startSandbox({ logLevel: "silent" });
  try {
    // One real grant, live for 2 hours of the sandbox's (frozen) clock.
    const dave = sb.as("dave");
    const { data } = await dave.rest.issues.create({ owner: "acme", repo: "ops", title: "[breakglass] model-guardrail-override override", labels: ["breakglass"], body: requestFormBody({ resource: "model-guardrail-override", role: "override", duration: "2h", severity: "critical" }) });
    await sb.settle();
    await sb.as("grace").rest.issues.createComment({ owner: "acme", repo: "ops", issue_number: data.number, body: "/approve" });
    await sb.settle();
    const port = (await sb.app.portFor("acme", "ops"))!;
    const { deps } = sb.app;
    const template = await readHistory(port, data.number, deps.identity, deps.jwks);
    if (template.state.status !== "active") throw new Error(`the template request is ${template.state.status}, not active: ${template.problems.join("; ")}`);

    const state = sb.emulator.state;
    const repo = state.repository;
    const templateIssue = repo.issues.get(data.number)!;
    const templateComments = templateIssue.commentIds.map((id) => state.comments.get(id)!);
    let seedMs = 0;
    let seeded = 1;
    const seed = async (count: number) => {
      const t = performance.now();
      for (let k = 0; k < count; k++) {
        const number = repo.nextIssueNumber++;
        const id = state.nextId("issue");
        const issue: IssueRecord = { ...templateIssue, id, node_id: nodeId("I", id), number, labels: [...templateIssue.labels], reactions: [], commentIds: [] };
        repo.issues.set(number, issue);
        let chain: SignedEntry[] = [];
        let recordIndex = 0;
        for (const c of templateComments) {
          let body = c.body;
          const jws = readRecordMarker(c.body);
          if (jws && c.user.login === deps.identity.login) {
            const { entry } = template.chain[recordIndex++]!;
            const signed = await appendEntry(chain, { at: entry.at, repo: entry.repo, issue: number, id: entry.id, event: entry.event }, deps.signer);
            chain = [...chain, signed];
            body = body.replace(recordMarker(jws), recordMarker(signed.jws));
          }
          const cid = state.nextId("comment");
          const comment: CommentRecord = { ...c, id: cid, node_id: nodeId("IC", cid), issueNumber: number, body, reactions: [] };
          state.comments.set(cid, comment);
          issue.commentIds.push(cid);
        }
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
      await sb.emulator.waitForIdle();
      sb.emulator.resetApiRequestLog();
      const token = await sweepToken();
      const t = performance.now();
      const res = await fetch(`${sb.app.url}/breakglass/sweep`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ token }) });
      const report = (await res.json()) as { checked?: number; scheduled?: unknown[]; error?: string; message?: string };
      const ms = performance.now() - t;
      if (!res.ok) throw new Error(`sweep refused: ${res.status} ${report.error}: ${report.message}`);
      const calls = sb.emulator.apiRequests.filter((r) => r.tokenKind === "installation" || r.tokenKind === "app");
      const m = new Map<string, number>();
      for (const r of calls) m.set(`${r.method} ${r.route}`, (m.get(`${r.method} ${r.route}`) ?? 0) + 1);
      if (report.checked !== size) throw new Error(`the sweep checked ${report.checked} requests, expected ${size}`);
      points.push({ grants: size, ms, apiCalls: calls.length, scheduled: report.scheduled?.length ?? 0, byRoute: [...m].sort((a, b) => b[1] - a[1]) });
      console.log(`  sweep over ${size} grants: ${(ms / 1000).toFixed(1)} s, ${calls.length} API calls, ${report.scheduled?.length} scheduled`);
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
