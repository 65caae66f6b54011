/**
 * Every path that makes an approval count needs the step-up the policy requires: a break-glass
 * self-approval takes the approvers' step-up when the policy says nothing else, and approvals given
 * without the proof the policy in force requires stop counting when they are checked again (the
 * step-up is not part of the policy digest, so turning it on would otherwise leave them standing).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Eligibility, Permission } from "../../src/core/approvers.ts";
import { foldEvents } from "../../src/core/lifecycle.ts";
import type { TimedEvent } from "../../src/core/lifecycle-events.ts";
import { approvalPolicyDigest } from "../../src/core/policy-digest.ts";
import { parsePolicy } from "../../src/core/policy.ts";
import { recheckApprovals, type ApprovalFacts } from "../../src/core/recheck-approvals.ts";
import type { Policy } from "../../src/core/types.ts";

const BASE = `description: Test resource
roles:
  read:
    provider: jwt
max_duration: 4h
`;
const parsed = (text: string): Policy => {
  const r = parsePolicy("policies/test.yml", text);
  assert.ok(r.ok, JSON.stringify(r));
  return r.value;
};

test("break_glass.step_up unset takes approvals.step_up and its hardware rule; its own setting (none too) wins", () => {
  const inherit = parsed(
    `${BASE}approvals:\n  step_up: ssh-signature\n  require_hardware_key: true\nbreak_glass:\n  allowed: true\n`,
  );
  assert.deepEqual(inherit.break_glass.step_up, { methods: ["ssh-signature"], require_hardware_key: true });
  const optOut = parsed(
    `${BASE}approvals:\n  step_up: ssh-signature\nbreak_glass:\n  allowed: true\n  step_up: none\n`,
  );
  assert.equal(optOut.break_glass.step_up, undefined);
  const own = parsed(
    `${BASE}approvals:\n  step_up: ssh-signature\nbreak_glass:\n  allowed: true\n  step_up: [ssh-signature, webauthn]\n`,
  );
  assert.deepEqual(own.break_glass.step_up, {
    methods: ["ssh-signature", "webauthn"],
    require_hardware_key: false,
  });
  assert.equal(
    parsed(`${BASE}break_glass:\n  allowed: true\n`).break_glass.step_up,
    undefined,
    "no step-up anywhere, none for break-glass",
  );
});

const at = "2026-11-24T09:00:00.000Z";
const request = {
  resource: "test",
  role: "read",
  duration_seconds: 3600,
  severity: "low",
  justification: "Orders table corrupted by the migration.",
  incident: null,
  drill: false,
};
const proof = (key_type: string) => ({
  method: "ssh-signature",
  key_type,
  key_fingerprint: `SHA256:${key_type}`,
  signature: "-----BEGIN SSH SIGNATURE-----",
});

function recheck(policy: Policy, approvals: Array<Record<string, unknown>>) {
  const digest = approvalPolicyDigest(policy, "read");
  const events = [
    { type: "requested", actor: "dave", request, hash: "h1", required_approvals: 2 },
    ...approvals.map((a) => ({ hash: "h1", policy_digest: digest, ...a })),
  ];
  const folded = foldEvents(events.map((e) => ({ at, ...e }) as TimedEvent));
  assert.ok(folded.ok, JSON.stringify(folded));
  const facts: ApprovalFacts = {
    policyDigest: digest,
    eligible: new Map<string, Eligibility>([
      ["bob", { via: "codeowner" }],
      ["carol", { via: "codeowner" }],
    ]),
    permissions: new Map<string, Permission>([
      ["bob", "write"],
      ["carol", "write"],
    ]),
    teamPermissions: new Map(),
    requesterPermission: "write",
    requesterTeams: new Set(),
  };
  return recheckApprovals(folded.state, policy, facts);
}

test("approvals without the step-up the policy in force requires are voided (step_up_missing); signed ones stand", () => {
  const policy = parsed(`${BASE}approvals:\n  required: 2\n  step_up: ssh-signature\n`);
  const result = recheck(policy, [
    { type: "approved", actor: "bob", via: "codeowner", comment_id: 1 },
    { type: "approved", actor: "carol", via: "codeowner", comment_id: 2, step_up: proof("ssh-ed25519") },
  ]);
  assert.deepEqual(result.voided, [{ actor: "bob", reason: "step_up_missing" }]);
  assert.equal(result.complete, false);
  // Without step-up in the policy, the same approvals both stand.
  assert.deepEqual(
    recheck(parsed(`${BASE}approvals:\n  required: 2\n`), [
      { type: "approved", actor: "bob", via: "codeowner", comment_id: 1 },
      { type: "approved", actor: "carol", via: "codeowner", comment_id: 2 },
    ]).voided,
    [],
  );
});

test("where a hardware key is now required, an approval signed with a software key is voided; a security key's stands", () => {
  const policy = parsed(
    `${BASE}approvals:\n  required: 2\n  step_up: ssh-signature\n  require_hardware_key: true\n`,
  );
  const result = recheck(policy, [
    { type: "approved", actor: "bob", via: "codeowner", comment_id: 1, step_up: proof("ssh-ed25519") },
    {
      type: "approved",
      actor: "carol",
      via: "codeowner",
      comment_id: 2,
      step_up: proof("sk-ssh-ed25519@openssh.com"),
    },
  ]);
  assert.deepEqual(result.voided, [{ actor: "bob", reason: "step_up_missing" }]);
});

test("a break-glass self-approval without the step-up break-glass now requires is voided", () => {
  const policy = parsed(`${BASE}approvals:\n  step_up: ssh-signature\nbreak_glass:\n  allowed: true\n`);
  const result = recheck(policy, [
    { type: "break_glass", actor: "dave", reason: "the orders table is corrupted" },
  ]);
  assert.deepEqual(result.voided, [{ actor: "dave", reason: "step_up_missing" }]);
  const signed = recheck(policy, [
    {
      type: "break_glass",
      actor: "dave",
      reason: "the orders table is corrupted",
      step_up: proof("ssh-ed25519"),
    },
  ]);
  assert.deepEqual(signed.voided, []);
  assert.equal(signed.complete, true);
});

test("an approval proven by a method the policy in force no longer accepts is voided (a passkey where only SSH signatures count now)", () => {
  const passkey = {
    method: "webauthn",
    credential_id: "cred1",
    public_key: "pk",
    hardware: true,
    rp_id: "localhost",
    origin: "http://localhost",
    counter: 1,
    assertion: {},
  };
  const approvals = [{ type: "approved", actor: "bob", via: "codeowner", step_up: passkey }];
  assert.deepEqual(
    recheck(parsed(`${BASE}approvals:\n  required: 2\n  step_up: ssh-signature\n`), approvals).voided,
    [{ actor: "bob", reason: "step_up_missing" }],
  );
  assert.deepEqual(
    recheck(
      parsed(`${BASE}approvals:\n  required: 2\n  step_up: [webauthn]\n  require_hardware_key: true\n`),
      approvals,
    ).voided,
    [],
  );
});
