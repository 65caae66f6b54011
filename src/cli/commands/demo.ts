import { REQUEST_LABEL, AUDIT_LABEL, ACCESS_REVIEW_LABEL } from "../../core/labels.ts";
import { readRecordMarker } from "../../core/record-marker.ts";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { verifyChain } from "../../core/audit-chain.ts";
import { formatDuration } from "../../core/duration.ts";
import { introspect } from "../../providers/jwt.ts";
import { requestFormBody } from "../../sandbox/request-body.ts";
import {
  repositoryFilesFrom,
  SANDBOX_JWT_ISSUER,
  startSandbox,
  type Sandbox,
} from "../../sandbox/start-sandbox.ts";
import { castDemo } from "../demo-cast.ts";
import type { CliIO } from "../io.ts";
import { UserError } from "../io.ts";
import { RequestSession } from "../../app/infra/request-session.ts";
import { demoNextSteps } from "./demo-next-steps.ts";

const PROJECT_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const WORKFLOWS = ["breakglass-grant.yml", "breakglass-sweep.yml", "breakglass-drill.yml"];

const HELP = `Usage: breakglass demo [--keep] [--root DIR]

Plays the whole break-glass lifecycle locally: a GitHub API emulator, a local OIDC issuer, the real
Breakglass app (Probot over HTTP) and the real Action as a separate process. No network needed.

  --keep       leave the sandbox running afterwards and print what to do with it: a GitHub token
               per demo user, the URLs, commands that open and approve a request and export the
               audit evidence (Ctrl-C to stop)
  --root DIR   play it on DIR's policies/, CODEOWNERS and issue form (default: current directory): a
               policy with a \`provider: jwt\` role is requested, its CODEOWNERS teams get made-up
               members who approve, and the organisation is the one those teams belong to
`;

export async function run(args: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { keep: { type: "boolean" }, root: { type: "string" }, help: { type: "boolean", short: "h" } },
    strict: true,
  }).valueOf() as { values: { keep?: boolean; root?: string; help?: boolean } };
  if (values.help) {
    io.stdout(HELP);
    return 0;
  }
  const started = Date.now();
  const root = resolve(io.cwd, values.root ?? ".");
  const own = await repositoryFilesFrom(root);
  const cast = castDemo(own);
  // The workflows are the product's, not the story's: a repository without them yet gets this project's.
  const missing: Record<string, string> = {};
  for (const w of WORKFLOWS)
    if (own[`.github/workflows/${w}`] === undefined)
      missing[`.github/workflows/${w}`] = await readFile(join(PROJECT_ROOT, ".github/workflows", w), "utf8");
  let credential = "";
  let sandbox: Sandbox | null = null;
  const say = (who: string, what: string) => {
    const t = sandbox ? new Date(sandbox.clock.now()).toISOString().slice(11, 19) : "--:--:--";
    io.stdout(`${t}  ${who.padEnd(16)} ${what}\n`);
  };
  const step = (title: string) => io.stdout(`\n== ${title}\n`);
  const shown = new Set<number>();
  const show = (issue: number) => showNew(sandbox!, cast.requester, issue, say, shown);
  try {
    sandbox = await startSandbox({
      root,
      files: missing,
      owner: cast.owner,
      teams: cast.teams,
      users: [
        ...cast.users.map((login) => ({ login })),
        { login: "github-actions[bot]", type: "Bot" as const },
      ],
      holdJob: async (env) => {
        credential = env.BREAKGLASS_TOKEN ?? "";
      },
      accessReviews: true,
    });
    const sb = sandbox;
    const [owner, repo] = sb.repository.split("/") as [string, string];
    const { resource, role, requester, outsider } = cast;
    const duration = formatDuration(cast.durationSeconds);
    io.stdout(
      `Breakglass demo on ${root}: ${role} on ${resource} (policies/${resource}.yml), approvers ${cast.approvers.join(", ")} (made-up members of its owners)\n`,
    );
    io.stdout(
      `Sandbox GitHub at ${sb.emulator.apiUrl}, app at ${sb.app.url}, OIDC issuer at ${sb.issuer.url}\n`,
    );
    if (Object.keys(missing).length)
      io.stdout(`(${Object.keys(missing).join(", ")} not in ${root}: this project's copies are used)\n`);

    step("1. An engineer opens a request issue");
    const person = sb.as(requester);
    const { data: issue } = await person.rest.issues.create({
      owner,
      repo,
      title: `[breakglass] ${resource} ${role}`,
      labels: [REQUEST_LABEL],
      body: requestFormBody({
        resource,
        role,
        duration,
        severity: "critical",
        justification:
          "Production incident: customers are down since the 09:00 deploy and we need this access to roll it back.",
        incident: "https://status.example.com/incidents/42",
      }),
    });
    say(requester, `opened #${issue.number}: ${role} on ${resource} for ${duration}`);
    await sb.settle();
    await show(issue.number);

    step("2. Wrong people try to approve");
    for (const [who, body] of [
      [requester, "/approve"],
      [outsider, "/approve looks fine"],
    ] as const) {
      await sb.as(who).rest.issues.createComment({ owner, repo, issue_number: issue.number, body });
      say(who, `commented ${body}`);
      await sb.settle();
      await show(issue.number);
    }

    step(
      `3. ${cast.approvers.length === 1 ? "A CODEOWNER of the policy approves" : `${cast.approvers.length} owners of the policy approve`}`,
    );
    /** Each owner approves in turn (signing where the policy asks for step-up) until `done`. */
    const approveAll = async (n: number, note: string, done: () => Promise<boolean>) => {
      for (const who of cast.approvers) {
        if (await done()) break;
        const { data: plain } = await sb.as(who).rest.issues.createComment({
          owner,
          repo,
          issue_number: n,
          body: `/approve ${note}`,
        });
        say(who, "commented /approve (a plain comment: a stolen session could write it)");
        await sb.settle();
        await show(n);
        // A policy that asks for step-up refuses the plain comment; the approver then signs.
        const answers = await sb.as(who).paginate(sb.as(who).rest.issues.listComments, {
          owner,
          repo,
          issue_number: n,
          since: plain.created_at,
          per_page: 100,
        });
        if (
          !answers.some((c) => c.user?.login === sb.appLogin && (c.body ?? "").includes("step_up_required"))
        )
          continue;
        const key = await sb.signingKeyOf(who);
        say(
          who,
          "added an SSH key to GitHub as a *signing* key (on a laptop: ssh-keygen -t ed25519-sk, a security key)",
        );
        say(
          who,
          `runs breakglass approve ${sb.repository}#${n}: ssh-keygen -Y sign -n breakglass over the request hash, posted as /approve`,
        );
        await sb.approveSigned(who, n, { key, note });
        await show(n);
      }
    };
    await approveAll(issue.number, "confirmed with the incident commander", async () =>
      sb.runs.some((r) => r.issue === issue.number),
    );
    const run = sb.runs.find((r) => r.issue === issue.number);
    if (!run) throw new Error("the app did not dispatch the grant workflow");
    const action = await run.result;
    say(
      "grant workflow",
      `the Action ran as a real process: exit ${action.exitCode}; exported ${Object.keys(action.env).join(", ") || "nothing"} (masked: ${action.masked.length} value(s))`,
    );
    if (action.exitCode !== 0) throw new Error(`the Action failed:\n${action.stdout}\n${action.stderr}`);
    const before = await introspect(credential, {
      jwks: sb.app.deps.jwks,
      issuer: SANDBOX_JWT_ISSUER,
      revocations: null,
      now: sb.clock.now(),
    });
    say(
      "service",
      `verifies the break-glass JWT: ${before.active ? "ACTIVE" : `inactive (${before.reason})`}`,
    );

    step("4. Time passes: the grant expires");
    await sb.advance((cast.durationSeconds + 60) * 1000);
    await show(issue.number);
    const after = await fetchIntrospection(sb, credential);
    say(
      "service",
      `checks the same JWT at the app's introspection route: ${after.active ? "STILL ACTIVE" : "inactive — revoked"}`,
    );

    step("5. Closed, reviewed, and provable");
    const { data: closed } = await person.rest.issues.get({ owner, repo, issue_number: issue.number });
    say("github", `#${issue.number} is ${closed.state} (${closed.state_reason ?? "—"})`);
    const { data: audits } = await person.rest.issues.listForRepo({
      owner,
      repo,
      labels: AUDIT_LABEL,
      state: "open",
    });
    for (const a of audits)
      say(
        "github",
        `post-event review #${a.number} opened: "${a.title}", assigned to ${a.assignees?.map((u) => u.login).join(", ") || "—"}`,
      );
    const comments = await person.paginate(person.rest.issues.listComments, {
      owner,
      repo,
      issue_number: issue.number,
      per_page: 100,
    });
    const records = comments
      .filter((c) => c.user?.login === sb.appLogin)
      .map((c) => readRecordMarker(c.body))
      .filter((j): j is string => Boolean(j));
    const verified = await verifyChain(records, sb.app.deps.jwks, {
      repo: sb.repository,
      issue: issue.number,
    });
    say(
      "auditor",
      verified.ok
        ? `audit chain of #${issue.number}: ${verified.entries.length} signed, hash-chained entries — verified`
        : `audit chain BROKEN at ${verified.index}: ${verified.reason}`,
    );

    step("6. Governance: a retroactive record, and the access review");
    // A retroactive record needs the form's Retroactive record field (a repository's older form may lack it).
    const form = own[".github/ISSUE_TEMPLATE/breakglass-request.yml"] ?? "";
    let retroOk = true;
    if (/id:\s*retroactive\b/.test(form)) {
      const at = (hoursAgo: number) =>
        new Date(sb.clock.now() - hoursAgo * 3600_000).toISOString().slice(0, 16) + "Z";
      const { data: retro } = await person.rest.issues.create({
        owner,
        repo,
        title: `[breakglass] ${resource} ${role}`,
        labels: [REQUEST_LABEL],
        body: requestFormBody({
          resource,
          role,
          severity: "critical",
          justification:
            "GitHub was down during the incident: used the sealed fallback credential, then rotated it.",
          retroactive: { started: at(3), ended: at(2) },
        }),
      });
      say(
        requester,
        `recorded #${retro.number} retroactively (breakglass retro): access taken ${at(3)}–${at(2)} while GitHub was down`,
      );
      await sb.settle();
      await show(retro.number);
      await approveAll(
        retro.number,
        "seen in the incident channel",
        async () =>
          (await person.rest.issues.get({ owner, repo, issue_number: retro.number })).data.state === "closed",
      );
      const port = await sb.app.portFor(owner, repo);
      const recorded = port ? (await RequestSession.open(sb.app.deps, port, retro.number)).state : null;
      retroOk = recorded?.status === "recorded" && recorded.grant === null && recorded.review_issue !== null;
      say(
        "github",
        `#${retro.number} is ${recorded?.status ?? "?"}: no credential was issued for it; post-event review #${recorded?.review_issue ?? "—"} opened`,
      );
    } else
      say(
        "demo",
        "the repository's request form has no Retroactive record field: skipped (see breakglass init's form)",
      );
    await sb.app.reconcileAll();
    await sb.settle();
    const { data: reviews } = await person.rest.issues.listForRepo({
      owner,
      repo,
      labels: ACCESS_REVIEW_LABEL,
      state: "all",
    });
    const accessReview = reviews[0];
    let reviewOk = false;
    if (accessReview) {
      say(
        "github",
        `the sweep opened "${accessReview.title}" (#${accessReview.number}): who may request and approve each resource, last uses, unused eligibility`,
      );
      const confirmer = cast.approvers[0]!;
      await sb.as(confirmer).rest.issues.createComment({
        owner,
        repo,
        issue_number: accessReview.number,
        body: `/confirm ${resource}`,
      });
      say(confirmer, `commented /confirm ${resource} (ticking the box would confirm nothing)`);
      await sb.settle();
      await show(accessReview.number);
      const { data: body } = await person.rest.issues.get({ owner, repo, issue_number: accessReview.number });
      reviewOk = new RegExp(`\`${resource}\` — ✅ confirmed`).test(body.body ?? "");
    }

    // Several resources in one request: each approved by its own owners, granted and ended on its own.
    let severalOk = true;
    const { second } = cast;
    if (second && /id:\s*more\b/.test(form)) {
      step("7. Several resources in one request");
      const engineer = sb.as(outsider);
      const { data: both } = await engineer.rest.issues.create({
        owner,
        repo,
        title: `[breakglass] ${resource} ${role}`,
        labels: [REQUEST_LABEL],
        body: requestFormBody({
          resource,
          role,
          duration,
          severity: "critical",
          justification:
            "The bad deploy reached the model too: the guardrail blocks everything and the model needs its rollback.",
          incident: "https://status.example.com/incidents/42",
          more: [`${second.resource} ${second.role} ${formatDuration(second.durationSeconds)}`],
        }),
      });
      say(
        outsider,
        `opened #${both.number}: ${role} on ${resource} and, under More resources, ${second.role} on ${second.resource}`,
      );
      await sb.settle();
      await show(both.number);
      const port = await sb.app.portFor(owner, repo);
      const partsOf = async () =>
        port ? ((await RequestSession.open(sb.app.deps, port, both.number)).state.parts ?? {}) : {};
      await approveAll(both.number, "both are needed for the rollback", async () =>
        Object.values(await partsOf()).every((p) => p.status !== "requested"),
      );
      const runs = sb.runs.filter((r) => r.issue === both.number);
      for (const r of runs) {
        const result = await r.result;
        say(
          "grant workflow",
          `a run of its own per resource: exit ${result.exitCode}, exported ${Object.keys(result.env).join(", ") || "nothing"}`,
        );
      }
      await sb.advance((Math.max(cast.durationSeconds, second.durationSeconds) + 60) * 1000);
      await show(both.number);
      const ended = await partsOf();
      const whole = port ? (await RequestSession.open(sb.app.deps, port, both.number)).state : null;
      severalOk =
        runs.length === 2 &&
        Object.keys(ended).length === 2 &&
        Object.values(ended).every((p) => p.grant?.ended) &&
        whole?.closed === true &&
        whole.review_issue !== null;
      say(
        "github",
        `#${both.number}: ${Object.entries(ended)
          .map(([name, p]) => `${name} ${p.status}`)
          .join(", ")}; closed with one post-event review (#${whole?.review_issue ?? "—"}) for both`,
      );
    }

    const ok =
      severalOk &&
      retroOk &&
      reviewOk &&
      before.active &&
      !after.active &&
      closed.state === "closed" &&
      audits.length > 0 &&
      verified.ok &&
      action.exitCode === 0 &&
      !Object.values(action.env).some((v) => comments.some((c) => c.body?.includes(v)));
    io.stdout(
      `\n${ok ? "✅ Demo passed" : "❌ Demo FAILED"} in ${formatDuration(Math.max(1, Math.round((Date.now() - started) / 1000)))} of wall time (${comments.length} comments on #${issue.number}, ${sb.emulator.apiRequests.length} GitHub API calls).\n`,
    );
    if (values.keep) {
      const approver = cast.approvers[0]!;
      const stepUp =
        (
          await sb.app
            .portFor(owner, repo)
            .then((port) => (port ? RequestSession.open(sb.app.deps, port, issue.number) : null))
        )?.policy()?.approvals.step_up ?? "none";
      const approverKey =
        stepUp !== "none" && !(Array.isArray(stepUp) && stepUp.length === 0)
          ? await sb.signingKeyOf(approver)
          : undefined;
      io.stdout(
        demoNextSteps(sb, {
          resource,
          role,
          requester,
          approver,
          users: cast.users,
          ...(approverKey ? { approverKey } : {}),
        }),
      );
      // From here the sandbox's clock follows the wall clock, so what people do gets real timestamps
      // (an approval is newer than the request it approves) and grants end when they should.
      let stopped = false;
      const stop = new Promise<void>((resolve) => process.once("SIGINT", () => resolve())).then(
        () => void (stopped = true),
      );
      for (let last = Date.now(); !stopped;) {
        await Promise.race([stop, new Promise((r) => setTimeout(r, 1000))]);
        const now = Date.now();
        if (!stopped)
          await sb.advance(now - last).catch((error: Error) => io.stderr(`sandbox: ${error.message}\n`));
        last = now;
      }
    }
    return ok ? 0 : 1;
  } catch (error) {
    if (error instanceof UserError) throw error;
    io.stderr(`demo failed: ${(error as Error).stack ?? error}\n`);
    return 1;
  } finally {
    await sandbox?.close();
  }
}

/** Prints the app's comments on the issue that were not printed yet (one line each). */
async function showNew(
  sb: Sandbox,
  reader: string,
  issue: number,
  say: (who: string, what: string) => void,
  shown: Set<number>,
): Promise<void> {
  const [owner, repo] = sb.repository.split("/") as [string, string];
  const comments = await sb
    .as(reader)
    .paginate(sb.as(reader).rest.issues.listComments, { owner, repo, issue_number: issue, per_page: 100 });
  for (const c of comments) {
    if (shown.has(c.id) || c.user?.login !== sb.appLogin || c.body?.startsWith("<!-- breakglass:status"))
      continue;
    shown.add(c.id);
    const first = (c.body ?? "").split("\n").find((l) => l.trim() && !l.startsWith("<!--")) ?? "";
    say(
      "breakglass[bot]",
      first
        .replace(/<[^>]+>/g, "")
        .replace(/\u200b/g, "")
        .slice(0, 160),
    );
  }
}

async function fetchIntrospection(sb: Sandbox, token: string): Promise<{ active: boolean }> {
  const res = await fetch(`${sb.app.url}/breakglass/introspect`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token }),
  });
  return (await res.json()) as { active: boolean };
}
