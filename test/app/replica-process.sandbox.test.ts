/**
 * Two app *processes*: the sandbox's app and a second one started the way `npm start` starts it
 * (`src/app/main.ts` with its configuration from the environment), behind one load balancer that
 * delivers every webhook to both and spreads the Action's calls between them. GitHub (the emulator)
 * is all they share. Each request must be granted once, revoked once, closed once, reviewed once.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { after, before, it } from "node:test";
import { readHistory } from "../../src/github/issue-records.ts";
import {
  SANDBOX_APP_ID,
  SANDBOX_AUDIENCE,
  SANDBOX_JWT_ISSUER,
  SANDBOX_OWNER as owner,
  SANDBOX_REPO as repo,
  startSandbox,
  type Sandbox,
} from "../../src/sandbox/start-sandbox.ts";
import { startLoadBalancer } from "../support/load-balancer.ts";
import { sandboxHelpers } from "../support/sandbox-helpers.ts";

let sb: Sandbox;
let child: ChildProcess;
let childUrl = "";
let lb: Awaited<ReturnType<typeof startLoadBalancer>> | undefined;
let turn = 0;
/** What the second process answered, by kind: proof that it did its share, not just the first one. */
const childAnswers = { webhook: [] as number[], action: [] as number[] };
const childLog: string[] = [];
const { approve, openRequest, say, issueOf } = sandboxHelpers(() => sb);

before(async () => {
  // The second process keeps real time; the sandbox clock starts now so both agree.
  sb = await startSandbox({ startMs: Date.now() });
  const api = new URL(sb.emulator.apiUrl);
  child = spawn(process.execPath, ["--import", "tsx", "src/app/main.ts"], {
    env: {
      PATH: process.env.PATH ?? "",
      APP_ID: String(SANDBOX_APP_ID),
      PRIVATE_KEY: sb.secrets.appPrivateKey,
      WEBHOOK_SECRET: sb.secrets.webhookSecret,
      BREAKGLASS_APP_SLUG: "breakglass",
      BREAKGLASS_PUBLIC_URL: SANDBOX_JWT_ISSUER,
      BREAKGLASS_SIGNING_KEY: sb.secrets.signingKeyPem,
      BREAKGLASS_SEAL_KEY: sb.secrets.sealKey,
      BREAKGLASS_OIDC_ISSUER: sb.issuer.url,
      BREAKGLASS_OIDC_AUDIENCE: SANDBOX_AUDIENCE,
      BREAKGLASS_THROTTLE: "rate-limits-only",
      GHE_HOST: api.host,
      GHE_PROTOCOL: "http",
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "warn",
      ...(process.env.NODE_V8_COVERAGE ? { NODE_V8_COVERAGE: process.env.NODE_V8_COVERAGE } : {}),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stderr!.on("data", (d: Buffer) => childLog.push(d.toString()));
  childUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the second process did not start:\n${childLog.join("")}`)),
      30_000,
    );
    child.stdout!.on("data", (d: Buffer) => {
      childLog.push(d.toString());
      const m = /listening on (http:\/\/[^"\s]+)/.exec(d.toString());
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
  });
  lb = await startLoadBalancer(
    sb,
    (webhook) => (webhook ? [sb.app.url, childUrl] : [[sb.app.url, childUrl][turn++ % 2]!]),
    (answer) => {
      if (answer.target === childUrl) childAnswers[answer.webhook ? "webhook" : "action"].push(answer.status);
    },
  );
});
after(async () => {
  child?.kill();
  await lb?.close();
  await sb?.close();
});

/** Waits until both processes are done with what the emulator sent them (the child has no settle()). */
async function quiet(n: number, until: (status: string) => boolean): Promise<void> {
  for (let i = 0; i < 100; i++) {
    await sb.settle();
    const h = await readHistory(
      (await sb.app.portFor(owner, repo))!,
      n,
      sb.app.deps.identity,
      sb.app.deps.jwks,
    );
    if (until(h.state.status) && (h.state.status !== "revoked" || h.state.closed)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

it("every webhook to both processes: each request granted once, revoked once, closed once, one review", async () => {
  const people = ["erin", "ivan", "olga"];
  const issues: number[] = [];
  for (const who of people)
    issues.push(
      await openRequest(who, {
        resource: "model-guardrail-override",
        role: "override",
        duration: "30m",
        severity: "critical",
      }),
    );
  for (const n of issues) {
    await approve("grace", n);
    await quiet(n, (s) => s === "active");
  }
  for (const n of issues) {
    await say("grace", n, "/revoke incident over");
    await quiet(n, (s) => s === "revoked");
  }
  await new Promise((r) => setTimeout(r, 500));
  await sb.settle();
  for (const n of issues) {
    const h = await readHistory(
      (await sb.app.portFor(owner, repo))!,
      n,
      sb.app.deps.identity,
      sb.app.deps.jwks,
    );
    const count = (type: string) => h.events.filter((e) => e.type === type).length;
    assert.ok(
      h.problems.every((p) => /^record seq \d+ skipped/.test(p)),
      `#${n}: ${h.problems.join("; ")}\n${childLog.join("")}`,
    );
    assert.equal(h.state.status, "revoked", `#${n}`);
    assert.equal(count("granted"), 1, `#${n}: one grant`);
    assert.equal(count("revoked"), 1, `#${n}: one revocation`);
    assert.equal(count("closed"), 1, `#${n}: one close`);
    assert.equal((await issueOf(n)).state, "closed");
    const reviews = (
      await sb.as("sam").paginate(sb.as("sam").rest.issues.listForRepo, {
        owner,
        repo,
        labels: "breakglass:audit",
        state: "all",
        per_page: 100,
      })
    ).filter((i) => i.title.includes(`Review #${n} `));
    assert.equal(reviews.length, 1, `#${n}: one review issue`);
    const runs = await Promise.all(sb.runs.filter((r) => r.issue === n).map((r) => r.result));
    assert.equal(
      runs.filter((r) => r.exitCode === 0).length,
      1,
      `#${n}: one grant workflow run got credentials`,
    );
  }
  assert.ok(
    childAnswers.webhook.length >= 12,
    `the second process received every webhook (${childAnswers.webhook.length})`,
  );
  assert.ok(
    childAnswers.webhook.every((s) => s >= 200 && s < 300),
    `and handled each without error: ${childAnswers.webhook.join(",")}\n${childLog.join("")}`,
  );
  assert.ok(
    childAnswers.action.some((s) => s === 200),
    `it also served the Action (exchange or release): ${childAnswers.action.join(",")}`,
  );
});
