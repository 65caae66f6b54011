import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as approval from "../../../src/core/messages/approval-messages.ts";
import * as command from "../../../src/core/messages/command-messages.ts";
import * as grant from "../../../src/core/messages/grant-messages.ts";
import * as passkeyText from "../../../src/core/messages/passkey-messages.ts";
import * as record from "../../../src/core/messages/record-messages.ts";
import * as request from "../../../src/core/messages/request-messages.ts";
import * as review from "../../../src/core/messages/review-messages.ts";
import type { StepUpProof } from "../../../src/core/step-up.ts";

/** Text a writer controls: a reason, a note, an error a provider echoed, a branch name. */
const HOSTILE =
  "@everyone <img src=x onerror=alert(1)> [click](https://evil.example) <!-- breakglass:record forged --> #12\n# heading\n```";

/** What must never come out of a message built from HOSTILE. */
function assertNeutral(text: string, where: string): void {
  assert.ok(!/(^|[^\u200b\w])@everyone/.test(text), `${where}: a live @everyone mention`);
  assert.ok(!text.includes("<img"), `${where}: raw HTML`);
  assert.ok(!text.includes("](https://evil.example)"), `${where}: a live link`);
  assert.ok(!text.includes("<!-- breakglass:"), `${where}: a record marker`);
  assert.ok(!/(^|\s)#12\b/.test(text), `${where}: a live issue reference`);
  assert.ok(!/^#/m.test(text.replace(/^## 🔒.*$/m, "")), `${where}: a heading`);
  assert.ok(!text.includes("```"), `${where}: a code fence`);
}

const ssh: StepUpProof = {
  method: "ssh-signature",
  key_type: "sk-ssh-ed25519@openssh.com",
  key_fingerprint: "SHA256:abc",
} as unknown as StepUpProof;
const passkey = { method: "webauthn", hardware: false } as unknown as StepUpProof;

describe("messages the app posts", () => {
  it("says who approved, with which proof, how many of how many, bound to the hash", () => {
    assert.equal(
      command.approvalRecorded({
        who: "alice",
        proof: null,
        hash: "0123456789abcdef0123",
        count: 1,
        required: 2,
      }),
      "✅ @alice approved request `0123456789abcdef` — 1 of 2.",
    );
    assert.equal(
      command.approvalRecorded({
        who: "alice",
        team: "acme/dba",
        proof: ssh,
        hash: "ff".repeat(16),
        count: 2,
        required: 2,
      }),
      "✅ @alice (via acme/dba) with an SSH signature (hardware security key `SHA256:abc`) approved request `ffffffffffffffff` — 2 of 2.",
    );
    assert.equal(
      command.approvalRecorded({ who: "bob", proof: passkey, hash: "ab", count: 1, required: 1, note: "ok" }),
      "✅ @bob approved with a passkey: request `ab` — 1 of 1.\n\n> ok",
    );
  });

  it("counts earlier break-glass uses in words, and none says nothing", () => {
    assert.ok(!command.brokeGlass("carol", "db down", 0).includes("Repeated use"));
    assert.match(
      command.brokeGlass("carol", "db down", 1),
      /broke the glass 1 other time in the last 30 days/,
    );
    assert.match(
      command.brokeGlass("carol", "db down", 3),
      /broke the glass 3 other times in the last 30 days/,
    );
    assert.equal(
      command.brokeGlassSummary("carol", "x".repeat(300), 2).length,
      "carol self-approved (break-glass) — REPEATED USE: 2 earlier in 30 days: ".length + 200,
    );
  });

  it("names who ended a grant except when it expired", () => {
    const base = { actor: "dave", credentialId: "cred-1", evidence: "token rejected" };
    assert.equal(
      grant.revoked({ ...base, reason: "expired" }),
      "🔒 The grant expired; the credential `cred-1` is revoked and verified unusable: token rejected",
    );
    assert.equal(
      grant.revoked({ ...base, reason: "incident_closed", note: "incident #9 closed" }),
      "🔒 The grant was revoked because its incident was closed (by @dave); the credential `cred-1` is revoked and verified unusable: token rejected\n\n> incident #\u200b9 closed",
    );
    assert.match(
      grant.revocationFailed(2, "timeout", true),
      /attempt 2.*\n\n.*Notify targets were alerted\.$/s,
    );
    assert.doesNotMatch(grant.revocationFailed(2, "timeout", false), /Notify targets/);
  });

  it("says singular and plural right for records put back", () => {
    assert.match(
      record.unpostedRecordsPosted("acme/ledger", [{ type: "approved", seq: 3 }]),
      /^ℹ️ A record comment was missing .* and was posted .*`approved` \(entry 3\)\. Either the app stopped before posting it, or someone deleted it/,
    );
    assert.match(
      record.unpostedRecordsPosted("acme/ledger", [
        { type: "a", seq: 1 },
        { type: "b", seq: 2 },
      ]),
      /^ℹ️ 2 record comments were missing .* and were posted .*posting them, or someone deleted them/,
    );
    const one = record.recordsTampered({
      problems: [{ type: "approved", seq: 4, kind: "missing" }],
      ledgerLocation: "L",
      status: "active",
    });
    assert.match(
      one,
      /found by the sweep\): `approved` \(entry 4, deleted\)\..*still \*\*active\*\*\. The record was restored/,
    );
    const named = record.recordsTampered({
      by: { login: "mallory", change: "edited" },
      problems: [
        { type: "a", seq: 1, kind: "edited" },
        { type: "b", seq: 2, kind: "missing" },
      ],
      ledgerLocation: "L",
      status: "requested",
    });
    assert.match(
      named,
      /@mallory edited the app's record comment: `a` \(entry 1, edited\), `b` \(entry 2, deleted\)\..*The records were restored/,
    );
  });

  it("says what a request asks for, or what a retroactive record records, and the hash approvals bind to", () => {
    const base = {
      resource: "prod-db",
      role: "read",
      duration_seconds: 1800,
      severity: "high" as const,
      justification: "Disk full.",
      incident: null,
      drill: false,
    };
    assert.equal(
      request.requestRecorded({
        requester: "dave",
        request: base,
        hash: "0123456789abcdef99",
        incident: null,
      }),
      "📝 @dave requests `read` on `prod-db` for 30m (severity high).\n\n> Disk full.\n\nRequest hash `0123456789abcdef`: approvals bind to exactly this content.",
    );
    const retro = request.requestRecorded({
      requester: "dave",
      request: {
        ...base,
        retroactive: { started_at: "2026-12-01T00:00:00Z", ended_at: "2026-12-01T01:00:00Z" },
      },
      hash: "ab",
      incident: null,
    });
    assert.match(
      retro,
      /^📝 @dave records \*\*retroactively\*\* access taken outside Breakglass: `read` on `prod-db` from 2026-12-01T00:00:00Z to 2026-12-01T01:00:00Z .*\*\*No credentials are issued/,
    );
    assert.match(
      request.requestRecorded({
        requester: "dave",
        request: base,
        hash: "ab",
        voidedBy: { editor: "erin", approvals: 2 },
        incident: null,
      }),
      /^✏️ The request was edited by @erin; \*\*2 earlier approval\(s\) no longer count\*\*/,
    );
  });

  it("says singular and plural right for ticks put back on a review", () => {
    assert.match(
      review.reviewTicksUndone({
        who: "erin",
        refused: [{ item: "Rotate keys", code: "self_review", message: "not yours" }],
        unattributed: [],
      }),
      /^↩️ @erin: un-ticked an item of this review\.\n\n- “Rotate keys” — refused \(`self_review`\): not yours$/,
    );
    assert.match(
      review.reviewTicksUndone({
        who: "erin",
        refused: [],
        unattributed: [
          { item: "a", whoMayTick: "@sam" },
          { item: "b", whoMayTick: "@sam" },
        ],
      }),
      /un-ticked 2 items of this review/,
    );
    assert.equal(
      review.accessReviewConfirmed("sam", [], ["prod-db"]),
      "@sam: someone else confirmed these first. Still to confirm: `prod-db`.",
    );
    assert.equal(
      review.accessReviewConfirmed("sam", ["prod-db"], []),
      "✅ @sam confirmed `prod-db`. Every resource is confirmed: the review is complete.",
    );
  });

  it("says when a new passkey starts to count, and marks the last recorded page refusal", () => {
    assert.equal(
      passkeyText.passkeyRegistered({
        login: "grace",
        attested: false,
        aaguid: "00000000-0000-0000-0000-000000000000",
        credentialId: "-AbCdEfGhIjKlMnOpQr",
        activeFrom: "2026-12-04T11:00:00.000Z",
      }),
      "🔑 @grace registered a passkey (synced or unattested, model 00000000-0000-0000-0000-000000000000, `-AbCdEfGhIjKlMnO`); it counts for approvals from 2026-12-04T11:00:00.000Z unless removed, or once confirmed by an SSH signature.",
    );
    assert.doesNotMatch(
      passkeyText.pageApprovalRefused("grace", { code: "step_up_passkey_not_active", message: "wait" }, null),
      /only shown on the page/,
    );
    assert.match(
      passkeyText.pageApprovalRefused("grace", { code: "x", message: "y" }, 10),
      /\n\nThis is the 10th refusal of a passkey approval by an approver recorded here; further ones by approvers/,
    );
    assert.match(
      passkeyText.pageApprovalRefused("uma", { code: "x", message: "y" }, 10, false),
      /by someone who cannot approve this request recorded here; further ones by such readers/,
    );
  });

  it("lists voided approvals with their reasons and what is left", () => {
    const text = approval.approvalsVoided(
      { voided: [{ actor: "erin", reason: "not_codeowner" }], required: 2, complete: false } as never,
      1,
    );
    const lines = text.split("\n");
    assert.match(lines[0]!, /^↩️ \*\*1 approval\(s\) no longer count\*\*/);
    assert.match(text, /^- @erin .+\.$/m);
    assert.match(text, /^- The policy in force now asks for \*\*2\*\* approval\(s\) \(it was 1\)\.$/m);
    assert.equal(
      lines.at(-1),
      "Approvers who still may: read the request and `/approve` again in a new comment.",
    );
  });

  it("neutralises every mention, link, HTML, marker, reference and block a writer can put in", () => {
    const cases: Array<[string, string]> = [
      ["commandRefused", command.commandRefused(HOSTILE, { code: "not_codeowner", message: HOSTILE })],
      ["unknownCommandIntro", command.unknownCommandIntro(HOSTILE)],
      [
        "approvalRecorded",
        command.approvalRecorded({
          who: HOSTILE,
          team: HOSTILE,
          proof: null,
          hash: "a",
          count: 1,
          required: 1,
          note: HOSTILE,
        }),
      ],
      ["denied", command.denied(HOSTILE, HOSTILE)],
      ["cancelled", command.cancelled(HOSTILE)],
      ["brokeGlass", command.brokeGlass(HOSTILE, HOSTILE, 2)],
      ["extensionAsked", command.extensionAsked(HOSTILE, 600, true, HOSTILE)],
      [
        "revoked",
        grant.revoked({
          reason: "revoked",
          actor: HOSTILE,
          credentialId: HOSTILE,
          evidence: HOSTILE,
          note: HOSTILE,
        }),
      ],
      ["revocationFailed", grant.revocationFailed(1, HOSTILE, true)],
      [
        "dispatchFailed",
        grant.dispatchFailed({ workflow: HOSTILE, error: HOSTILE, defaultBranch: HOSTILE, issue: 3 }),
      ],
      [
        "dispatchRunUnknown",
        grant.dispatchRunUnknown({ workflow: HOSTILE, defaultBranch: HOSTILE, issue: 3 }),
      ],
      [
        "runCollecting",
        grant.runCollecting({
          runId: 1,
          runUrl: "https://github.com/a/b/actions/runs/1",
          startedBy: HOSTILE,
          defaultBranch: HOSTILE,
        }),
      ],
      [
        "exchangeRefused",
        grant.exchangeRefused({
          code: "c",
          message: HOSTILE,
          run: HOSTILE,
          workflowRef: HOSTILE,
          actor: HOSTILE,
          lastRecorded: 20,
        }),
      ],
      ["noRecipient", grant.noRecipient(HOSTILE)],
      ["mintFailed", grant.mintFailed("postgres", HOSTILE)],
      ["orphanRevoked", grant.orphanRevoked(HOSTILE, HOSTILE)],
      ["approvalWithdrawn", approval.approvalWithdrawn(HOSTILE, "deleted", true)],
      ["editedCommandIgnored", approval.editedCommandIgnored(HOSTILE)],
      ["approvalsVoidedByUnseenEdit", approval.approvalsVoidedByUnseenEdit([HOSTILE, "ok"])],
      ["escalated", approval.escalated(600, [HOSTILE])],
      ["closedWhileLive", record.closedWhileLive(HOSTILE)],
      ["cancelledByClosing", record.cancelledByClosing(HOSTILE)],
      ["resubmitAfterOutage", record.resubmitAfterOutage(HOSTILE)],
      ["lostBodyEdit", record.lostBodyEdit({ hash: "h", approvalsVoided: true, requester: HOSTILE })],
      ["ledgerUnavailable", record.ledgerUnavailable(HOSTILE, HOSTILE)],
      [
        "recordsTampered",
        record.recordsTampered({
          by: { login: HOSTILE, change: "deleted" },
          problems: [],
          ledgerLocation: "L",
          status: "active",
        }),
      ],
      [
        "requestRecorded",
        request.requestRecorded({
          requester: HOSTILE,
          request: {
            resource: HOSTILE,
            role: HOSTILE,
            duration_seconds: 600,
            severity: "high",
            justification: HOSTILE,
            incident: HOSTILE,
            drill: false,
          },
          hash: "h",
          voidedBy: { editor: HOSTILE, approvals: 1 },
          incident: null,
        }),
      ],
      [
        "requestRecorded retro",
        request.requestRecorded({
          requester: HOSTILE,
          request: {
            resource: HOSTILE,
            role: HOSTILE,
            duration_seconds: 600,
            severity: "high",
            justification: HOSTILE,
            incident: null,
            drill: false,
            retroactive: { started_at: "2026-12-01T00:00:00Z", ended_at: "2026-12-01T01:00:00Z" },
          },
          hash: "h",
          incident: null,
        }),
      ],
      ["intakeRefused", request.intakeRefused("c", HOSTILE)],
      [
        "editNotByRequester",
        request.editNotByRequester({ editor: HOSTILE, requester: HOSTILE, recordedHash: "abc" }),
      ],
      ["invalidRequest", request.invalidRequest(HOSTILE, [{ field: HOSTILE, message: HOSTILE }])],
      ["policiesBroken", request.policiesBroken([HOSTILE])],
      [
        "reviewReopened",
        review.reviewReopened({
          closer: HOSTILE,
          outstanding: [{ item: HOSTILE, why: "unattributed", whoMayTick: HOSTILE }],
          selves: "@a",
        }),
      ],
      [
        "reviewTicksUndone",
        review.reviewTicksUndone({
          who: HOSTILE,
          refused: [{ item: HOSTILE, code: "c", message: HOSTILE }],
          unattributed: [{ item: HOSTILE, whoMayTick: HOSTILE }],
        }),
      ],
      ["reviewWaived", review.reviewWaived(HOSTILE, 3, HOSTILE)],
      ["accessReviewConfirmed", review.accessReviewConfirmed(HOSTILE, [HOSTILE], [HOSTILE])],
      ["accessReviewReopened", review.accessReviewReopened(HOSTILE, [HOSTILE])],
      [
        "grantLostRace",
        grant.grantLostRace({ runId: HOSTILE, credentialId: HOSTILE, winnerRun: HOSTILE, undone: HOSTILE }),
      ],
    ];
    for (const [name, text] of cases) assertNeutral(text, name);
    // The check itself catches each of them in raw text.
    const pieces = [
      "@everyone",
      "<img src=x>",
      "[click](https://evil.example)",
      "<!-- breakglass:record x -->",
      "see #12",
      "# heading",
      "```",
    ];
    for (const raw of pieces) assert.throws(() => assertNeutral(raw, "raw"), assert.AssertionError, raw);
  });
});
