import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { countChecklist, readChecklist } from "../../src/audit/checklist-status.ts";
import { buildRepo, fakePort, mixedHistory } from "./history-fixtures.ts";

describe("countChecklist", () => {
  it("counts checked and unchecked task items, with any list marker and either x", () => {
    assert.deepEqual(countChecklist("- [x] a\n- [ ] b\n* [X] c\n+ [ ] d\n   - [x] indented"), {
      checked: 3,
      total: 5,
    });
  });

  it("ignores items inside fenced code blocks, and text that only looks like an item", () => {
    const body = [
      "- [x] real",
      "```",
      "- [ ] in code",
      "~~~",
      "- [ ] still code (a ~~~ does not close ```)",
      "```",
      "~~~~",
      "- [x] code too",
      "~~~~",
      "-[ ] no space",
      "- [ ]no space after",
      "- [y] not a box",
      "        - [ ] nested deeper counts, as on GitHub",
    ].join("\n");
    assert.deepEqual(countChecklist(body), { checked: 1, total: 2 });
  });

  it("handles CRLF bodies and empty ones", () => {
    assert.deepEqual(countChecklist("- [x] a\r\n- [ ] b\r\n"), { checked: 1, total: 2 });
    assert.deepEqual(countChecklist(""), { checked: 0, total: 0 });
  });
});

describe("readChecklist", () => {
  it("reads the review issue's state and items, and calls a vanished one missing", async () => {
    const { reviews } = mixedHistory();
    const port = fakePort(await buildRepo([], reviews));
    assert.deepEqual(await readChecklist(port, 20), { issue: 20, status: "closed", checked: 2, total: 2 });
    assert.deepEqual(await readChecklist(port, 21), { issue: 21, status: "open", checked: 1, total: 3 });
    assert.deepEqual(await readChecklist(port, 99), { issue: 99, status: "missing", checked: 0, total: 0 });
  });

  it("passes on other errors", async () => {
    const port = fakePort(await buildRepo([]));
    port.getIssue = async () => {
      throw Object.assign(new Error("Bad credentials"), { status: 401 });
    };
    await assert.rejects(readChecklist(port, 20), /Bad credentials/);
  });

  it("with the request's recorded items, counts only those, and a checked box only when its tick was recorded", async () => {
    const { reviews } = mixedHistory();
    const port = fakePort(await buildRepo([], reviews));
    const items = [
      "Second-person review",
      "Check the model logs",
      "Confirm rollback",
      "Record the root cause",
    ];
    const nobody = { items, ticks: [], waiver: null };
    assert.deepEqual(
      await readChecklist(port, 21, nobody),
      { issue: 21, status: "open", checked: 0, total: 4 },
      "a box nobody is recorded ticking is not done",
    );
    const credited = {
      items,
      ticks: [{ item: "Check the model logs", actor: "grace", at: "2026-03-02T09:00:00.000Z" }],
      waiver: null,
    };
    assert.deepEqual(
      await readChecklist(port, 21, credited),
      { issue: 21, status: "open", checked: 1, total: 4 },
      "a missing line is an item not done",
    );
    assert.deepEqual(
      await readChecklist(port, 21, { items: null, ticks: [], waiver: null }),
      { issue: 21, status: "open", checked: 1, total: 3 },
      "older reviews: the body",
    );
  });
});
