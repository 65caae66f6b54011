/**
 * Step-up on a request naming several resources (attack catalogue A260–A264), through the real app
 * in the sandbox: one `breakglass approve` signature (real ssh-keygen, the approver's GitHub signing
 * key) binds each resource it covers by name and that resource's own hash; `--resource` signs one;
 * a signature for one resource never counts for another; an edit of one resource voids only what
 * that resource needed; `breakglass audit verify` re-checks every recorded proof.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { checkStepUpProofs } from "../../src/audit/step-up-proofs.ts";
import { run as audit } from "../../src/cli/commands/audit.ts";
import type { LifecycleEvent } from "../../src/core/lifecycle-events.ts";
import { requestFormBody } from "../../src/sandbox/request-body.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import { historyOf, refusalFor } from "../security/attack-kit.ts";
import { sandboxHelpers } from "../support/sandbox-helpers.ts";
import { command } from "../../src/cli/commands/approve.ts";
import { cliAs, perResourceProvider, signedComment, STEP_UP_FILES, TWO } from "../support/several-step-up.ts";

const owner = "acme";
const repo = "ops";
let sb: Sandbox;
const { openRequest, say, stateOf, appTexts } = sandboxHelpers(() => sb);

before(async () => {
  sb = await startSandbox({
    files: STEP_UP_FILES,
    providers: { postgres: perResourceProvider().provider },
  });
});
after(() => sb.close());

const io = (login: string) => cliAs(sb, login);
const signed = async (login: string, n: number, resource?: string) =>
  (await signedComment(sb, login, n, resource)).body;

/** The refusal's message as the issue shows it, with GitHub's escaping undone. */
const refusal = async (n: number, who: string, code: string) =>
  (await refusalFor(sb, n, who, code)).replace(/&#96;/g, "`").replace(/\\/g, "");

const approvalsOf = async (n: number, part: string) =>
  (await stateOf(n)).parts![part]!.approvals.map((a) => a.actor);

describe("SSH step-up on a request naming two resources", () => {
  it("A260 one signature binds both resources by name and hash: both are approved, each record keeps the proof, audit verify re-checks both", async () => {
    const n = await openRequest("dave", TWO);
    const s = await stateOf(n);
    const body = await signed("grace", n);
    const hashes = ["model-alpha", "model-beta"].map((p) => `${p}=${s.parts![p]!.hash}`).join(" ");
    assert.ok(body.includes(`Signed: breakglass-approve ${owner}/${repo}#${n} ${hashes}`), body);
    await say("grace", n, body);
    assert.deepEqual(await approvalsOf(n, "model-alpha"), ["grace"]);
    assert.deepEqual(await approvalsOf(n, "model-beta"), ["grace"]);
    await sb.approveSigned("heidi", n);
    const h = await historyOf(sb, n);
    assert.equal(h.state.parts!["model-alpha"]!.status, "active");
    assert.equal(h.state.parts!["model-beta"]!.status, "active");
    const approvals = h.events.filter((e) => e.type === "approved") as Array<
      Extract<LifecycleEvent, { type: "approved" }> & { part?: string }
    >;
    assert.equal(approvals.length, 4);
    for (const a of approvals) {
      assert.equal(a.step_up?.method, "ssh-signature");
      const parts = a.step_up?.method === "ssh-signature" ? a.step_up.parts : undefined;
      assert.ok(
        parts?.some((p) => p.resource === a.part && p.hash === a.hash),
        "the proof covers its own part at its hash",
      );
    }
    const entries = h.chain.map((e) => e.entry);
    assert.deepEqual(await checkStepUpProofs(entries, { repo: sb.repository, issue: n }), {
      checked: 4,
      breaks: [],
    });
    // A proof that covers model-alpha only (as `--resource model-alpha` makes) does not verify on model-beta's record.
    const moved = entries.map((e) => {
      const event = e.event as LifecycleEvent & { part?: string };
      if (
        event.type !== "approved" ||
        event.part !== "model-beta" ||
        event.step_up?.method !== "ssh-signature"
      )
        return e;
      const alphaOnly = event.step_up.parts!.filter((p) => p.resource === "model-alpha");
      return { ...e, event: { ...event, step_up: { ...event.step_up, parts: alphaOnly } } };
    });
    const checked = await checkStepUpProofs(moved, { repo: sb.repository, issue: n });
    assert.equal(checked.breaks.length, 2, JSON.stringify(checked));
    assert.match(checked.breaks[0]!.reason, /does not cover `model-beta`/);
    const cli = io("sam");
    const code = await audit(
      ["verify", "--repo", sb.repository, "--jwks", `${sb.app.url}/breakglass/jwks.json`],
      cli.io,
    );
    assert.equal(code, 0, cli.out() + cli.err());
  });

  it("A261 `--resource` signs one resource only: the other is not approved by the same comment", async () => {
    const n = await openRequest("dave", TWO);
    const body = await signed("grace", n, "model-beta");
    assert.match(
      body,
      new RegExp(`^Signed: breakglass-approve ${owner}/${repo}#${n} model-beta=[0-9a-f]{64}$`, "m"),
    );
    await say("grace", n, body);
    assert.deepEqual(await approvalsOf(n, "model-beta"), ["grace"]);
    assert.deepEqual(await approvalsOf(n, "model-alpha"), [], "model-alpha was not signed for");
    // grace may decide model-alpha too: she is told this comment did not approve it, and why.
    const note = (await appTexts(n))
      .find((t) => t.startsWith("⚠️ @grace — applied, but not to"))
      ?.replace(/&#96;/g, "`");
    assert.ok(note, "a note names the resource left out");
    assert.match(note, /`model-alpha` \(`step_up_wrong_request`\): The signature is for `model-beta` only/);
  });

  it("`breakglass approve --resource` naming no resource of the request says which it names; nothing is posted", async () => {
    const n = await openRequest("dave", TWO);
    await assert.rejects(
      signed("grace", n, "model-gamma"),
      /names no resource "model-gamma": it names model-alpha, model-beta/,
    );
    await say("grace", n, await signed("grace", n, "model-alpha"));
    await assert.rejects(signed("grace", n, "nope"), /it names model-alpha, model-beta/);
  });

  it("A262 a signature for one resource is never accepted for another (reposted, or with its signed line rewritten)", async () => {
    const n = await openRequest("dave", TWO);
    const s = await stateOf(n);
    const forAlpha = await signed("grace", n, "model-alpha");
    await say("grace", n, forAlpha);
    assert.deepEqual(await approvalsOf(n, "model-alpha"), ["grace"]);
    // Posted again: model-alpha has it already, model-beta was never signed for.
    await say("grace", n, forAlpha);
    assert.match(
      await refusal(n, "grace", "step_up_wrong_request"),
      /for `model-alpha` only, not for `model-beta` in this request/,
    );
    // The signed line rewritten to claim model-beta: the signature is over model-alpha's line, so it fails.
    const forged = forAlpha.replace(/model-alpha=[0-9a-f]{64}/, `model-beta=${s.parts!["model-beta"]!.hash}`);
    await say("grace", n, forged);
    assert.match(await refusal(n, "grace", "step_up_bad_signature"), /`model-beta`/);
    assert.deepEqual(await approvalsOf(n, "model-beta"), []);
  });

  it("A263 an edit of one resource voids only that resource's approval and signature; the other's stands", async () => {
    const n = await openRequest("dave", TWO);
    await say("grace", n, await signed("grace", n));
    const before = await stateOf(n);
    const stale = await signed("heidi", n); // signed now, posted after the edit
    await sb.as("dave").rest.issues.update({
      owner,
      repo,
      issue_number: n,
      body: requestFormBody({ ...TWO, more: ["model-beta override 25m"] }),
    });
    await sb.settle();
    const edited = await stateOf(n);
    assert.equal(edited.parts!["model-alpha"]!.hash, before.parts!["model-alpha"]!.hash);
    assert.notEqual(edited.parts!["model-beta"]!.hash, before.parts!["model-beta"]!.hash);
    assert.deepEqual(await approvalsOf(n, "model-alpha"), ["grace"], "model-alpha did not change");
    assert.deepEqual(await approvalsOf(n, "model-beta"), [], "model-beta's approval was voided");
    // Heidi's signature made before the edit still binds model-alpha as it is, not model-beta.
    await say("heidi", n, stale);
    const after = await stateOf(n);
    assert.deepEqual(
      after.parts!["model-alpha"]!.approvals.map((a) => a.actor),
      ["grace", "heidi"],
    );
    assert.deepEqual(after.parts!["model-beta"]!.approvals, []);
    const refused = await historyOf(sb, n);
    assert.ok(refused.state.parts!["model-alpha"]!.status !== "requested", "model-alpha went ahead");
  });

  it("`breakglass break-glass` signs each resource waiting by name and hash: the one whose policy allows break-glass is self-approved with that proof, the other is not", async () => {
    const n = await openRequest("dave", {
      ...TWO,
      resource: "model-gamma",
      more: ["model-alpha override 20m"],
    });
    const cli = io("dave");
    const code = await command("break-glass")(
      [
        `${owner}/${repo}#${n}`,
        "--key",
        await sb.signingKeyOf("dave"),
        "--jwks",
        `${sb.app.url}/breakglass/jwks.json`,
        "--reason",
        "the model serves harmful answers and nobody answers the page",
      ],
      cli.io,
    );
    assert.equal(code, 0, cli.err());
    await sb.settle();
    const h = await historyOf(sb, n);
    assert.notEqual(h.state.parts!["model-gamma"]!.status, "requested", "model-gamma's glass is broken");
    assert.equal(
      h.state.parts!["model-alpha"]!.status,
      "requested",
      "model-alpha's policy allows no break-glass",
    );
    const record = h.events.find((e) => e.type === "break_glass") as
      (Extract<LifecycleEvent, { type: "break_glass" }> & { part?: string }) | undefined;
    assert.equal(record?.part, "model-gamma");
    assert.ok(
      record?.step_up?.method === "ssh-signature" &&
        record.step_up.parts?.some((p) => p.resource === "model-gamma" && p.hash === record.hash),
    );
    assert.deepEqual(
      await checkStepUpProofs(
        h.chain.map((e) => e.entry),
        { repo: sb.repository, issue: n },
      ),
      {
        checked: 1,
        breaks: [],
      },
    );
  });
});
