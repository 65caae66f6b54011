import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Octokit } from "@octokit/rest";
import type { JSONWebKeySet } from "jose";
import { appendRecord } from "../../src/github/issue-records.ts";
import { DEFAULT_LEDGER_REPO } from "../../src/github/git-ledger.ts";
import { octokitPort } from "../../src/github/octokit-port.ts";
import { createSigner, type AuditKey, type SignedEntry } from "../../src/core/audit-chain.ts";
import { parseDate, run } from "../../src/cli/commands/audit.ts";
import { UserError, type CliIO } from "../../src/cli/io.ts";
import { main } from "../../src/cli/main.ts";
import { FakeClock } from "../../src/sandbox/clock.ts";
import { startGitHubEmulator, type GitHubEmulator } from "../../src/sandbox/github/emulator.ts";
import {
  at,
  buildRepo,
  DAY,
  MIN,
  mixedHistory,
  OWNER,
  REPO,
  T0,
  tamperPayload,
  XSS,
} from "../audit/history-fixtures.ts";

interface FakeIO extends CliIO {
  out: string;
  err: string;
}

function fakeIO(env: Record<string, string | undefined>, cwd: string, stdin = ""): FakeIO {
  const io: FakeIO = {
    out: "",
    err: "",
    stdout: (t) => void (io.out += t),
    stderr: (t) => void (io.err += t),
    readStdin: async () => stdin,
    cwd,
    env,
  };
  return io;
}

const { publicKey: APP_PUBLIC_KEY } = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  publicKeyEncoding: { type: "spki", format: "pem" },
  privateKeyEncoding: { type: "pkcs8", format: "pem" },
});

describe("breakglass audit, against the GitHub emulator over HTTP", () => {
  let emulator: GitHubEmulator;
  let dir: string;
  let key: AuditKey;
  let jwks: JSONWebKeySet;
  let jwksServer: Server;
  let jwksUrl: string;
  let appOctokit: Octokit;
  /** Issue number on the emulator for each request of the fixture. */
  const numbers = new Map<number, number>();
  const env = () => ({ GITHUB_TOKEN: emulator.userToken("dave"), GITHUB_API_URL: emulator.apiUrl });
  const io = (extra: Record<string, string | undefined> = {}, stdin = "") =>
    fakeIO({ ...env(), ...extra }, dir, stdin);
  const jwksFile = () => join(dir, "jwks.json");

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "breakglass-audit-"));
    // GitHub's timestamps follow the records, as they do for the real app: an issue is opened, then recorded on.
    const clock = new FakeClock(T0 - MIN);
    emulator = await startGitHubEmulator({
      clock,
      appId: 4242,
      appSlug: "breakglass",
      appPublicKeyPem: APP_PUBLIC_KEY,
      webhookSecret: "unused",
      owner: OWNER,
      repo: REPO,
      users: ["dave", "erin", "ivan", "olga", "sam", "rita", "mallory", "bob", "carol"].map((login) => ({
        login,
      })),
      extraRepos: [DEFAULT_LEDGER_REPO],
      installationPermissions: { contents: "write", issues: "write", metadata: "read" },
    });
    emulator.initLedgerRepository(DEFAULT_LEDGER_REPO, { dave: "read", bob: "read" });
    appOctokit = new Octokit({ auth: emulator.installationToken(), baseUrl: emulator.apiUrl });
    const appPort = octokitPort(appOctokit, OWNER, REPO);
    const { specs, reviews } = mixedHistory();
    // The keys and events of the fixture, replayed onto real issues through the app's own appendRecord.
    const built = await buildRepo([]);
    key = built.key;
    jwks = built.jwks;
    const signer = createSigner(key.privateKey, key.kid);
    const dave = emulator.octokitFor("dave");
    for (const review of reviews) {
      const { data } = await appOctokit.rest.issues.create({
        owner: OWNER,
        repo: REPO,
        title: review.title,
        body: review.body,
        labels: review.labels,
      });
      numbers.set(review.number, data.number);
      if (review.state === "closed")
        await appOctokit.rest.issues.update({
          owner: OWNER,
          repo: REPO,
          issue_number: data.number,
          state: "closed",
        });
    }
    for (const spec of specs) {
      clock.set(T0 + spec.day * DAY);
      const { data } = await dave.rest.issues.create({
        owner: OWNER,
        repo: REPO,
        title: `[breakglass] request ${spec.number}`,
        body: "request",
        labels: spec.labels ?? ["breakglass"],
      });
      numbers.set(spec.number, data.number);
      const chain: SignedEntry[] = [];
      for (const [i, step] of spec.steps.entries()) {
        const event =
          step.event.type === "checklist_opened"
            ? { ...step.event, issue: numbers.get(step.event.issue)! }
            : step.event;
        clock.set(T0 + spec.day * DAY + step.t * MIN);
        chain.push(
          await appendRecord(appPort, data.number, chain, signer, {
            id: `${event.type}:${i}`,
            at: at(T0 + spec.day * DAY + step.t * MIN),
            event,
            text: `${event.type} happened`,
          }),
        );
      }
    }
    // A forged record in a person's comment: must never count.
    await emulator.octokitFor("mallory").rest.issues.createComment({
      owner: OWNER,
      repo: REPO,
      issue_number: numbers.get(2)!,
      body: "<!-- breakglass:record eyJhbGciOiJFUzI1NiJ9.eyJzZXEiOjN9.c2ln -->",
    });
    await writeFile(jwksFile(), JSON.stringify(jwks));
    jwksServer = createServer((req, res) => {
      if (req.url === "/breakglass/jwks.json")
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(jwks));
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, "127.0.0.1", resolve));
    jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/breakglass/jwks.json`;
  });

  after(async () => {
    await new Promise((resolve) => jwksServer?.close(resolve));
    await emulator?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const rowsOf = (text: string) =>
    JSON.parse(text) as Array<{
      issue: number;
      status: string;
      chain_status: string;
      justification: string | null;
      approvals: Array<{ via: string }>;
    }>;

  it("export json to stdout: every request, read and verified over HTTP", async () => {
    const out = io();
    assert.equal(await run(["export", "--repo", `${OWNER}/${REPO}`, "--jwks", jwksUrl], out), 0);
    const rows = rowsOf(out.out);
    assert.equal(rows.length, 11);
    assert.deepEqual(
      rows.map((r) => r.status),
      [
        "expired",
        "denied",
        "revoked",
        "revoke_failed",
        "revoked",
        "expired",
        "cancelled",
        "timed_out",
        "invalid",
        "expired",
        "new",
      ],
    );
    assert.ok(rows.every((r) => r.chain_status === "verified"));
    assert.equal(rows[2]!.justification, XSS);
    assert.equal(out.err, "", "quiet on a pipe, nothing to warn about");
  });

  it("without --jwks the export says, per row and on stderr, that nothing was verified", async () => {
    const out = io();
    assert.equal(await run(["export", "--repo", `${OWNER}/${REPO}`], out), 0);
    assert.ok(rowsOf(out.out).every((r) => r.chain_status === "unverified"));
    assert.match(out.err, /the records were not verified \(no --jwks\)/);
  });

  it("filters by dates (a plain --until date includes that whole day) and resource", async () => {
    const out = io();
    assert.equal(
      await run(
        [
          "export",
          "--repo",
          `${OWNER}/${REPO}`,
          "--since",
          "2026-03-04",
          "--until",
          "2026-03-06",
          "--resource",
          "prod-database",
          "--jwks",
          jwksFile(),
        ],
        out,
      ),
      0,
    );
    assert.deepEqual(
      rowsOf(out.out).map((r) => r.issue),
      [numbers.get(4), numbers.get(5)],
    );
  });

  it("writes csv, md and html files, the format taken from --format or the file name", async () => {
    const csv = io();
    assert.equal(
      await run(
        [
          "export",
          "--repo",
          `${OWNER}/${REPO}`,
          "--format",
          "csv",
          "--out",
          "out/audit.csv",
          "--jwks",
          jwksFile(),
        ],
        csv,
      ),
      0,
    );
    assert.equal(csv.out, "");
    assert.match(csv.err, /Wrote 11 request\(s\) as csv to out\/audit\.csv\./);
    const csvText = await readFile(join(dir, "out/audit.csv"), "utf8");
    assert.ok(csvText.startsWith("repository,issue,url,status,"));
    assert.ok(csvText.includes(`"'=HYPERLINK(""http://evil.example/x"",""click me"")"`));
    const md = io();
    assert.equal(
      await run(["export", "--repo", `${OWNER}/${REPO}`, "--out", "audit.md", "--jwks", jwksFile()], md),
      0,
    );
    assert.match(await readFile(join(dir, "audit.md"), "utf8"), /^# Break-glass audit: acme\/ops/);
    const html = io();
    assert.equal(
      await run(["export", "--repo", `${OWNER}/${REPO}`, "--out", "report.html", "--jwks", jwksFile()], html),
      0,
    );
    const page = await readFile(join(dir, "report.html"), "utf8");
    assert.match(page, /^<!doctype html>/);
    assert.ok(!page.includes(XSS));
    assert.match(page, /All 11 audit chain\(s\) verified/);
  });

  it("jsonl export verifies offline with verify --file (also from stdin); an edit is caught with its place", async () => {
    const exported = io();
    assert.equal(
      await run(
        ["export", "--repo", `${OWNER}/${REPO}`, "--format", "jsonl", "--out", "entries.jsonl"],
        exported,
      ),
      0,
    );
    const ok = io();
    assert.equal(await run(["verify", "--file", "entries.jsonl", "--jwks", jwksFile()], ok), 0);
    assert.match(ok.out, /^ok {6}acme\/ops#\d+: 6 entries verified$/m);
    assert.match(ok.out, /OK: 10 chain\(s\), 41 entries, every hash link and signature verified\./);
    const lines = (await readFile(join(dir, "entries.jsonl"), "utf8")).trimEnd().split("\n");
    const target = lines.findIndex((l) => (JSON.parse(l) as { issue: number }).issue === numbers.get(3));
    const edited = lines.map((l, i) => {
      if (i !== target + 2) return l;
      const record = JSON.parse(l) as { jws: string };
      return JSON.stringify({ ...record, jws: tamperPayload(record.jws) });
    });
    const bad = io({}, `${edited.join("\n")}\n`);
    assert.equal(await run(["verify", "--file", "-", "--jwks", jwksUrl], bad), 1);
    assert.match(bad.out, new RegExp(`^BROKEN  acme/ops#${numbers.get(3)}: entry 2: bad signature$`, "m"));
    assert.match(
      bad.out,
      new RegExp(
        `FAILED: 1 of 10 chain\\(s\\) broken\\. First break: acme/ops#${numbers.get(3)}, entry 2: bad signature`,
      ),
    );
    const dropped = io({}, `${lines.filter((_, i) => i !== target + 1).join("\n")}\n`);
    assert.equal(await run(["verify", "--file", "-", "--jwks", jwksFile()], dropped), 1);
    assert.match(dropped.out, /First break: .*, entry 1: seq is 2, expected 1/);
  });

  it("verify --repo checks the chains on GitHub, and catches an app comment edited afterwards", async () => {
    const good = io();
    assert.equal(await run(["verify", "--repo", `${OWNER}/${REPO}`, "--jwks", jwksUrl], good), 0);
    assert.match(good.out, /OK: 11 chain\(s\), 41 entries/);
    assert.match(good.out, /note: 1 record marker\(s\) in comments not written by the app were ignored/);
    const issue = numbers.get(10)!;
    const comments = await appOctokit.paginate(appOctokit.rest.issues.listComments, {
      owner: OWNER,
      repo: REPO,
      issue_number: issue,
      per_page: 100,
    });
    const victim = comments[4]!;
    const jws = /record (\S+) -->/.exec(victim.body ?? "")![1]!;
    await appOctokit.rest.issues.updateComment({
      owner: OWNER,
      repo: REPO,
      comment_id: victim.id,
      body: victim.body!.replace(jws, tamperPayload(jws)),
    });
    try {
      const bad = io();
      assert.equal(await run(["verify", "--repo", `${OWNER}/${REPO}`, "--jwks", jwksFile()], bad), 1);
      assert.match(
        bad.out,
        new RegExp(
          `First break: acme/ops#${issue}, entry 4: its \\w+ record was deleted from the issue's comments; the ledger holds it`,
        ),
      );
      const exported = io();
      assert.equal(await run(["export", "--repo", `${OWNER}/${REPO}`, "--jwks", jwksFile()], exported), 0);
      assert.equal(rowsOf(exported.out).find((r) => r.issue === issue)!.chain_status, "broken");
      assert.match(exported.err, new RegExp(`Warning: 1 audit chain\\(s\\) are broken \\(#${issue}\\)`));
    } finally {
      await appOctokit.rest.issues.updateComment({
        owner: OWNER,
        repo: REPO,
        comment_id: victim.id,
        body: victim.body!,
      });
    }
  });

  it("shows a progress bar on a terminal's stderr, and nothing on a pipe", async () => {
    const tty = io();
    assert.equal(
      await run(["export", "--repo", `${OWNER}/${REPO}`, "--format", "md"], tty, { isTTY: true }),
      0,
    );
    assert.match(tty.err, /^\r\[\.{30}\] {1,2}0\/11 issues/);
    assert.match(tty.err, /\r\[#{30}\] 11\/11 issues\n/);
    const pipe = io();
    assert.equal(
      await run(["export", "--repo", `${OWNER}/${REPO}`, "--format", "md"], pipe, { isTTY: false }),
      0,
    );
    assert.ok(!pipe.err.includes("\r"));
  });

  it("tells the user what to write instead", async () => {
    const cases: Array<[string[], Record<string, string | undefined>, RegExp]> = [
      [
        ["export", "--repo", "acme/ops"],
        { GITHUB_TOKEN: undefined, GH_TOKEN: undefined },
        /no GitHub token: set GITHUB_TOKEN \(or GH_TOKEN\)/,
      ],
      [["export"], {}, /--repo is required: give the repository as owner\/name/],
      [["export", "--repo", "acme"], {}, /--repo "acme" is not a repository: write it as owner\/name/],
      [["export", "--repo", "acme/../x"], {}, /is not a repository/],
      [
        ["export", "--repo", "acme/ops", "--since", "yesterday"],
        {},
        /--since yesterday is not a date: write it as 2026-01-31/,
      ],
      [
        ["export", "--repo", "acme/ops", "--since", "2026-02-30"],
        {},
        /--since 2026-02-30 is not a real date/,
      ],
      [
        ["export", "--repo", "acme/ops", "--until", "2026-02-30T10:00:00Z"],
        {},
        /--until 2026-02-30T10:00:00Z is not a real time/,
      ],
      [
        ["export", "--repo", "acme/ops", "--since", "2026-03-05", "--until", "2026-03-01"],
        {},
        /--since 2026-03-05 is not before --until 2026-03-01/,
      ],
      [
        ["export", "--repo", "acme/ops", "--format", "xlsx"],
        {},
        /unknown --format "xlsx": use one of json, jsonl, csv, md, html/,
      ],
      [
        ["export", "--repo", "acme/ops", "--colour"],
        {},
        /unknown option --colour: the options are --repo, --since/,
      ],
      [["export", "--repo", "acme/ops", "extra"], {}, /unexpected argument "extra"/],
      [
        ["export", "--repo", "acme/ops", "--app-login", "breakglass"],
        {},
        /--app-login "breakglass" is not an app's bot login: write it as <app-slug>\[bot\]/,
      ],
      [["export", "--repo", "acme/ops", "--api-url", "ftp://x"], {}, /must start with https:\/\//],
      [
        ["export", "--repo", "acme/ops", "--jwks", "missing.json"],
        {},
        /cannot read the key file missing\.json\. Give the app's key set/,
      ],
      [["verify", "--repo", "acme/ops"], {}, /verify needs the app's public keys: add --jwks/],
      [
        ["verify", "--repo", "acme/ops", "--file", "x.jsonl", "--jwks", "k.json"],
        {},
        /give exactly one of --repo owner\/name .* or --file entries\.jsonl/,
      ],
      [["verify", "--jwks", "k.json"], {}, /give exactly one of --repo/],
      [["summon"], {}, /unknown subcommand "summon"/],
    ];
    for (const [args, extra, message] of cases) {
      await assert.rejects(
        run(args, io(extra)),
        (error: unknown) => error instanceof UserError && message.test(error.message),
        `${args.join(" ")}`,
      );
    }
  });

  it("names GitHub's refusals: a bad token, a repository that is not there, an unreachable API", async () => {
    await assert.rejects(
      run(["export", "--repo", "acme/ops"], io({ GITHUB_TOKEN: "ghp_not-a-real-token" })),
      /GitHub refused the token \(401\)/,
    );
    await assert.rejects(
      run(["export", "--repo", "acme/nope"], io()),
      /acme\/nope was not found \(404\): check --repo and --api-url/,
    );
    const unreachable = (error: Error) => () => {
      const port = octokitPort(new Octokit({ baseUrl: "http://127.0.0.1:1" }), OWNER, REPO);
      port.listIssues = async () => {
        throw error;
      };
      return port;
    };
    // What Octokit throws when no response came back at all (its retries done).
    const noResponse = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { status: 500 });
    await assert.rejects(
      run(["verify", "--repo", "acme/ops", "--jwks", jwksFile()], io(), { portFor: unreachable(noResponse) }),
      /cannot reach GitHub \(connect ECONNREFUSED 127\.0\.0\.1:1\): check --api-url or GITHUB_API_URL/,
    );
    const forbidden = Object.assign(new Error("Resource not accessible by integration"), {
      status: 403,
      response: {},
    });
    await assert.rejects(
      run(["export", "--repo", "acme/ops"], io(), { portFor: unreachable(forbidden) }),
      /GitHub refused access to acme\/ops \(403: Resource not accessible by integration\): the token needs read access/,
    );
    const serverError = Object.assign(new Error("Bad gateway"), { status: 502, response: {} });
    await assert.rejects(
      run(["export", "--repo", "acme/ops"], io(), { portFor: unreachable(serverError) }),
      (e: unknown) => e === serverError,
      "other failures are not dressed up",
    );
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(
      run(["export", "--repo", "acme/ops", "--jwks", `http://127.0.0.1:${port}/jwks.json`], io()),
      /cannot fetch http:\/\/127\.0\.0\.1:\d+\/jwks\.json/,
    );
  });

  it("a bad key file, an empty or malformed jsonl are refused with the reason", async () => {
    await writeFile(
      join(dir, "private.json"),
      JSON.stringify({ keys: [{ kty: "oct", k: "c2VjcmV0", kid: "s" }] }),
    );
    await assert.rejects(
      run(["verify", "--file", "entries.jsonl", "--jwks", "private.json"], io()),
      /symmetric \(oct\) keys cannot be published/,
    );
    await writeFile(join(dir, "notkeys.json"), "{}");
    await assert.rejects(
      run(["verify", "--file", "entries.jsonl", "--jwks", "notkeys.json"], io()),
      /is not a key set: it needs \{"keys": \[ … \]\}/,
    );
    await writeFile(join(dir, "bad.jsonl"), '{"repo":"acme/ops","issue":1,"jws":"a.b.c"}\n{"repo":1}\n');
    await assert.rejects(
      run(["verify", "--file", "bad.jsonl", "--jwks", jwksFile()], io()),
      /bad\.jsonl: line 2: "repo" must be "owner\/name"/,
    );
    await assert.rejects(
      run(["verify", "--file", "-", "--jwks", jwksFile()], io({}, "")),
      /standard input: the file holds no records/,
    );
    await assert.rejects(
      run(["verify", "--file", "nope.jsonl", "--jwks", jwksFile()], io()),
      /cannot read nope\.jsonl/,
    );
  });

  it("through main(): help, exit codes and one-line errors", async () => {
    const help = io();
    assert.equal(await main(["audit", "--help"], help), 0);
    assert.match(help.out, /breakglass audit export --repo owner\/name/);
    const exportHelp = io();
    assert.equal(await main(["audit", "export", "--help"], exportHelp), 0);
    const missing = io({ GITHUB_TOKEN: undefined });
    assert.equal(await main(["audit", "export", "--repo", "acme/ops"], missing), 1);
    assert.equal(
      missing.err,
      "breakglass audit: no GitHub token: set GITHUB_TOKEN (or GH_TOKEN) to a token that can read the repository's issues, e.g. GITHUB_TOKEN=$(gh auth token).\n",
    );
    const gh = io({ GITHUB_TOKEN: undefined, GH_TOKEN: emulator.userToken("bob") });
    assert.equal(await main(["audit", "export", "--repo", "acme/ops", "--format", "csv"], gh), 0);
    assert.match(gh.out, /^repository,issue,/);
  });
});

describe("paging through many requests", () => {
  it("exports more than a page of issues and comments", async () => {
    const emulator = await startGitHubEmulator({
      appId: 4242,
      appPublicKeyPem: APP_PUBLIC_KEY,
      webhookSecret: "unused",
      owner: OWNER,
      repo: REPO,
      users: [{ login: "dave" }],
      extraRepos: [DEFAULT_LEDGER_REPO],
      installationPermissions: { contents: "write", issues: "write", metadata: "read" },
    });
    emulator.initLedgerRepository(DEFAULT_LEDGER_REPO, { dave: "read" });
    try {
      const built = await buildRepo([]);
      const signer = createSigner(built.key.privateKey, built.key.kid);
      const appPort = octokitPort(
        new Octokit({ auth: emulator.installationToken(), baseUrl: emulator.apiUrl }),
        OWNER,
        REPO,
      );
      // Requests are opened by people; an issue the app opens is one of its reviews, never a request.
      const davePort = octokitPort(
        new Octokit({ auth: emulator.userToken("dave"), baseUrl: emulator.apiUrl }),
        OWNER,
        REPO,
      );
      const { specs } = mixedHistory();
      const longest = specs.find((s) => s.number === 10)!;
      for (let n = 0; n < 103; n++) {
        const issue = await davePort.createIssue({
          title: `request ${n}`,
          body: "x",
          labels: ["breakglass"],
        });
        const requested = longest.steps[0]!.event;
        await appendRecord(appPort, issue.number, [], signer, {
          id: "requested",
          at: at(T0 + n * MIN),
          event: requested,
          text: "requested",
        });
      }
      // One issue whose history spans more than one page of comments.
      const issue = await davePort.createIssue({ title: "long", body: "x", labels: ["breakglass"] });
      let chain: SignedEntry[] = [];
      chain = [
        await appendRecord(appPort, issue.number, chain, signer, {
          id: "requested",
          at: at(T0 + 200 * MIN),
          event: longest.steps[0]!.event,
          text: "r",
        }),
      ];
      for (let i = 0; i < 105; i++) await appPort.createComment(issue.number, `chatter ${i}`);
      for (const [i, step] of longest.steps.slice(1).entries()) {
        chain.push(
          await appendRecord(appPort, issue.number, chain, signer, {
            id: `s${i}`,
            at: at(T0 + 200 * MIN + step.t * MIN),
            event: step.event,
            text: "s",
          }),
        );
      }
      await writeFile(join(tmpdir(), `jwks-${process.pid}.json`), JSON.stringify(built.jwks));
      const out = fakeIO({ GITHUB_TOKEN: emulator.userToken("dave") }, tmpdir());
      assert.equal(
        await run(
          [
            "export",
            "--repo",
            `${OWNER}/${REPO}`,
            "--api-url",
            emulator.apiUrl,
            "--jwks",
            `jwks-${process.pid}.json`,
          ],
          out,
        ),
        0,
      );
      const rows = JSON.parse(out.out) as Array<{
        status: string;
        chain_entries: number;
        chain_status: string;
      }>;
      assert.equal(rows.length, 104);
      assert.ok(rows.every((r) => r.chain_status === "verified"));
      assert.deepEqual([rows.at(-1)!.status, rows.at(-1)!.chain_entries], ["expired", 7]);
    } finally {
      await rm(join(tmpdir(), `jwks-${process.pid}.json`), { force: true });
      await emulator.close();
    }
  });
});

describe("parseDate", () => {
  it("a plain date is the start of the day for --since and the end of it for --until", () => {
    assert.equal(parseDate("2026-03-04", "since", "start"), "2026-03-04T00:00:00.000Z");
    assert.equal(parseDate("2026-03-04", "until", "end"), "2026-03-05T00:00:00.000Z");
    assert.equal(parseDate("2026-03-04T10:30:00+02:00", "since", "start"), "2026-03-04T08:30:00.000Z");
    assert.equal(parseDate("2024-02-29", "since", "start"), "2024-02-29T00:00:00.000Z");
    assert.throws(() => parseDate("2025-02-29", "since", "start"), /not a real date/);
    assert.throws(() => parseDate("2026-03-04T25:00:00Z", "since", "start"), /not a/);
    assert.throws(() => parseDate("2026-03-04 10:00", "since", "start"), /not a date/);
  });
});
