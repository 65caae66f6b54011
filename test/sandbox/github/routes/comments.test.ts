import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { FakeClock } from "../../../../src/sandbox/clock.ts";
import { startTestEmulator, type TestEmulator } from "../helpers.ts";

describe("issue comments and reactions", () => {
  let t: TestEmulator;
  let clock: FakeClock;
  let issue: number;
  before(async () => {
    clock = new FakeClock(Date.parse("2026-05-01T12:00:00Z"));
    t = await startTestEmulator({ clock });
    const { data } = await t.emulator
      .octokitFor("dave")
      .rest.issues.create({ owner: "acme", repo: "ops", title: "request" });
    issue = data.number;
  });
  after(() => t.emulator.close());

  it("creates, edits, lists and deletes comments, keeping the issue's count", async () => {
    const bob = t.emulator.octokitFor("bob");
    const { data: c1 } = await bob.rest.issues.createComment({
      owner: "acme",
      repo: "ops",
      issue_number: issue,
      body: "/approve",
    });
    assert.equal(c1.user?.login, "bob");
    assert.equal(c1.author_association, "MEMBER", "team members are organisation members");
    assert.equal(c1.performed_via_github_app, null);
    assert.equal(t.emulator.state.comments.get(c1.id)!.user.login, "bob");
    clock.advance(60_000);
    const { data: edited } = await bob.rest.issues.updateComment({
      owner: "acme",
      repo: "ops",
      comment_id: c1.id,
      body: "/deny",
    });
    assert.equal(edited.body, "/deny");
    assert.equal(edited.created_at, "2026-05-01T12:00:00Z");
    assert.equal(edited.updated_at, "2026-05-01T12:01:00Z");
    const { data: got } = await bob.rest.issues.getComment({ owner: "acme", repo: "ops", comment_id: c1.id });
    assert.equal(got.body, "/deny");
    assert.equal(
      (await bob.rest.issues.get({ owner: "acme", repo: "ops", issue_number: issue })).data.comments,
      1,
    );
    await bob.rest.issues.deleteComment({ owner: "acme", repo: "ops", comment_id: c1.id });
    await assert.rejects(bob.rest.issues.getComment({ owner: "acme", repo: "ops", comment_id: c1.id }), {
      status: 404,
    });
    assert.equal(
      (await bob.rest.issues.get({ owner: "acme", repo: "ops", issue_number: issue })).data.comments,
      0,
    );
  });

  it("lets only authors and people with write access change a comment", async () => {
    const { data: daves } = await t.emulator
      .octokitFor("dave")
      .rest.issues.createComment({ owner: "acme", repo: "ops", issue_number: issue, body: "context" });
    const mallory = t.emulator.octokitFor("mallory");
    await assert.rejects(
      mallory.rest.issues.updateComment({
        owner: "acme",
        repo: "ops",
        comment_id: daves.id,
        body: "/approve",
      }),
      { status: 403 },
    );
    await assert.rejects(
      mallory.rest.issues.deleteComment({ owner: "acme", repo: "ops", comment_id: daves.id }),
      { status: 403 },
    );
    const { data: own } = await mallory.rest.issues.createComment({
      owner: "acme",
      repo: "ops",
      issue_number: issue,
      body: "mine",
    });
    assert.equal(
      (
        await mallory.rest.issues.updateComment({
          owner: "acme",
          repo: "ops",
          comment_id: own.id,
          body: "mine, edited",
        })
      ).data.body,
      "mine, edited",
    );
    // The app (issues: write) may edit anything, e.g. to redact.
    const app = await t.api(
      "PATCH",
      `/repos/acme/ops/issues/comments/${own.id}`,
      t.emulator.installationToken(),
      { body: "[redacted]" },
    );
    assert.equal(app.status, 200);
    assert.equal(
      (app.json as { user: { login: string } }).user.login,
      "mallory",
      "editing does not change the author",
    );
    await assert.rejects(
      mallory.rest.issues.createComment({ owner: "acme", repo: "ops", issue_number: issue, body: "" }),
      { status: 422 },
    );
    await assert.rejects(
      mallory.rest.issues.createComment({
        owner: "acme",
        repo: "ops",
        issue_number: issue,
        body: "y".repeat(65_537),
      }),
      { status: 422 },
    );
    await assert.rejects(
      mallory.rest.issues.createComment({ owner: "acme", repo: "ops", issue_number: 999_999, body: "x" }),
      { status: 404 },
    );
  });

  it("pages comments oldest first with Link headers and filters by since", async () => {
    const { data: fresh } = await t.emulator
      .octokitFor("dave")
      .rest.issues.create({ owner: "acme", repo: "ops", title: "busy thread" });
    const carol = t.emulator.octokitFor("carol");
    const start = clock.now();
    for (let i = 0; i < 5; i++) {
      await carol.rest.issues.createComment({
        owner: "acme",
        repo: "ops",
        issue_number: fresh.number,
        body: `c${i}`,
      });
      clock.advance(1000);
    }
    const page = await t.api(
      "GET",
      `/repos/acme/ops/issues/${fresh.number}/comments?per_page=2&page=2`,
      t.emulator.userToken("carol"),
    );
    assert.deepEqual(
      (page.json as Array<{ body: string }>).map((c) => c.body),
      ["c2", "c3"],
    );
    const link = page.headers.get("link")!;
    assert.match(link, /per_page=2&page=3>; rel="next"/);
    assert.match(link, /per_page=2&page=1>; rel="prev"/);
    const all = await carol.paginate(carol.rest.issues.listComments, {
      owner: "acme",
      repo: "ops",
      issue_number: fresh.number,
      per_page: 2,
    });
    assert.deepEqual(
      all.map((c) => c.body),
      ["c0", "c1", "c2", "c3", "c4"],
    );
    const since = new Date(start + 3000).toISOString();
    const { data: recent } = await carol.rest.issues.listComments({
      owner: "acme",
      repo: "ops",
      issue_number: fresh.number,
      since,
    });
    assert.deepEqual(
      recent.map((c) => c.body),
      ["c3", "c4"],
    );
    const { data: repoWide } = await carol.rest.issues.listCommentsForRepo({
      owner: "acme",
      repo: "ops",
      sort: "created",
      direction: "desc",
      per_page: 1,
    });
    assert.equal(repoWide[0]!.body, "c4");
  });

  it("records reactions per person and content, 201 then 200, and rolls them up", async () => {
    const { data: comment } = await t.emulator
      .octokitFor("bob")
      .rest.issues.createComment({ owner: "acme", repo: "ops", issue_number: issue, body: "/approve" });
    const appToken = t.emulator.installationToken();
    const first = await t.api("POST", `/repos/acme/ops/issues/comments/${comment.id}/reactions`, appToken, {
      content: "eyes",
    });
    const again = await t.api("POST", `/repos/acme/ops/issues/comments/${comment.id}/reactions`, appToken, {
      content: "eyes",
    });
    assert.deepEqual([first.status, again.status], [201, 200]);
    assert.equal((first.json as { id: number }).id, (again.json as { id: number }).id);
    await t.api("POST", `/repos/acme/ops/issues/comments/${comment.id}/reactions`, appToken, {
      content: "rocket",
    });
    await t.emulator.octokitFor("carol").rest.reactions.createForIssueComment({
      owner: "acme",
      repo: "ops",
      comment_id: comment.id,
      content: "+1",
    });
    const bad = await t.api("POST", `/repos/acme/ops/issues/comments/${comment.id}/reactions`, appToken, {
      content: "thumbsup",
    });
    assert.equal(bad.status, 422);
    const { data: rockets } = await t.emulator.octokitFor("carol").rest.reactions.listForIssueComment({
      owner: "acme",
      repo: "ops",
      comment_id: comment.id,
      content: "rocket",
    });
    assert.deepEqual(
      rockets.map((r) => r.user?.login),
      ["breakglass[bot]"],
    );
    const { data: withRollup } = await t.emulator
      .octokitFor("carol")
      .rest.issues.getComment({ owner: "acme", repo: "ops", comment_id: comment.id });
    assert.equal(withRollup.reactions?.total_count, 3);
    assert.equal(withRollup.reactions?.eyes, 1);
    assert.equal(withRollup.reactions?.["+1"], 1);
    await t.emulator
      .octokitFor("dave")
      .rest.reactions.createForIssue({ owner: "acme", repo: "ops", issue_number: issue, content: "heart" });
    const { data: issueReactions } = await t.emulator
      .octokitFor("dave")
      .rest.reactions.listForIssue({ owner: "acme", repo: "ops", issue_number: issue });
    assert.deepEqual(
      issueReactions.map((r) => [r.user?.login, r.content]),
      [["dave", "heart"]],
    );
    const eyes = first.json as { id: number };
    await assert.rejects(
      t.emulator.octokitFor("carol").rest.reactions.deleteForIssueComment({
        owner: "acme",
        repo: "ops",
        comment_id: comment.id,
        reaction_id: eyes.id,
      }),
      { status: 404 },
      "only the reactor removes a reaction",
    );
    assert.equal(
      (await t.api("DELETE", `/repos/acme/ops/issues/comments/${comment.id}/reactions/${eyes.id}`, appToken))
        .status,
      204,
    );
  });
});
