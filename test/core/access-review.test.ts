import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  accessReviewPeriod,
  decideConfirm,
  foldAccessReview,
  mayRequestUnder,
  requestersInWords,
  overdueResources,
  peopleOf,
  reviewedIn,
  type AccessReviewResource,
  type ConfirmActor,
} from "../../src/core/access-review.ts";

const resource = (name: string, due = "2026-12-08T00:00:00.000Z"): AccessReviewResource => ({
  resource: name,
  policy_path: `policies/${name}.yml`,
  requesters: "write access or more",
  approvals_required: 1,
  people: [],
  unused_after_days: 90,
  due_at: due,
});
const links = {
  repository_url: "https://github.com/acme/ops",
  default_branch: "main",
  codeowners_path: null,
};
const state = () =>
  foldAccessReview("2026-11", [
    {
      at: "2026-11-24T00:00:00.000Z",
      event: {
        type: "access_review_started",
        actor: "app",
        period: "2026-11",
        resources: [resource("db"), resource("aws")],
        links,
      },
    },
    { at: "2026-11-24T00:00:01.000Z", event: { type: "access_review_opened", actor: "app", issue: 7 } },
  ]);
const owner = (owns: string[], extra: Partial<ConfirmActor> = {}): ConfirmActor => ({
  login: "bob",
  type: "User",
  permission: "write",
  eligibility: (r) => (owns.includes(r) ? { via: "team", team: "@acme/dba" } : null),
  ...extra,
});

describe("access review periods", () => {
  it("monthly wins over quarterly; quarterly resources are reviewed in a quarter's first month", () => {
    const dec = Date.parse("2026-12-03T00:00:00Z");
    assert.equal(accessReviewPeriod(dec, ["quarterly", "monthly"]), "2026-12");
    assert.equal(accessReviewPeriod(dec, ["quarterly", "off"]), "2026-Q4");
    assert.equal(accessReviewPeriod(dec, ["off"]), null);
    assert.equal(reviewedIn("quarterly", "2026-10"), true);
    assert.equal(reviewedIn("quarterly", "2026-11"), false);
    assert.equal(reviewedIn("off", "2026-10"), false);
  });
});

describe("decideConfirm", () => {
  it("an owner confirms their resource; all confirms only what they own", () => {
    const one = decideConfirm(state(), owner(["db"]), "db", 5);
    assert.ok(one.ok);
    assert.deepEqual(
      one.value.map((e) => e.resource),
      ["db"],
    );
    const all = decideConfirm(state(), owner(["db"]), "all", 5);
    assert.ok(all.ok);
    assert.deepEqual(
      all.value.map((e) => [e.resource, e.team]),
      [["db", "@acme/dba"]],
    );
  });
  it("refuses non-owners, bots, readers, unknown and confirmed resources", () => {
    const code = (r: ReturnType<typeof decideConfirm>) => (r.ok ? "ok" : r.error.code);
    assert.equal(code(decideConfirm(state(), owner([]), "db", 1)), "not_codeowner");
    assert.equal(code(decideConfirm(state(), owner([]), "all", 1)), "not_codeowner");
    assert.equal(code(decideConfirm(state(), owner(["db"]), "db aws", 1)), "not_codeowner");
    assert.equal(code(decideConfirm(state(), owner(["db"], { type: "Bot" }), "db", 1)), "bot_approver");
    assert.equal(code(decideConfirm(state(), owner(["db"], { login: "x[bot]" }), "db", 1)), "bot_approver");
    assert.equal(
      code(decideConfirm(state(), owner(["db"], { permission: "triage" }), "db", 1)),
      "insufficient_permission",
    );
    assert.equal(code(decideConfirm(state(), owner(["db"]), "nope", 1)), "unknown_resource");
    assert.equal(code(decideConfirm(state(), owner(["db"]), "", 1)), "invalid_command");
    const s = state();
    s.confirmations.set("db", { actor: "carol", at: "2026-11-25T00:00:00Z", comment_id: 3 });
    assert.equal(code(decideConfirm(s, owner(["db"]), "db", 1)), "already_confirmed");
  });
  it("the first confirmation of a resource is the one that counts; overdue counts from the due date", () => {
    const s = foldAccessReview("2026-11", [
      {
        at: "2026-11-24T00:00:00.000Z",
        event: {
          type: "access_review_started",
          actor: "app",
          period: "2026-11",
          resources: [resource("db")],
          links,
        },
      },
      {
        at: "2026-11-25T00:00:00.000Z",
        event: { type: "access_review_confirmed", actor: "bob", resource: "db", comment_id: 1, via: "team" },
      },
      {
        at: "2026-11-26T00:00:00.000Z",
        event: {
          type: "access_review_confirmed",
          actor: "carol",
          resource: "db",
          comment_id: 2,
          via: "team",
        },
      },
    ] as never);
    assert.equal(s.confirmations.get("db")?.actor, "bob");
    const open = state();
    assert.deepEqual(overdueResources(open, Date.parse("2026-12-07T00:00:00Z")), []);
    assert.equal(overdueResources(open, Date.parse("2026-12-08T00:00:00Z")).length, 2);
  });
});

describe("peopleOf", () => {
  it("lists approvers, requester-team members and recorded users, with last uses and unused eligibility", () => {
    const now = Date.parse("2026-11-24T00:00:00Z");
    const people = peopleOf({
      resource: "db",
      approvers: new Map([
        ["bob", { via: "team", team: "@acme/dba" }],
        ["carol", { via: "codeowner" }],
      ]),
      requesterTeamMembers: ["olga"],
      // olga is in the requester team with write; dave requested once but has lost his access since.
      mayRequest: (login) => login === "olga",
      uses: [
        { resource: "db", login: "bob", kind: "approved", at: "2026-11-01T00:00:00Z" },
        { resource: "db", login: "carol", kind: "approved", at: "2026-07-01T00:00:00Z" },
        { resource: "db", login: "dave", kind: "requested", at: "2026-11-01T00:00:00Z" },
        { resource: "other", login: "olga", kind: "requested", at: "2026-11-01T00:00:00Z" },
      ],
      nowMs: now,
      unusedAfterDays: 90,
    });
    assert.deepEqual(
      people.map((p) => [p.login, p.may_request, p.may_approve, p.unused]),
      [
        ["bob", false, "via @acme/dba", false],
        ["carol", false, "CODEOWNERS", true],
        ["dave", false, null, false],
        ["olga", true, null, true],
      ],
    );
  });
});

describe("who may request", () => {
  const open = { requesters: { min_permission: "write" as const } };
  const teams = { requesters: { min_permission: "write" as const, teams: ["@acme/oncall"] } };
  it("says without teams that anyone who can open an issue with the permission may, not only those seen", () => {
    assert.match(
      requestersInWords(open, "acme/ops", "unused"),
      /^anyone who can open an issue in acme\/ops and has write access or more/,
    );
    assert.equal(
      requestersInWords(teams, "acme/ops", "write access or more, and a member of @acme/oncall (olga)"),
      "write access or more, and a member of @acme/oncall (olga)",
    );
  });
  it("checks the permission, and team membership when the policy lists teams", () => {
    assert.equal(
      mayRequestUnder(open, "write", () => false),
      true,
    );
    assert.equal(
      mayRequestUnder(open, "read", () => true),
      false,
    );
    assert.equal(
      mayRequestUnder(teams, "admin", () => false),
      false,
    );
    assert.equal(
      mayRequestUnder(teams, "write", (t) => t === "@acme/oncall"),
      true,
    );
  });
});
