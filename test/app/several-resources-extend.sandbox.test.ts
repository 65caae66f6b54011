/**
 * `/extend` on a request naming several resources (attack catalogue A265–A267), through the real app
 * in the sandbox: with several grants live the requester names the resource; the extension is
 * approved by that resource's owners with its step-up (an SSH signature naming the resource and the
 * extension's hash, made by the real `breakglass approve`), and only that grant's expiry moves.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { checkStepUpProofs } from "../../src/audit/step-up-proofs.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import { historyOf, refusalFor } from "../security/attack-kit.ts";
import { sandboxHelpers } from "../support/sandbox-helpers.ts";
import { perResourceProvider, signedComment, STEP_UP_FILES, TWO } from "../support/several-step-up.ts";

let sb: Sandbox;
const { openRequest, say, stateOf, appTexts } = sandboxHelpers(() => sb);
const { provider, extended } = perResourceProvider();
const MIN = 60_000;

before(async () => {
  sb = await startSandbox({ files: STEP_UP_FILES, providers: { postgres: provider } });
});
after(() => sb.close());

/** The latest refusal for `who` with this code, with GitHub's escaping undone. */
async function refusal(n: number, who: string, code: string): Promise<string> {
  await refusalFor(sb, n, who, code);
  const prefix = `👎 @${who} — refused (\`${code}\`): `;
  const found = (await appTexts(n)).filter((t) => t.startsWith(prefix)).at(-1)!;
  return found
    .slice(prefix.length)
    .replace(/&#96;/g, "`")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/\\/g, "");
}
const expiry = async (n: number, part: string) =>
  Date.parse((await stateOf(n)).parts![part]!.grant!.expires_at);

/** Both resources approved (grace and heidi sign both) and live. */
async function bothLive(): Promise<number> {
  const n = await openRequest("dave", TWO);
  await sb.approveSigned("grace", n);
  await sb.approveSigned("heidi", n);
  const s = await stateOf(n);
  assert.equal(s.parts!["model-alpha"]!.status, "active");
  assert.equal(s.parts!["model-beta"]!.status, "active");
  return n;
}

describe("/extend on a request naming two resources", () => {
  it("A265 with both grants live, `/extend` without a resource is refused, naming the live ones; nothing is recorded", async () => {
    const n = await bothLive();
    await say("dave", n, "/extend 10m the rollback is still running");
    const message = await refusal(n, "dave", "part_required");
    assert.match(message, /`model-alpha`, `model-beta`/);
    assert.match(message, /\/extend <duration> model-alpha <reason>/);
    const h = await historyOf(sb, n);
    assert.ok(!h.events.some((e) => e.type === "extension_requested"));
  });

  it("A266 `/extend 10m model-beta …` is approved by model-beta's owners with a signature naming model-beta and the extension's hash; only its grant moves; audit verify re-checks it", async () => {
    const n = await bothLive();
    const alphaBefore = await expiry(n, "model-alpha");
    const betaBefore = await expiry(n, "model-beta");
    await say("dave", n, "/extend 10m model-beta the rollback is still running");
    const s = await stateOf(n);
    assert.equal(s.parts!["model-alpha"]!.extension, null);
    const extension = s.parts!["model-beta"]!.extension;
    assert.ok(extension, "model-beta's extension is waiting");
    assert.equal(extension.reason, "the rollback is still running", "the resource is not part of the reason");
    assert.ok((await appTexts(n)).some((t) => t.includes("extend the grant of `model-beta` by 10m")));

    // A plain /approve is not enough for a step-up policy's extension.
    await say("grace", n, "/approve");
    assert.match(await refusal(n, "grace", "step_up_required"), /approve the extension/);

    // `breakglass approve` signs the extension waiting, for model-beta only, over the extension's hash.
    const { body, shown } = await signedComment(sb, "grace", n);
    assert.match(shown, /Approving the extension of one resource/);
    assert.ok(
      body.includes(`Signed: breakglass-extend ${sb.repository}#${n} model-beta=${extension.hash}`),
      body,
    );
    await say("grace", n, body);
    const after = await stateOf(n);
    assert.equal(after.parts!["model-beta"]!.extension, null);
    assert.equal(await expiry(n, "model-beta"), betaBefore + 10 * MIN, "model-beta's grant moved");
    assert.equal(await expiry(n, "model-alpha"), alphaBefore, "model-alpha's did not");
    assert.deepEqual(extended, [`ext_${n}_model-beta`], "only model-beta's credential was extended");
    const h = await historyOf(sb, n);
    const approval = h.events.find((e) => e.type === "extension_approved") as
      { part?: string; step_up?: { method: string } } | undefined;
    assert.equal(approval?.part, "model-beta");
    assert.equal(approval?.step_up?.method, "ssh-signature");
    assert.deepEqual(
      await checkStepUpProofs(
        h.chain.map((e) => e.entry),
        { repo: sb.repository, issue: n },
      ),
      {
        checked: 5,
        breaks: [],
      },
    );
  });

  it("A267 a signature for one resource's extension does not approve another's, nor does the request's own approval", async () => {
    const n = await bothLive();
    await say("dave", n, "/extend 10m model-beta the rollback is still running");
    const forBeta = (await signedComment(sb, "grace", n)).body;
    await say("dave", n, "/extend 10m model-alpha the rollback is still running too");
    const alpha = (await stateOf(n)).parts!["model-alpha"]!;
    assert.ok(alpha.extension);
    // grace's signed approval of model-beta's extension, posted while both extensions wait: model-beta's only.
    await say("grace", n, forBeta);
    const after = await stateOf(n);
    assert.equal(after.parts!["model-beta"]!.extension, null, "model-beta's extension was approved");
    assert.ok(after.parts!["model-alpha"]!.extension, "model-alpha's was not");
    // Posted again for model-alpha: refused, the signature names model-beta's extension only.
    await say("grace", n, forBeta);
    assert.match(
      await refusal(n, "grace", "step_up_wrong_request"),
      /`model-beta` only, not for the extension waiting on `model-alpha`/,
    );
    // The approval of the request itself (grace's first signed comment), posted again: not an extension.
    const first = (await sandboxHelpers(() => sb).allComments(n)).find(
      (c) => c.user?.login === "grace" && (c.body ?? "").includes("Signed: breakglass-approve"),
    );
    assert.ok(first?.body);
    await say("grace", n, first.body);
    assert.match(await refusal(n, "grace", "step_up_wrong_request"), /approval of the request itself/);
    assert.ok((await stateOf(n)).parts!["model-alpha"]!.extension, "still waiting");
  });

  it("with one grant live, `/extend` without a resource extends that one", async () => {
    const n = await openRequest("dave", TWO);
    for (const who of ["grace", "heidi"])
      await say(who, n, (await signedComment(sb, who, n, "model-alpha")).body);
    const s = await stateOf(n);
    assert.equal(s.parts!["model-alpha"]!.status, "active");
    assert.equal(s.parts!["model-beta"]!.status, "requested");
    await say("dave", n, "/extend 10m the rollback is still running");
    assert.ok((await stateOf(n)).parts!["model-alpha"]!.extension, "model-alpha's extension waits");
    // Naming a resource with no live grant is refused with what is live.
    await say("dave", n, "/extend 10m model-beta the rollback");
    assert.match(
      await refusal(n, "dave", "not_active"),
      /`model-beta` has no live grant.*live now: `model-alpha`/,
    );
  });
});
