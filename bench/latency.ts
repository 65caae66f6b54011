/**
 * Webhook → status comment: the real Breakglass server and a bare Probot app (one comment on
 * `issues.opened`) on the same GitHub emulator, with the same app key and webhook secret, signed
 * deliveries over loopback HTTP. Runs alternate between the two (the emulator's webhook URL is
 * switched), so both see the same machine state. Latency = the emulator storing the issue (the
 * `issues.opened` delivery is queued at that moment) → the emulator storing the app's first
 * status comment on it.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createNodeMiddleware, Probot, ProbotOctokit } from "probot";
import { pino } from "pino";
import { STATUS_MARKER } from "../src/core/render-status.ts";
import { requestFormBody } from "../src/sandbox/request-body.ts";
import { SANDBOX_APP_ID, startSandbox } from "../src/sandbox/start-sandbox.ts";

export interface LatencyFigures {
  runs: number;
  breakglass: { p50: number; p95: number };
  bare: { p50: number; p95: number };
  /** API calls Breakglass makes up to and including its status comment, on the last run. */
  callsToStatus: number;
  callsToStatusByRoute: Array<[string, number]>;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

export async function benchWebhookLatency(runs = 40, warmup = 5): Promise<LatencyFigures> {
  // The sandbox's stack; the bare app shares its app key and webhook secret. The grant workflow is
  // not run: only the webhook → status comment path is measured.
  const sb = await startSandbox({ runWorkflows: false });
  const { emulator, clock, app: breakglass } = sb;
  const { appPrivateKey: appKey, webhookSecret } = sb.secrets;

  // The bare app: what every Probot tutorial starts with, configured like Breakglass's Probot.
  const bare = new Probot({
    appId: SANDBOX_APP_ID,
    privateKey: appKey,
    secret: webhookSecret,
    baseUrl: emulator.apiUrl,
    log: pino({ level: "silent" }),
    // Throttling off, as in Breakglass's sandbox configuration (with it on, octokit spaces comment
    // writes 3 s apart). The function form is needed: Probot overrides a plain `throttle` default.
    Octokit: ProbotOctokit.defaults((options: Record<string, unknown>) => ({ ...options, throttle: { ...(options.throttle as object), enabled: false } })),
  });
  const bareMiddleware = await createNodeMiddleware(
    (app) => {
      app.on("issues.opened", async (context) => {
        await context.octokit.rest.issues.createComment(context.issue({ body: "Thanks for opening this issue!" }));
      });
    },
    { probot: bare },
  );
  const bareServer = createServer((req, res) => void bareMiddleware(req, res, () => res.writeHead(404).end()));
  await new Promise<void>((resolve) => bareServer.listen(0, "127.0.0.1", resolve));
  const bareUrl = `http://127.0.0.1:${(bareServer.address() as AddressInfo).port}/api/github/webhooks`;
  const breakglassUrl = `${breakglass.url}/api/github/webhooks`;

  // Instrument the emulator's state: when an issue is stored, when its first app comment is stored.
  const repo = emulator.state.repository;
  const opened = new Map<number, number>();
  const waiting = new Map<number, { match: (body: string) => boolean; resolve: (ms: number) => void }>();
  const issuesSet = repo.issues.set.bind(repo.issues);
  repo.issues.set = (n, issue) => {
    if (!repo.issues.has(n)) opened.set(n, performance.now());
    return issuesSet(n, issue);
  };
  let statusMark = 0;
  const commentsSet = emulator.state.comments.set.bind(emulator.state.comments);
  const appLogin = sb.appLogin;
  emulator.state.comments.set = (id, comment) => {
    const w = waiting.get(comment.issueNumber);
    if (w && comment.user.login === appLogin && w.match(comment.body)) {
      waiting.delete(comment.issueNumber);
      statusMark = emulator.apiRequests.length;
      w.resolve(performance.now() - opened.get(comment.issueNumber)!);
    }
    return commentsSet(id, comment);
  };

  const dave = emulator.octokitFor("dave");
  const body = requestFormBody({ resource: "model-guardrail-override", role: "override", duration: "30m", severity: "critical" });
  const nextNumber = () => repo.nextIssueNumber;
  const once = async (which: "breakglass" | "bare"): Promise<number> => {
    emulator.setWebhookUrl(which === "breakglass" ? breakglassUrl : bareUrl);
    const n = nextNumber();
    const done = new Promise<number>((resolve) => waiting.set(n, { match: which === "breakglass" ? (b) => b.startsWith(STATUS_MARKER) : () => true, resolve }));
    if (which === "breakglass") {
      // A day between requests: the policy allows dave 2 a day, and each of his requests of the last
      // day is re-read (records and config) to count his usage; one request a day is the usual case.
      clock.advance(25 * 3600_000);
      await dave.rest.issues.create({ owner: "acme", repo: "ops", title: "[breakglass] model-guardrail-override override", labels: ["breakglass"], body });
    } else {
      await dave.rest.issues.create({ owner: "acme", repo: "ops", title: "Something is broken", body: "Steps to reproduce: …" });
    }
    const ms = await Promise.race([done, new Promise<number>((_, reject) => setTimeout(() => reject(new Error(`${which}: no status comment on #${n} within 10 s`)), 10_000))]);
    // Let the rest of the handler (labels, records) finish before the next run.
    await emulator.waitForIdle();
    return ms;
  };

  const times = { breakglass: [] as number[], bare: [] as number[] };
  let callsToStatus = 0;
  let byRoute: Array<[string, number]> = [];
  try {
    for (let i = 0; i < warmup + runs; i++) {
      // Alternate which goes first, so neither always follows the other.
      const order: Array<"breakglass" | "bare"> = i % 2 ? ["bare", "breakglass"] : ["breakglass", "bare"];
      for (const which of order) {
        const mark = emulator.apiRequests.length;
        const ms = await once(which);
        if (i >= warmup) times[which].push(ms);
        if (which === "breakglass" && i === warmup + runs - 1) {
          // Requests the emulator finished before it stored the status comment (that POST itself is logged after).
          const calls = emulator.apiRequests.slice(mark, statusMark).filter((r) => r.tokenKind === "installation" || r.tokenKind === "app");
          callsToStatus = calls.length + 1;
          const m = new Map<string, number>();
          for (const r of [...calls, { method: "POST", route: "/repos/{owner}/{repo}/issues/{issue_number}/comments" }]) m.set(`${r.method} ${r.route}`, (m.get(`${r.method} ${r.route}`) ?? 0) + 1);
          byRoute = [...m].sort((a, b) => b[1] - a[1]);
        }
      }
    }
  } finally {
    bareServer.closeAllConnections();
    await new Promise<void>((resolve) => bareServer.close(() => resolve()));
    await sb.close();
  }
  return {
    runs,
    breakglass: { p50: quantile(times.breakglass, 0.5), p95: quantile(times.breakglass, 0.95) },
    bare: { p50: quantile(times.bare, 0.5), p95: quantile(times.bare, 0.95) },
    callsToStatus,
    callsToStatusByRoute: byRoute,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await benchWebhookLatency());
