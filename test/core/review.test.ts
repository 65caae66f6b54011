import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import type { Actor } from "../../src/core/approval-rules.ts";
import type { TimedEvent } from "../../src/core/lifecycle-events.ts";
import { applyEvent, foldEvents, type RequestState } from "../../src/core/lifecycle.ts";
import {
  reviewItems,
  reviewItemText,
  SECOND_PERSON_ITEM,
  selfReviewers,
} from "../../src/core/review-items.ts";
import { outstandingItems, reviewEditChanges } from "../../src/core/review-progress.ts";
import { decideReviewTick, decideWaiver } from "../../src/core/review-rules.ts";
import { isTaskChecked, readTaskItems, uncheckTaskItems } from "../../src/core/task-list.ts";
import type { AccessRequest } from "../../src/core/types.ts";

const at = "2026-11-24T09:00:00.000Z";
const request: AccessRequest = {
  resource: "model-rollback",
  role: "rollback",
  duration_seconds: 1800,
  severity: "critical",
  justification: "Model serves harmful answers.",
  incident: null,
  drill: false,
};
const ITEMS = reviewItems(["Confirm the incident and link it", "Record the root cause"], true);
const REVIEW = 42;

const fold = (events: Array<Record<string, unknown>>): RequestState => {
  const r = foldEvents(events.map((e) => ({ at, ...e }) as TimedEvent));
  assert.ok(r.ok, JSON.stringify(r));
  return r.state;
};
/** ivan broke the glass on his own request; the grant ended and review #42 opened. */
const reviewed = (extra: Array<Record<string, unknown>> = []) =>
  fold([
    { type: "requested", actor: "ivan", request, hash: "h", required_approvals: 1 },
    { type: "break_glass", actor: "ivan", hash: "h", reason: "model is harmful and nobody answers" },
    {
      type: "granted",
      actor: "app[bot]",
      grant_id: "g",
      run_id: "1",
      provider: "jwt",
      credential_id: "c",
      expires_at: at,
    },
    { type: "revoked", actor: "app[bot]", grant_id: "g", reason: "job_ended", evidence: "ok" },
    { type: "checklist_opened", actor: "app[bot]", issue: REVIEW, items: ITEMS },
    ...extra,
  ]);
const person = (login: string, permission: Actor["permission"] = "write"): Actor => ({
  login,
  type: "User",
  permission,
  eligibility: null,
});
const body = (checked: readonly string[]) =>
  [
    "Intro",
    "",
    ...ITEMS.map((i) => `- [${checked.includes(i) ? "x" : " "}] ${reviewItemText(i)}`),
    "",
    "### Timeline",
  ].join("\n");

describe("task lists", () => {
  test("reads items outside code fences only, as GitHub renders them", () => {
    const text = "- [x] done\n* [ ] open\n```\n- [x] in code\n```\n+ [X] upper\n- [] not a box\n";
    assert.deepEqual(
      readTaskItems(text).map((t) => [t.text, t.checked]),
      [
        ["done", true],
        ["open", false],
        ["upper", true],
      ],
    );
  });

  test("unchecks exactly the named items and keeps every other byte", () => {
    const text = "a\r\n- [x] one\r\n- [x] two\n```\n- [x] one\n```\n- [x] one";
    assert.equal(
      uncheckTaskItems(text, new Set(["one"])),
      "a\r\n- [ ] one\r\n- [x] two\n```\n- [x] one\n```\n- [ ] one",
    );
    assert.equal(uncheckTaskItems(text, new Set(["three"])), text);
  });

  test("property: after unchecking, none of the named items is checked and the rest are unchanged", () => {
    const line = fc.tuple(
      fc.constantFrom("- [x] ", "- [ ] ", "* [X] ", "text ", "```", ""),
      fc.constantFrom("a", "b", "c"),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), (lines) => {
        const text = lines.map(([p, t]) => `${p}${t}`).join("\n");
        const out = uncheckTaskItems(text, new Set(["a"]));
        assert.ok(!isTaskChecked(out, "a"));
        assert.deepEqual(
          readTaskItems(out).filter((t) => t.text !== "a"),
          readTaskItems(text).filter((t) => t.text !== "a"),
        );
      }),
    );
  });
});

describe("who ticked what, from one edit", () => {
  test("a newly checked box is the sender's; a box checked before and after with no record is nobody's", () => {
    const state = reviewed();
    const changes = reviewEditChanges(ITEMS, state.review, body([ITEMS[1]!]), body([ITEMS[0]!, ITEMS[1]!]));
    assert.deepEqual(changes, { ticked: [ITEMS[0]], unticked: [], unattributed: [ITEMS[1]] });
  });

  test("an unchecked box that was recorded is an untick; a recorded box left alone is nothing", () => {
    const state = reviewed([
      { type: "review_item_checked", actor: "grace", issue: REVIEW, item: ITEMS[1] },
      { type: "review_item_checked", actor: "grace", issue: REVIEW, item: ITEMS[2] },
    ]);
    const changes = reviewEditChanges(ITEMS, state.review, body([ITEMS[1]!, ITEMS[2]!]), body([ITEMS[2]!]));
    assert.deepEqual(changes, { ticked: [], unticked: [ITEMS[1]], unattributed: [] });
  });

  test("a reworded or added line is not an item", () => {
    const before = body([]);
    const after = `${before}\n- [x] ${reviewItemText(SECOND_PERSON_ITEM)} (done by me)\n- [x] something else`;
    assert.deepEqual(reviewEditChanges(ITEMS, reviewed().review, before, after), {
      ticked: [],
      unticked: [],
      unattributed: [],
    });
  });
});

describe("what is left to do", () => {
  test("an item is done only when checked in the body and recorded", () => {
    const state = reviewed([
      { type: "review_item_checked", actor: "grace", issue: REVIEW, item: SECOND_PERSON_ITEM },
    ]);
    assert.deepEqual(
      outstandingItems(ITEMS, state.review, body([SECOND_PERSON_ITEM, ITEMS[1]!])).map((o) => [
        o.item,
        o.why,
      ]),
      [
        [ITEMS[1], "unattributed"],
        [ITEMS[2], "unchecked"],
      ],
    );
  });

  test("deleting an item's line leaves it outstanding", () => {
    const text = body(ITEMS)
      .split("\n")
      .filter((l) => !l.includes("Second-person"))
      .join("\n");
    assert.deepEqual(outstandingItems(ITEMS, reviewed().review, text)[0], {
      item: SECOND_PERSON_ITEM,
      why: "unchecked",
    });
  });
});

describe("decisions", () => {
  test("the requester, who also broke the glass, cannot tick the second-person item; others with write access can", () => {
    const state = reviewed();
    assert.deepEqual(selfReviewers(state), ["ivan"]);
    const self = decideReviewTick(state, SECOND_PERSON_ITEM, person("Ivan"));
    assert.ok(!self.ok && self.error.code === "self_review", "case does not matter");
    assert.match(self.ok ? "" : self.error.message, /other than @ivan/);
    assert.ok(
      decideReviewTick(state, ITEMS[1]!, person("ivan")).ok,
      "the other items are the requester's to tick too",
    );
    assert.deepEqual(decideReviewTick(state, SECOND_PERSON_ITEM, person("grace")), {
      ok: true,
      value: { type: "review_item_checked", actor: "grace", issue: REVIEW, item: SECOND_PERSON_ITEM },
    });
    const read = decideReviewTick(state, SECOND_PERSON_ITEM, person("sam", "read"));
    assert.ok(!read.ok && read.error.code === "insufficient_permission");
    const bot = decideReviewTick(state, ITEMS[1]!, { ...person("ci[bot]"), type: "Bot" });
    assert.ok(!bot.ok && bot.error.code === "bot_reviewer");
  });

  test("whoever broke the glass is excluded too, even when someone else opened the request", () => {
    const state = { ...reviewed(), requester: "olga", break_glass: { actor: "ivan", reason: "x" } };
    assert.deepEqual(selfReviewers(state), ["olga", "ivan"]);
    for (const who of ["olga", "ivan"])
      assert.ok(!decideReviewTick(state, SECOND_PERSON_ITEM, person(who)).ok, who);
  });

  test("waivers: not by the people under review, not without words, once", () => {
    const state = reviewed();
    const self = decideWaiver(state, person("ivan"), "nothing to review here at all", 7);
    assert.ok(!self.ok && self.error.code === "self_waiver");
    for (const reason of ["", "----------------", "\u200b".repeat(20), "too short"]) {
      const r = decideWaiver(state, person("grace"), reason, 7);
      assert.ok(!r.ok && r.error.code === "invalid_command", JSON.stringify(reason));
    }
    const read = decideWaiver(state, person("sam", "read"), "the rollback never ran at all", 7);
    assert.ok(!read.ok && read.error.code === "insufficient_permission");
    const ok = decideWaiver(state, person("grace"), "the rollback never ran at all", 7);
    assert.ok(ok.ok);
    const waived = applyEvent(state, { ...ok.value, at });
    assert.ok(waived.ok && waived.value.review.waiver?.actor === "grace");
    assert.ok(
      waived.ok && !decideWaiver(waived.value, person("heidi"), "the rollback never ran at all", 8).ok,
      "one waiver",
    );
  });
});

describe("the lifecycle keeps the invariants even if a caller does not", () => {
  test("a second-person tick or a waiver by the person under review is refused by the fold", () => {
    const state = reviewed();
    const tick = applyEvent(state, {
      type: "review_item_checked",
      actor: "ivan",
      issue: REVIEW,
      item: SECOND_PERSON_ITEM,
      at,
    });
    assert.ok(!tick.ok && tick.error.code === "self_review");
    const waive = applyEvent(state, {
      type: "review_waived",
      actor: "IVAN",
      issue: REVIEW,
      reason: "whatever I like",
      comment_id: 1,
      at,
    });
    assert.ok(!waive.ok && waive.error.code === "self_waiver");
  });

  test("review events name their review: another issue's number is refused", () => {
    const wrong = applyEvent(reviewed(), {
      type: "review_item_checked",
      actor: "grace",
      issue: REVIEW + 1,
      item: ITEMS[1]!,
      at,
    });
    assert.ok(!wrong.ok && wrong.error.code === "invalid_transition");
  });

  test("the latest tick or untick of an item wins; records opened before items were recorded have none", () => {
    const state = reviewed([
      { type: "review_item_checked", actor: "grace", issue: REVIEW, item: ITEMS[1] },
      { type: "review_item_unchecked", actor: "ivan", issue: REVIEW, item: ITEMS[1] },
      { type: "review_item_checked", actor: "heidi", issue: REVIEW, item: ITEMS[1] },
    ]);
    assert.deepEqual(
      state.review.ticks.map((t) => [t.item, t.actor]),
      [[ITEMS[1], "heidi"]],
    );
    assert.deepEqual(state.review.items, ITEMS);
    const legacy = fold([
      { type: "requested", actor: "dave", request, hash: "h", required_approvals: 1 },
      { type: "denied", actor: "grace", reason: "no" },
      { type: "checklist_opened", actor: "app[bot]", issue: 9 },
    ]);
    assert.equal(legacy.review.items, null);
  });
});
