/**
 * Attack catalogue, post-event reviews: the insider under review (the requester, who also broke the
 * glass) tries to sign off their own review — by `/waive`, by ticking the second-person item, by
 * deleting its line, by editing someone else's comment into a waiver, or by a tick the app never saw.
 * GitHub does not say who ticked a box, only who edited the body (`sender`) and what it was before
 * (`changes.body.from`); the app credits each tick to that edit's sender in a signed record.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { reviewItemText, SECOND_PERSON_ITEM } from "../../src/core/review-items.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import { appTexts, historyOf, openRequest, owner, refusalFor, repo, say } from "./attack-kit.ts";

let sb: Sandbox;
before(async () => {
  sb = await startSandbox();
});
after(() => sb.close());

const SECOND = reviewItemText(SECOND_PERSON_ITEM);
const FIRST_POLICY_ITEM = reviewItemText("Confirm the incident and link it");

/** A break-glass use by `who`, granted and ended with its job: its review issue is open. */
async function brokenGlassReview(who: string): Promise<{ n: number; review: number }> {
  const n = await openRequest(sb, who, {
    resource: "model-rollback",
    role: "rollback",
    duration: "30m",
    severity: "critical",
  });
  await say(sb, who, n, "/break-glass the model is serving harmful answers and nobody answers the page");
  const review = (await historyOf(sb, n)).state.review_issue;
  assert.ok(review, "the post-event review was opened");
  return { n, review };
}

const issue = async (number: number) =>
  (await sb.as("dave").rest.issues.get({ owner, repo, issue_number: number })).data;

async function editBody(who: string, number: number, change: (body: string) => string): Promise<void> {
  const body = (await issue(number)).body ?? "";
  await sb.as(who).rest.issues.update({ owner, repo, issue_number: number, body: change(body) });
  await sb.settle();
}

const tick = (text: string) => (body: string) => {
  assert.ok(body.includes(`- [ ] ${text}`), `the review lists "${text}" unchecked`);
  return body.replace(`- [ ] ${text}`, `- [x] ${text}`);
};
const tickAll = (body: string) => body.replace(/^- \[ \] /gm, "- [x] ");
const checked = (body: string | null | undefined, text: string) => (body ?? "").includes(`- [x] ${text}`);

async function close(who: string, number: number): Promise<"open" | "closed"> {
  await sb.as(who).rest.issues.update({ owner, repo, issue_number: number, state: "closed" });
  await sb.settle();
  return (await issue(number)).state as "open" | "closed";
}

const reviewEvents = async (n: number) =>
  (await historyOf(sb, n)).events.filter((e) => e.type.startsWith("review_"));

test("A124 the requester (who broke the glass) cannot /waive their own review; closing is still refused", async () => {
  const { n, review } = await brokenGlassReview("ivan");
  await say(sb, "ivan", review, "/waive it was an emergency, nothing more to review here");
  const message = await refusalFor(sb, review, "ivan", "self_waiver");
  assert.match(message, /cannot waive the review of your own access/);
  assert.equal((await historyOf(sb, n)).state.review.waiver, null, "no waiver recorded");
  assert.equal(
    await close("ivan", review),
    "open",
    "reopened: the items are not done and nothing was waived",
  );
  assert.ok(
    (await appTexts(sb, review)).some(
      (t) => t.includes("still has unchecked items") && t.includes("Second-person review"),
    ),
  );
  // A waiver that says nothing is refused even from someone allowed to waive.
  await say(sb, "grace", review, "/waive ----------------");
  assert.match(await refusalFor(sb, review, "grace", "invalid_command"), /no letters or digits/);
  assert.equal((await historyOf(sb, n)).state.review.waiver, null);
});

test("A125 the requester ticking the second-person item is refused and un-ticked; the review cannot be closed", async () => {
  const { n, review } = await brokenGlassReview("olga");
  await editBody("olga", review, tick(SECOND));
  const after = await issue(review);
  assert.ok(!checked(after.body, SECOND), "the app un-ticked it");
  assert.ok(after.body?.includes(`- [ ] ${SECOND}`), "the item is still there, unchecked");
  const notice = (await appTexts(sb, review)).find((t) => t.startsWith("↩️ @olga: un-ticked"));
  assert.ok(notice, "a comment says what happened");
  assert.match(notice, /`self_review`/);
  assert.match(notice, /other than @\u200bolga/, "and who may tick it");
  assert.deepEqual(await reviewEvents(n), [], "no tick was recorded");
  // The other items are hers to tick, and are credited to her.
  await editBody("olga", review, tick(FIRST_POLICY_ITEM));
  assert.deepEqual(
    (await reviewEvents(n)).map((e) => [e.type, e.actor]),
    [["review_item_checked", "olga"]],
  );
  assert.equal(await close("olga", review), "open");
});

test("A126 an allowed reviewer's tick is accepted and credited to them in a signed record; later edits by others do not move it", async () => {
  const { n, review } = await brokenGlassReview("rita");
  await editBody("grace", review, tick(SECOND));
  assert.ok(checked((await issue(review)).body, SECOND), "the tick stays");
  const [recorded] = await reviewEvents(n);
  assert.equal(recorded?.type, "review_item_checked");
  assert.equal(recorded?.actor, "grace", "credited to the sender of the edit that ticked it");
  assert.ok(
    recorded?.type === "review_item_checked" &&
      recorded.item === SECOND_PERSON_ITEM &&
      recorded.issue === review,
  );
  assert.ok(
    (await appTexts(sb, n)).some((t) => t.startsWith("☑️ @grace ticked “Second-person review")),
    "announced on the request",
  );
  // The requester ticks everything else in one edit: those are hers, the second-person item stays grace's.
  await editBody("rita", review, tickAll);
  const state = (await historyOf(sb, n)).state;
  assert.equal(state.review.ticks.find((t) => t.item === SECOND_PERSON_ITEM)?.actor, "grace");
  assert.ok(state.review.ticks.filter((t) => t.item !== SECOND_PERSON_ITEM).every((t) => t.actor === "rita"));
  assert.equal(state.review.ticks.length, state.review.items?.length, "every item is credited to someone");
  assert.equal(await close("rita", review), "closed", "every item done: the review closes");
});

test("A127 deleting the second-person line from the body does not complete it", async () => {
  const { review } = await brokenGlassReview("sam");
  await editBody("sam", review, (body) =>
    tickAll(
      body
        .split("\n")
        .filter((line) => !line.includes(SECOND))
        .join("\n"),
    ),
  );
  assert.equal(await close("sam", review), "open", "the items are the recorded ones, not the body's lines");
  assert.ok(
    (await appTexts(sb, review)).some(
      (t) => t.includes("1 not done") && t.includes("Second-person review") && t.includes("not checked"),
    ),
  );
});

test("A128 an edit of someone else's comment into /waive is no waiver; a new /waive by another person is", async () => {
  const { n, review } = await brokenGlassReview("erin");
  const { data } = await sb
    .as("grace")
    .rest.issues.createComment({ owner, repo, issue_number: review, body: "Looking at this tomorrow." });
  await sb.settle();
  await sb.as("erin").rest.issues.updateComment({
    owner,
    repo,
    comment_id: data.id,
    body: "/waive grace agreed nothing needs review",
  });
  await sb.settle();
  assert.equal((await historyOf(sb, n)).state.review.waiver, null, "grace never waived anything");
  assert.equal(await close("erin", review), "open");
  await say(sb, "grace", review, "/waive the rollback was reverted within a minute, nothing changed");
  const waiver = (await historyOf(sb, n)).state.review.waiver;
  assert.equal(waiver?.actor, "grace", "the waiver is recorded, signed, on the request");
  assert.equal(await close("erin", review), "closed");
});

test("A129 a box ticked in an edit the app never saw is credited to nobody: un-ticked when next seen", async () => {
  const { n, review } = await brokenGlassReview("heidi");
  sb.emulator.faults.dropWebhooks((w) => w.event === "issues" && w.action === "edited");
  await editBody("heidi", review, tick(SECOND));
  sb.emulator.faults.clear();
  // grace's later edit shows the box already checked before her edit: it is not hers.
  await editBody("grace", review, tick(FIRST_POLICY_ITEM));
  const body = (await issue(review)).body;
  assert.ok(!checked(body, SECOND), "the unattributed tick was undone");
  assert.ok(checked(body, FIRST_POLICY_ITEM), "grace's own tick stays");
  assert.deepEqual(
    (await reviewEvents(n)).map((e) => [e.type, e.actor]),
    [["review_item_checked", "grace"]],
  );
  assert.ok(
    (await appTexts(sb, review)).some(
      (t) => t.startsWith("↩️ @grace: un-ticked") && t.includes("`unattributed_tick`"),
    ),
  );
});
