import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { FakeClock } from "../../../../src/sandbox/clock.ts";
import { startTestEmulator, type TestEmulator } from "../helpers.ts";

const HOUR = 3_600_000;

describe("issues", () => {
  let t: TestEmulator;
  let clock: FakeClock;
  before(async () => {
    clock = new FakeClock(Date.parse("2026-03-01T09:00:00.250Z"));
    t = await startTestEmulator({ clock });
  });
  after(() => t.emulator.close());

  it("creates, reads and updates issues with GitHub's timestamps and close semantics", async () => {
    const dave = t.emulator.octokitFor("dave");
    const { data: created } = await dave.rest.issues.create({
      owner: "acme",
      repo: "ops",
      title: "prod-database read",
      body: "why",
      labels: ["breakglass"],
      assignees: ["bob"],
    });
    assert.equal(
      created.created_at,
      "2026-03-01T09:00:00Z",
      "timestamps come from the injected clock, without milliseconds",
    );
    assert.deepEqual(
      created.labels.map((l) => (typeof l === "string" ? l : l.name)),
      ["breakglass"],
    );
    assert.deepEqual(
      created.assignees?.map((a) => a.login),
      ["bob"],
    );
    assert.equal(created.state, "open");
    clock.advance(HOUR);
    const bob = t.emulator.octokitFor("bob");
    const { data: closed } = await bob.rest.issues.update({
      owner: "acme",
      repo: "ops",
      issue_number: created.number,
      state: "closed",
      state_reason: "not_planned",
    });
    assert.equal(closed.state, "closed");
    assert.equal(closed.state_reason, "not_planned");
    assert.equal(closed.closed_at, "2026-03-01T10:00:00Z");
    assert.equal(closed.closed_by?.login, "bob");
    const { data: plainClose } = await bob.rest.issues.create({ owner: "acme", repo: "ops", title: "other" });
    const { data: completed } = await bob.rest.issues.update({
      owner: "acme",
      repo: "ops",
      issue_number: plainClose.number,
      state: "closed",
    });
    assert.equal(completed.state_reason, "completed", "closing without a reason means completed");
    const { data: reopened } = await dave.rest.issues.update({
      owner: "acme",
      repo: "ops",
      issue_number: created.number,
      state: "open",
    });
    assert.equal(reopened.state_reason, "reopened");
    assert.equal(reopened.closed_at, null);
    const { data: edited } = await dave.rest.issues.update({
      owner: "acme",
      repo: "ops",
      issue_number: created.number,
      title: "prod-database write",
      labels: ["breakglass", "urgent"],
      assignees: [],
    });
    assert.equal(edited.title, "prod-database write");
    assert.deepEqual(
      edited.labels.map((l) => (typeof l === "string" ? l : l.name)),
      ["breakglass", "urgent"],
    );
    assert.deepEqual(edited.assignees, []);
    const { data: fetched } = await dave.rest.issues.get({
      owner: "acme",
      repo: "ops",
      issue_number: created.number,
    });
    assert.equal(fetched.title, "prod-database write");
    assert.equal(
      t.emulator.state.issues.get(created.number)!.title,
      "prod-database write",
      "state is inspectable",
    );
  });

  it("refuses invalid input the way GitHub does", async () => {
    const dave = t.emulator.octokitFor("dave");
    const cases: Array<[string, () => Promise<unknown>, number, RegExp]> = [
      [
        "no title",
        () => t.api("POST", "/repos/acme/ops/issues", t.emulator.userToken("dave"), { body: "x" }),
        422,
        /"title" wasn't supplied/,
      ],
      [
        "body too long",
        () => dave.rest.issues.create({ owner: "acme", repo: "ops", title: "big", body: "x".repeat(65_537) }),
        422,
        /Validation Failed/,
      ],
      [
        "unknown assignee",
        () => dave.rest.issues.create({ owner: "acme", repo: "ops", title: "a", assignees: ["ghost-user"] }),
        422,
        /Validation Failed/,
      ],
      [
        "bad state",
        () =>
          dave.rest.issues.update({ owner: "acme", repo: "ops", issue_number: 1, state: "merged" as "open" }),
        422,
        /Validation Failed/,
      ],
      [
        "missing issue",
        () => dave.rest.issues.get({ owner: "acme", repo: "ops", issue_number: 424242 }),
        404,
        /Not Found/,
      ],
      [
        "issue number not a number",
        () => t.api("GET", "/repos/acme/ops/issues/abc", t.emulator.userToken("dave")),
        404,
        /Not Found/,
      ],
      [
        "unknown repository",
        () => dave.rest.issues.get({ owner: "acme", repo: "nope", issue_number: 1 }),
        404,
        /Not Found/,
      ],
      [
        "malformed JSON",
        () => t.api("POST", "/repos/acme/ops/issues", t.emulator.userToken("dave"), "{not json"),
        400,
        /Problems parsing JSON/,
      ],
    ];
    for (const [name, call, status, expected] of cases) {
      const outcome = await call().then(
        (res) => res as { status: number; json: { message: string } },
        (error: { status: number; message: string }) => ({
          status: error.status,
          json: { message: error.message },
        }),
      );
      assert.equal(outcome.status, status, name);
      assert.match(outcome.json.message, expected, name);
    }
    const body = "x".repeat(65_536);
    const { data } = await dave.rest.issues.create({
      owner: "acme",
      repo: "ops",
      title: "exactly the limit",
      body,
    });
    assert.equal(data.body?.length, 65_536);
  });

  it("lists with GitHub's filters, sorting and Link-header pagination", async () => {
    const fresh = await startTestEmulator({ clock: new FakeClock(Date.parse("2026-04-01T00:00:00Z")) });
    try {
      const clk = fresh.emulator.clock as FakeClock;
      const dave = fresh.emulator.octokitFor("dave");
      const bob = fresh.emulator.octokitFor("bob");
      for (let i = 1; i <= 7; i++) {
        await (i % 2 ? dave : bob).rest.issues.create({
          owner: "acme",
          repo: "ops",
          title: `#${i}`,
          labels: i <= 4 ? ["breakglass"] : ["breakglass", "breakglass:audit"],
        });
        clk.advance(60_000);
      }
      await dave.rest.issues.update({ owner: "acme", repo: "ops", issue_number: 2, state: "closed" });
      const numbers = async (query: string) =>
        (
          (await fresh.api("GET", `/repos/acme/ops/issues?${query}`, fresh.emulator.userToken("dave")))
            .json as Array<{ number: number }>
        ).map((i) => i.number);
      assert.deepEqual(await numbers(""), [7, 6, 5, 4, 3, 1], "open, newest first by default");
      assert.deepEqual(await numbers("state=closed"), [2]);
      assert.deepEqual(await numbers("state=all&direction=asc"), [1, 2, 3, 4, 5, 6, 7]);
      assert.deepEqual(
        await numbers("labels=breakglass,breakglass:audit"),
        [7, 6, 5],
        "every listed label must be present",
      );
      assert.deepEqual(await numbers("labels=BREAKGLASS:AUDIT&creator=bob"), [6]);
      assert.deepEqual(await numbers("state=all&sort=updated&direction=desc"), [2, 7, 6, 5, 4, 3, 1]);
      assert.deepEqual(
        await numbers(`state=all&since=${encodeURIComponent("2026-04-01T00:05:00Z")}`),
        [7, 6, 2],
      );
      assert.equal(
        (await fresh.api("GET", "/repos/acme/ops/issues?state=bogus", fresh.emulator.userToken("dave")))
          .status,
        422,
      );

      const page1 = await fresh.api(
        "GET",
        "/repos/acme/ops/issues?state=all&per_page=3",
        fresh.emulator.userToken("dave"),
      );
      const link = page1.headers.get("link")!;
      assert.match(
        link,
        /<http:\/\/127\.0\.0\.1:\d+\/api\/v3\/repos\/acme\/ops\/issues\?state=all&per_page=3&page=2>; rel="next"/,
      );
      assert.match(link, /page=3>; rel="last"/);
      assert.doesNotMatch(link, /rel="prev"/);
      const page3 = await fresh.api(
        "GET",
        "/repos/acme/ops/issues?state=all&per_page=3&page=3",
        fresh.emulator.userToken("dave"),
      );
      assert.deepEqual(
        (page3.json as Array<{ number: number }>).map((i) => i.number),
        [1],
      );
      assert.match(page3.headers.get("link")!, /page=2>; rel="prev"/);
      assert.match(page3.headers.get("link")!, /page=1>; rel="first"/);
      assert.doesNotMatch(page3.headers.get("link")!, /rel="next"/);
      const all = await dave.paginate(dave.rest.issues.listForRepo, {
        owner: "acme",
        repo: "ops",
        state: "all",
        per_page: 2,
      });
      assert.deepEqual(
        all.map((i) => i.number),
        [7, 6, 5, 4, 3, 2, 1],
        "Octokit follows the Link headers",
      );
      const capped = await fresh.api(
        "GET",
        "/repos/acme/ops/issues?state=all&per_page=1000",
        fresh.emulator.userToken("dave"),
      );
      assert.equal((capped.json as unknown[]).length, 7);
      assert.equal(capped.headers.get("link"), null, "per_page is capped at 100, so one page holds all");
    } finally {
      await fresh.emulator.close();
    }
  });

  it("manages labels and assignees through their own endpoints", async () => {
    const bob = t.emulator.octokitFor("bob");
    const { data: issue } = await bob.rest.issues.create({ owner: "acme", repo: "ops", title: "labels" });
    const { data: added } = await bob.rest.issues.addLabels({
      owner: "acme",
      repo: "ops",
      issue_number: issue.number,
      labels: ["breakglass", "breakglass:approved"],
    });
    assert.deepEqual(
      added.map((l) => l.name),
      ["breakglass", "breakglass:approved"],
    );
    const { data: label } = await bob.rest.issues.getLabel({
      owner: "acme",
      repo: "ops",
      name: "breakglass:approved",
    });
    assert.equal(label.color, "ededed", "labels added to issues are created when missing");
    const { data: set } = await bob.rest.issues.setLabels({
      owner: "acme",
      repo: "ops",
      issue_number: issue.number,
      labels: ["breakglass:denied"],
    });
    assert.deepEqual(
      set.map((l) => l.name),
      ["breakglass:denied"],
    );
    await assert.rejects(
      bob.rest.issues.removeLabel({
        owner: "acme",
        repo: "ops",
        issue_number: issue.number,
        name: "not-there",
      }),
      { status: 404 },
    );
    const { data: remaining } = await bob.rest.issues.removeLabel({
      owner: "acme",
      repo: "ops",
      issue_number: issue.number,
      name: "breakglass:denied",
    });
    assert.deepEqual(remaining, []);
    const { data: createdLabel } = await bob.rest.issues.createLabel({
      owner: "acme",
      repo: "ops",
      name: "sev1",
      color: "B60205",
      description: "Severity 1",
    });
    assert.deepEqual(
      [createdLabel.name, createdLabel.color, createdLabel.description],
      ["sev1", "b60205", "Severity 1"],
    );
    await assert.rejects(
      bob.rest.issues.createLabel({ owner: "acme", repo: "ops", name: "SEV1", color: "000000" }),
      { status: 422 },
    );
    await assert.rejects(
      bob.rest.issues.createLabel({ owner: "acme", repo: "ops", name: "bad", color: "red" }),
      { status: 422 },
    );
    await assert.rejects(bob.rest.issues.getLabel({ owner: "acme", repo: "ops", name: "absent" }), {
      status: 404,
    });
    const { data: assigned } = await bob.rest.issues.addAssignees({
      owner: "acme",
      repo: "ops",
      issue_number: issue.number,
      assignees: ["carol", "dave"],
    });
    assert.deepEqual(
      assigned.assignees?.map((a) => a.login),
      ["carol", "dave"],
    );
    const { data: unassigned } = await bob.rest.issues.removeAssignees({
      owner: "acme",
      repo: "ops",
      issue_number: issue.number,
      assignees: ["carol"],
    });
    assert.deepEqual(
      unassigned.assignees?.map((a) => a.login),
      ["dave"],
    );
  });
});
