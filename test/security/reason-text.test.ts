/**
 * Attack catalogue, text that says nothing or hides what it says: a break-glass "reason" made of
 * zero-width characters or dashes (which would self-approve), other required reasons that say
 * nothing, and bidi controls in a justification that must not reach any output — the issue, the
 * notifications, or the md/csv/html/json/jsonl audit exports.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { slackText } from "../../src/app/infra/notifier.ts";
import { run } from "../../src/cli/commands/audit.ts";
import type { CliIO } from "../../src/cli/io.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import {
  allComments,
  appTexts,
  assertNothingGranted,
  historyOf,
  openRequest,
  refusalFor,
  say,
} from "./attack-kit.ts";

let sb: Sandbox;
let dir: string;
before(async () => {
  sb = await startSandbox();
  dir = await mkdtemp(join(tmpdir(), "breakglass-reason-text-"));
});
after(async () => {
  await sb.close();
  await rm(dir, { recursive: true, force: true });
});

const rollback = (who: string, justification?: string) =>
  openRequest(sb, who, {
    resource: "model-rollback",
    role: "rollback",
    duration: "30m",
    severity: "critical",
    ...(justification ? { justification } : {}),
  });

/** Bidi controls and invisible characters, checked independently of the app's own list. */
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;
// eslint-disable-next-line no-misleading-character-class -- these characters are what the test looks for
const HIDDEN = /[\p{Cf}\u00ad\u034f\u115f\u1160\u3164\uffa0]|[\u{e0000}-\u{e0fff}]/u;
/** The app's own U+200B after "@", "#" or "-" is how Markdown output defuses mentions and issue links. */
const hiddenOutsideDefusing = (text: string) => HIDDEN.test(text.replace(/(?<=[@#-])\u200b/g, ""));

test("A120 /break-glass whose reason is only zero-width characters is refused and grants nothing", async () => {
  const n = await rollback("ivan");
  for (const reason of [
    "\u200b".repeat(12),
    "\u200b\u200c\u200d\u2060\ufeff\u00ad".repeat(3),
    "\u202e\u2066\u{e0041}\u{e0042}".repeat(4),
  ]) {
    await say(sb, "ivan", n, `/break-glass ${reason}`);
  }
  const message = await refusalFor(sb, n, "ivan", "invalid_command");
  assert.match(message, /needs a reason/);
  const history = await assertNothingGranted(sb, n);
  assert.equal(history.state.status, "requested");
  assert.equal(history.state.break_glass, null, "nothing self-approved");
  assert.ok(
    !sb.notifier.sent.some((m) => m.notification.issue === n && m.notification.event === "break_glass"),
    "nobody was told the glass was broken",
  );
});

test("A121 /break-glass whose reason is only dashes or punctuation (visible, but no words) is refused", async () => {
  const n = await rollback("olga");
  for (const reason of [
    "------------",
    "— — — — — — — —",
    "-\u200b-\u200b-\u200b-\u200b-\u200b-\u200b-\u200b-\u200b-\u200b-\u200b",
    "!!!...???!!!",
  ]) {
    await say(sb, "olga", n, `/break-glass ${reason}`);
  }
  const texts = (await appTexts(sb, n)).filter((t) => t.startsWith("👎 @olga — refused (`invalid_command`)"));
  assert.equal(texts.length, 4, "each attempt was refused");
  assert.ok(
    texts.every((t) => /no letters or digits/.test(t) && /Say in words why/.test(t)),
    texts.join("\n"),
  );
  await assertNothingGranted(sb, n);
  // The same person, with words, is let through: the refusal was about the text, not the person.
  await say(sb, "olga", n, "/break-glass the model gives dangerous medical advice");
  assert.equal((await historyOf(sb, n)).state.break_glass?.actor, "olga");
});

test("A122 /deny with a reason that says nothing (dashes, zero-width spaces) is refused; the request is unchanged", async () => {
  const n = await openRequest(sb, "rita", {
    resource: "model-guardrail-override",
    role: "override",
    duration: "30m",
    severity: "critical",
  });
  await say(sb, "grace", n, "/deny ---");
  const message = await refusalFor(sb, n, "grace", "invalid_command");
  assert.match(message, /no letters or digits.*\/deny &lt;reason&gt;/, "says what to write instead");
  await say(sb, "grace", n, "/deny \u200b\u200b\u200b");
  const history = await assertNothingGranted(sb, n);
  assert.equal(history.state.status, "requested", "not denied by an empty reason");
  assert.equal(history.state.denial, null);
});

test("A123 bidi and invisible characters in a justification and a break-glass reason reach no comment, notification or export", async () => {
  const sneaky =
    "Rollback of model \u202eNOISSIMREP\u202c after \u2066harmful\u2069 answers\u200b\u200d\u2060 \u{e0049}\u{e0047}\u{e004e}";
  const n = await rollback("sam", sneaky);
  await say(sb, "sam", n, "/break-glass users see \u202eegasu\u202c and \u200fbad\u200e answers\ufeff now");
  const state = (await historyOf(sb, n)).state;
  assert.ok(state.grant, "granted: the text is fine, only its hidden characters are not shown");
  assert.ok(
    state.request?.justification.includes("\u202e"),
    "the signed record keeps what was typed, as evidence",
  );

  const comments = (await allComments(sb, n))
    .filter((c) => c.user?.login === sb.appLogin)
    .map((c) => c.body ?? "");
  assert.ok(
    comments.some((c) => c.includes("egasu")),
    "the reason is shown",
  );
  for (const body of comments)
    assert.ok(
      !BIDI.test(body) && !hiddenOutsideDefusing(body),
      `app comment with a hidden character: ${JSON.stringify(body.slice(0, 300))}`,
    );
  const review = state.review_issue;
  assert.ok(review, "the review issue was opened");
  const reviewBody =
    (await sb.as("dave").rest.issues.get({ owner: "acme", repo: "ops", issue_number: review })).data.body ??
    "";
  assert.ok(
    !BIDI.test(reviewBody) && !hiddenOutsideDefusing(reviewBody),
    "nor in the review issue's timeline",
  );

  const alerts = sb.notifier.sent.filter((m) => m.notification.issue === n);
  assert.ok(alerts.some((m) => m.notification.summary.includes("egasu")));
  for (const m of alerts)
    assert.ok(
      !HIDDEN.test(slackText(m.notification)),
      `Slack text with a hidden character: ${JSON.stringify(slackText(m.notification))}`,
    );

  const jwks = `${sb.app.url}/breakglass/jwks.json`;
  for (const format of ["csv", "html", "json", "md", "jsonl"]) {
    const file = `report.${format}`;
    const out: CliIO & { err: string } = {
      err: "",
      stdout: () => undefined,
      stderr: (t: string) => void (out.err += t),
      readStdin: async () => "",
      cwd: dir,
      env: { GITHUB_TOKEN: sb.emulator.userToken("dave"), GITHUB_API_URL: sb.emulator.apiUrl },
    };
    assert.equal(
      await run(["export", "--repo", sb.repository, "--format", format, "--out", file, "--jwks", jwks], out),
      0,
      out.err,
    );
    const text = await readFile(join(dir, file), "utf8");
    assert.ok(!BIDI.test(text), `${format} export carries a bidi control`);
    if (format === "jsonl") continue; // signed records only: base64url, checked by verify
    assert.ok(text.includes("NOISSIMREP"), `${format} export shows the justification`);
    if (format !== "html")
      assert.ok(
        !(format === "md" ? hiddenOutsideDefusing(text) : HIDDEN.test(text)),
        `${format} export carries an invisible character`,
      );
  }
  // The HTML report inlines Chart.js, whose source is not ours to rewrite: check the report's own parts.
  const html = await readFile(join(dir, "report.html"), "utf8");
  const ours = html.replace(/<script>(?!\s*\{)[\s\S]*?<\/script>/g, "");
  assert.ok(!HIDDEN.test(ours), "the HTML report's text carries no invisible character");
});
