/**
 * Attack catalogue A185–A187: the other paths that make an approval count. A break-glass
 * self-approval needs the approvers' step-up where the policy sets none of its own (a stolen session
 * of an on-call engineer must not self-approve what an approver could only sign for), and approvals
 * given before the policy turned step-up on stop counting at the next check (the completing approval,
 * the exchange). Signatures by the real `ssh-keygen` through the real `breakglass` commands.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { command } from "../../src/cli/commands/approve.ts";
import type { CliIO } from "../../src/cli/io.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import {
  appTexts,
  approve,
  assertNothingGranted,
  historyOf,
  openRequest,
  owner,
  refusalFor,
  repo,
  say,
} from "./attack-kit.ts";

const rollbackText = readFileSync("policies/model-rollback.yml", "utf8");
// model-rollback allows break-glass and says nothing of step-up for it; its approvals here require a signature.
const signedRollback = rollbackText.replace(/^approvals:\n/m, "approvals:\n  step_up: ssh-signature\n");
// Two approvals, no step-up yet (A187 turns it on).
const TWO = "model-two-approvers";
const twoApprovers = rollbackText.replace(/^ {2}required: 1$/m, "  required: 2");
const rollback = {
  resource: "model-rollback",
  role: "rollback",
  duration: "30m",
  severity: "critical",
} as const;

let sb: Sandbox;
before(async () => {
  sb = await startSandbox({
    runWorkflows: false,
    files: { "policies/model-rollback.yml": signedRollback, [`policies/${TWO}.yml`]: twoApprovers },
  });
});
after(() => sb.close());

function cliIO(login: string): CliIO & { out: () => string; err: () => string } {
  let out = "";
  let err = "";
  return {
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    readStdin: async () => "",
    cwd: process.cwd(),
    env: {
      GITHUB_TOKEN: sb.emulator.userToken(login),
      GITHUB_API_URL: sb.emulator.apiUrl,
      HOME: "/nonexistent",
    },
    out: () => out,
    err: () => err,
  };
}

/** `breakglass break-glass owner/repo#N --reason R` (or `approve`, dry run) as `login` with their sandbox signing key. */
async function signed(
  kind: "approve" | "break-glass",
  login: string,
  n: number,
  reason?: string,
): Promise<string> {
  const io = cliIO(login);
  const args = [
    `${owner}/${repo}#${n}`,
    "--key",
    await sb.signingKeyOf(login),
    "--jwks",
    `${sb.app.url}/breakglass/jwks.json`,
    ...(reason ? ["--reason", reason] : ["--dry-run"]),
  ];
  assert.equal(await command(kind)(args, io), 0, io.err());
  await sb.settle();
  return io.out();
}

test("A185 a plain /break-glass where approvals require step-up and break_glass sets none is refused (step_up_required)", async () => {
  const n = await openRequest(sb, "ivan", rollback);
  await say(sb, "ivan", n, "/break-glass the model is serving harmful answers and nobody answers");
  assert.match(await refusalFor(sb, n, "ivan", "step_up_required"), /break the glass/);
  await assertNothingGranted(sb, n);
  assert.equal((await historyOf(sb, n)).state.break_glass, null);
});

test("A186 a signed approval of the request posted as /break-glass does not self-approve; a break-glass signature does, and is recorded", async () => {
  const n = await openRequest(sb, "olga", rollback);
  // The requester's genuine signature over an approval of this request (breakglass-approve), posted as /break-glass.
  const approval = await signed("approve", "olga", n);
  await say(
    sb,
    "olga",
    n,
    approval.replace(/^\/approve/, "/break-glass harmful answers, nobody answers the page"),
  );
  assert.match(await refusalFor(sb, n, "olga", "step_up_wrong_request"), /approval of the request itself/);
  assert.equal((await historyOf(sb, n)).state.status, "requested");

  await signed("break-glass", "olga", n, "harmful answers, nobody answers the page");
  const h = await historyOf(sb, n);
  assert.equal(h.state.status, "approved");
  const record = h.events.find((e) => e.type === "break_glass");
  assert.ok(record?.type === "break_glass" && record.step_up, "the break-glass record holds the step-up");
  assert.ok((await appTexts(sb, n)).some((t) => t.includes("**broke the glass**")));
});

test("A187 an approval given before the policy turned step-up on no longer counts when the request would complete (step_up_missing)", async () => {
  const form = { ...rollback, resource: TWO };
  const n = await openRequest(sb, "dave", form);
  await say(sb, "grace", n, "/approve");
  assert.equal((await historyOf(sb, n)).state.approvals.length, 1, "counted under the policy of the time");
  sb.emulator.setFile(
    `policies/${TWO}.yml`,
    twoApprovers.replace(/^approvals:\n/m, "approvals:\n  step_up: ssh-signature\n"),
  );
  await approve(sb, "heidi", n);
  const h = await historyOf(sb, n);
  assert.equal(h.state.status, "requested", "one signed approval of two");
  assert.deepEqual(
    h.state.approvals.map((a) => a.actor),
    ["heidi"],
  );
  const voided = h.events.find((e) => e.type === "approvals_voided");
  assert.ok(voided?.type === "approvals_voided");
  assert.deepEqual(voided.voided, [{ actor: "grace", reason: "step_up_missing" }]);
  assert.ok((await appTexts(sb, n)).some((t) => t.includes("without the step-up proof")));
  await assertNothingGranted(sb, n);
});
