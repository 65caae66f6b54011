import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { appendEntry, createSigner, generateAuditKey } from "../../src/core/audit-chain.ts";
import { collectAudit, type AuditCollection } from "../../src/audit/collect.ts";
import type { AuditRow } from "../../src/audit/audit-row.ts";
import { UNVERIFIED_PROBLEM } from "../../src/audit/read-request.ts";
import {
  at,
  buildRepo,
  DAY,
  fakePort,
  FORMULA,
  MIN,
  mixedHistory,
  recordComment,
  REPOSITORY,
  T0,
  tamperPayload,
  XSS,
  type BuiltRepo,
} from "./history-fixtures.ts";

const NOW = T0 + 30 * DAY;

describe("collectAudit", () => {
  let repo: BuiltRepo;
  let result: AuditCollection;
  const row = (issue: number): AuditRow => {
    const found = result.rows.find((r) => r.issue === issue);
    assert.ok(found, `row for #${issue}`);
    return found;
  };

  before(async () => {
    const { specs, reviews } = mixedHistory();
    repo = await buildRepo(specs, reviews);
    result = await collectAudit(fakePort(repo), { jwks: repo.jwks, now: NOW });
  });

  it("gives one row per request issue, oldest first, and leaves the review issues out", () => {
    assert.deepEqual(
      result.rows.map((r) => r.issue),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
    );
    assert.equal(result.repository, REPOSITORY);
    assert.equal(result.verified, true);
    assert.ok(
      result.rows.slice(0, 10).every((r) => r.chain_status === "verified" && r.chain_problem === null),
      JSON.stringify(result.rows.map((r) => r.chain_problem)),
    );
  });

  it("approved by a CODEOWNER, granted and expired: times, durations, credential and the closed review", () => {
    const r = row(1);
    assert.equal(r.status, "expired");
    assert.equal(r.requester, "dave");
    assert.equal(r.resource, "prod-database");
    assert.equal(r.role, "read");
    assert.equal(r.severity, "high");
    assert.equal(r.incident, "INC-101");
    assert.deepEqual(r.approvals, [{ login: "bob", via: "codeowner", detail: null, at: at(T0 + 5 * MIN) }]);
    assert.equal(r.requested_at, at(T0));
    assert.equal(r.approved_at, at(T0 + 5 * MIN));
    assert.equal(r.granted_at, at(T0 + 7 * MIN));
    assert.equal(r.ended_at, at(T0 + 68 * MIN));
    assert.equal(r.ended_reason, "expired");
    assert.equal(r.duration_requested_seconds, 3600);
    assert.equal(r.duration_used_seconds, 61 * 60);
    assert.equal(r.time_to_approve_seconds, 300);
    assert.equal(r.time_to_grant_seconds, 420);
    assert.equal(r.time_to_revoke_seconds, 60, "revoked one minute after it expired");
    assert.equal(r.provider, "postgres");
    assert.equal(r.credential_id, "bg_dave_1");
    assert.deepEqual(
      [r.checklist_issue, r.checklist_status, r.checklist_checked, r.checklist_total],
      [20, "closed", 2, 2],
    );
    assert.deepEqual(r.flags, []);
    assert.equal(r.chain_entries, 6);
    assert.equal(r.drill, false);
    assert.equal(r.drill_result, null);
  });

  it("denied: who and why, no grant, and the formula kept verbatim (formats neutralise it)", () => {
    const r = row(2);
    assert.equal(r.status, "denied");
    assert.equal(r.ended_reason, "denied");
    assert.equal(r.ended_by, "bob");
    assert.equal(r.ended_note, "Use the read role.");
    assert.equal(r.granted_at, null);
    assert.equal(r.duration_used_seconds, null);
    assert.equal(r.justification, FORMULA);
    assert.equal(r.incident, null);
  });

  it("approved through a team and revoked by hand; the open review counts 1 of 3 items", () => {
    const r = row(3);
    assert.equal(r.status, "revoked");
    assert.equal(r.ended_reason, "revoked");
    assert.equal(r.ended_by, "bob");
    assert.deepEqual(
      r.approvals.map((a) => [a.login, a.via, a.detail]),
      [["carol", "team", "@acme/ai-governance"]],
    );
    assert.equal(r.duration_used_seconds, 17 * 60);
    assert.equal(r.time_to_revoke_seconds, null, "a revocation by hand has no due time on record");
    assert.equal(r.justification, XSS);
    assert.deepEqual([r.checklist_status, r.checklist_checked, r.checklist_total], ["open", 1, 3]);
  });

  it("revocation failing: status revoke_failed, still in use at export time, flagged", () => {
    const r = row(4);
    assert.equal(r.status, "revoke_failed");
    assert.equal(r.ended_at, null);
    assert.equal(r.ended_reason, null);
    assert.equal(r.revocation_failures, 2);
    assert.equal(r.last_revocation_error, "AccessDenied: iam:PutRolePolicy");
    assert.equal(r.duration_used_seconds, Math.round((NOW - (T0 + 3 * DAY + 2 * MIN)) / 1000));
    assert.deepEqual(r.flags, ["outlived_expiry", "revoke_failed"]);
    assert.equal(r.approvals[0]?.via, "listed");
  });

  it("break-glass self-approval, used twice by the same person, is flagged on both requests", () => {
    const five = row(5);
    assert.equal(five.break_glass, true);
    assert.equal(five.break_glass_reason, "No approver reachable in 10 minutes.");
    assert.deepEqual(
      five.approvals.map((a) => [a.login, a.via]),
      [["olga", "break_glass"]],
    );
    assert.equal(five.ended_reason, "job_ended");
    assert.deepEqual(five.flags, ["break_glass", "repeat_break_glass"]);
    const seven = row(7);
    assert.equal(seven.status, "cancelled");
    assert.equal(seven.ended_reason, "cancelled");
    assert.equal(seven.ended_note, "fixed itself");
    assert.deepEqual(seven.flags, ["break_glass", "repeat_break_glass"]);
  });

  it("a drill auto-approved by rule that granted and expired cleanly passed", () => {
    const r = row(6);
    assert.equal(r.drill, true);
    assert.equal(r.drill_result, "passed");
    assert.deepEqual(
      r.approvals.map((a) => [a.login, a.via, a.detail]),
      [["breakglass[bot]", "auto", "drills"]],
    );
  });

  it("timed out, refused by limits, extended, and an issue without records", () => {
    assert.equal(row(8).status, "timed_out");
    assert.equal(row(8).ended_reason, "timed_out");
    assert.equal(row(9).status, "invalid");
    assert.deepEqual(row(9).flags, ["limit_refused"]);
    const ten = row(10);
    assert.equal(ten.duration_extended_seconds, 1800);
    assert.deepEqual(ten.flags, ["extended"]);
    const empty = row(11);
    assert.equal(empty.status, "new");
    assert.equal(empty.chain_entries, 0);
    assert.equal(empty.requested_at, at(T0 + 10 * DAY), "dated by the issue when there is no record");
  });

  it("exports the records of every chain in order, for verify --file", () => {
    const ofOne = result.records.filter((r) => r.issue === 1);
    assert.deepEqual(
      ofOne.map((r) => r.jws),
      repo.chains.get(1)!.map((e) => e.jws),
    );
    assert.equal(
      result.records.length,
      [...repo.chains.values()].reduce((n, c) => n + c.length, 0),
    );
    assert.ok(result.records.every((r) => r.repo === REPOSITORY));
  });

  it("without keys reads the same rows but marks every chain unverified", async () => {
    const unverified = await collectAudit(fakePort(repo), { now: NOW });
    assert.equal(unverified.verified, false);
    assert.ok(
      unverified.rows.every(
        (r) => r.chain_status === "unverified" && r.chain_problem?.startsWith(UNVERIFIED_PROBLEM),
      ),
    );
    const strip = (rows: AuditRow[]) => rows.map(({ chain_status: _s, chain_problem: _p, ...rest }) => rest);
    assert.deepEqual(strip(unverified.rows), strip(result.rows));
  });

  it("filters by requested time and resource; since narrows what GitHub lists, with a day of slack", async () => {
    const port = fakePort(repo);
    const since = at(T0 + 2 * DAY);
    const until = at(T0 + 6 * DAY);
    const filtered = await collectAudit(port, {
      jwks: repo.jwks,
      now: NOW,
      since,
      until,
      resource: "prod-database",
    });
    assert.deepEqual(
      filtered.rows.map((r) => r.issue),
      [4, 5, 6],
    );
    assert.deepEqual(filtered.filters, { since, until, resource: "prod-database" });
    const listed = port.calls.find((c) => c.method === "listIssues")!.args[0] as {
      since?: string;
      labels?: string;
      state?: string;
    };
    assert.equal(listed.labels, "breakglass");
    assert.equal(listed.state, "all");
    assert.equal(listed.since, at(T0 + DAY));
    // Issues opened after `until` are not even read.
    const read = port.calls.filter((c) => c.method === "listComments").map((c) => c.args[0]);
    assert.ok(!read.includes(7) && !read.includes(10), `read ${read.join(",")}`);
    assert.deepEqual(
      filtered.records.map((r) => r.issue).filter((v, i, a) => a.indexOf(v) === i),
      [4, 5, 6],
    );
  });

  it("reports progress for every issue read", async () => {
    const seen: Array<[number, number]> = [];
    await collectAudit(fakePort(repo), {
      jwks: repo.jwks,
      now: NOW,
      onProgress: (done, total) => seen.push([done, total]),
    });
    assert.deepEqual(seen[0], [0, 11]);
    assert.deepEqual(seen.at(-1), [11, 11]);
    assert.equal(seen.length, 12);
  });

  it("refuses a time that is not one (programming error, the CLI checks first)", async () => {
    await assert.rejects(
      collectAudit(fakePort(repo), { since: "yesterday" }),
      /since must be an ISO 8601 time/,
    );
  });
});

describe("collectAudit on hostile records", () => {
  it("ignores record markers in comments the app did not write, even genuinely signed ones", async () => {
    const { specs } = mixedHistory();
    const repo = await buildRepo(specs.filter((s) => s.number === 2));
    const real = repo.comments.get(2)!;
    const chain = repo.chains.get(2)!;
    // A validly signed alternative entry 1 ("approved" instead of "denied"), as a leaked race loser would be.
    const signer = createSigner(repo.key.privateKey, repo.key.kid);
    const event = {
      type: "approved" as const,
      actor: "bob",
      hash: (chain[0]!.entry.event as unknown as { hash: string }).hash,
      via: "codeowner" as const,
    };
    const alternative = await appendEntry(
      chain.slice(0, 1),
      { at: at(T0 + MIN), repo: REPOSITORY, issue: 2, id: "alt", event },
      signer,
    );
    repo.comments.set(2, [
      real[0]!,
      recordComment(alternative.jws, at(T0 + MIN), { login: "mallory", type: "User" }),
      recordComment(alternative.jws, at(T0 + MIN), { login: "breakglass-bot", type: "Bot" }),
      recordComment(alternative.jws, at(T0 + MIN), { login: "breakglass[bot]", type: "User" }),
      ...real.slice(1),
    ]);
    const result = await collectAudit(fakePort(repo), { jwks: repo.jwks, now: NOW });
    assert.equal(result.rows[0]!.status, "denied");
    assert.equal(result.rows[0]!.chain_status, "verified");
    assert.equal(result.rows[0]!.chain_entries, 3);
    // Even in a comment by the app itself, a record the ledger does not hold never counts; it is reported.
    repo.comments.set(2, [real[0]!, recordComment(alternative.jws, at(T0 + MIN)), ...real.slice(1)]);
    const control = await collectAudit(fakePort(repo), { jwks: repo.jwks, now: NOW });
    assert.equal(control.rows[0]!.status, "denied");
    assert.equal(control.rows[0]!.chain_status, "broken");
    assert.match(control.rows[0]!.chain_problem ?? "", /carries a record the ledger does not hold/);
  });

  it("an edited record comment breaks the chain: the row says where; the state stays the ledger's", async () => {
    const { specs } = mixedHistory();
    const repo = await buildRepo(specs.filter((s) => s.number === 1));
    const comments = repo.comments.get(1)!;
    comments[3] = {
      ...comments[3]!,
      body: comments[3]!.body.replace(/record (\S+)/, (_m, jws: string) => `record ${tamperPayload(jws)}`),
    };
    const result = await collectAudit(fakePort(repo), { jwks: repo.jwks, now: NOW });
    const r = result.rows[0]!;
    assert.equal(r.chain_status, "broken");
    assert.match(
      r.chain_problem ?? "",
      /^entry 3: its \w+ record was deleted from the issue's comments; the ledger holds it/,
    );
    assert.equal(r.status, "expired", "the comment changed nothing: the ledger's whole chain counts");
    assert.ok(r.flags.includes("chain_broken"));
  });

  it("records signed with a key that is not the app's break the chain at entry 0", async () => {
    const { specs } = mixedHistory();
    const foreign = await buildRepo(
      specs.filter((s) => s.number === 1),
      [],
      await generateAuditKey(),
    );
    const app = await buildRepo([]);
    const result = await collectAudit(fakePort(foreign), { jwks: app.jwks, now: NOW });
    assert.equal(result.rows[0]!.chain_status, "broken");
    assert.match(result.rows[0]!.chain_problem ?? "", /entry 0: unknown key id/);
    assert.equal(result.rows[0]!.status, "new");
  });

  it("unverified garbage never crashes the export", async () => {
    const { specs } = mixedHistory();
    const repo = await buildRepo(specs.filter((s) => s.number === 1));
    const junk = (payload: unknown) =>
      `eyJhbGciOiJub25lIn0.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.`;
    const garbage = [
      junk({
        seq: 0,
        at: at(T0),
        event: { type: "requested", actor: "x", request: { resource: 5, justification: { evil: true } } },
      }),
      junk({ seq: 1, at: at(T0), event: { type: "no-such-event", actor: "x" } }),
      junk({ seq: 2, at: 7, event: null }),
    ];
    repo.comments.set(
      1,
      garbage.map((j) => recordComment(j, at(T0))),
    );
    repo.chains.set(
      1,
      garbage.map((jws) => ({ jws, entry: {} as never })),
    );
    const result = await collectAudit(fakePort(repo), { now: NOW });
    const r = result.rows[0]!;
    assert.equal(r.chain_status, "unverified");
    assert.equal(r.resource, null, "a non-string resource is not shown as one");
    assert.equal(r.justification, null);
    assert.match(r.chain_problem ?? "", /entry 2 is not a readable record/);
    const verified = await collectAudit(fakePort(repo), { jwks: repo.jwks, now: NOW });
    assert.equal(verified.rows[0]!.chain_status, "broken");
    assert.match(verified.rows[0]!.chain_problem ?? "", /entry 0: alg "none" is refused/);
  });

  it("a review issue that no longer exists is reported missing; other GitHub errors stop the export with the issue named", async () => {
    const { specs } = mixedHistory();
    const repo = await buildRepo(specs.filter((s) => s.number === 1));
    const result = await collectAudit(fakePort(repo), { jwks: repo.jwks, now: NOW });
    assert.deepEqual([result.rows[0]!.checklist_issue, result.rows[0]!.checklist_status], [20, "missing"]);
    const port = fakePort(repo);
    port.listComments = async () => {
      throw Object.assign(new Error("Server Error"), { status: 502 });
    };
    await assert.rejects(
      collectAudit(port, { jwks: repo.jwks }),
      /Could not read the records of #1: Server Error/,
    );
  });
});
