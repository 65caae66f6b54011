import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { mockClient } from "aws-sdk-client-mock";
import { AssumeRoleWithWebIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import {
  DeleteRolePolicyCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListRolePoliciesCommand,
  NoSuchEntityException,
  PutRolePolicyCommand,
} from "@aws-sdk/client-iam";
import {
  createAwsStsProvider,
  denyPolicyDocument,
  IAM_MAX_SESSION_SECONDS,
  pruneExpiredDenyPolicies,
  sessionNameFor,
} from "../../src/providers/aws-sts.ts";
import type { CredentialRef, MintRequest } from "../../src/providers/provider.ts";

const NOW = Date.parse("2026-11-24T09:00:00Z");
const ROLE_ARN = "arn:aws:iam::123456789012:role/breakglass-admin";
const OIDC = "eyJhbGciOiJSUzI1NiJ9.oidc-token-body.signature";
const SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";
const SESSION_TOKEN = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN";
const ROLE_ID = "AROA3XFRBF535EXAMPLE";

const request = (over: Partial<MintRequest> = {}): MintRequest => ({
  grantId: "acme/ops#12/g1",
  repository: "acme/ops",
  issue: 12,
  requester: "dave",
  resource: "prod-aws",
  role: "admin",
  settings: { role_arn: ROLE_ARN, region: "eu-west-1", max_session: "1h" },
  expiresAt: NOW + 30 * 60_000,
  oidcToken: OIDC,
  runId: "987654321",
  now: NOW,
  ...over,
});

function setup() {
  const sts = new STSClient({ region: "eu-west-1" });
  const iam = new IAMClient({ region: "us-east-1" });
  const stsMock = mockClient(sts);
  const iamMock = mockClient(iam);
  // STS answers like AWS does: a session of exactly the asked duration.
  stsMock
    .on(AssumeRoleWithWebIdentityCommand)
    .callsFake((input: { DurationSeconds: number; RoleSessionName: string }) => ({
      Credentials: {
        AccessKeyId: "ASIAEXAMPLEKEYID",
        SecretAccessKey: SECRET_KEY,
        SessionToken: SESSION_TOKEN,
        Expiration: new Date(NOW + input.DurationSeconds * 1000),
      },
      AssumedRoleUser: {
        AssumedRoleId: `${ROLE_ID}:${input.RoleSessionName}`,
        Arn: `arn:aws:sts::123456789012:assumed-role/breakglass-admin/${input.RoleSessionName}`,
      },
    }));
  iamMock.on(ListRolePoliciesCommand).resolves({ PolicyNames: [], IsTruncated: false });
  const clock = { now: NOW };
  const provider = createAwsStsProvider({ sts, iam, region: "us-east-1", now: () => clock.now });
  return { provider, stsMock, iamMock, clock };
}

const refOf = (
  credentialId: string,
  settings: Record<string, unknown> = { role_arn: ROLE_ARN },
): CredentialRef => ({
  grantId: "acme/ops#12/g1",
  credentialId,
  resource: "prod-aws",
  role: "admin",
  settings,
});

test("mint assumes the role with the run's OIDC token, for the grant's length, named after issue and run", async () => {
  const { provider, stsMock } = setup();
  const minted = await provider.mint(request());
  const calls = stsMock.commandCalls(AssumeRoleWithWebIdentityCommand);
  assert.equal(calls.length, 1);
  const session = sessionNameFor(12, "987654321", "acme/ops#12/g1");
  assert.match(session, /^bg-12-987654321-[0-9a-f]{6}$/);
  assert.deepEqual(calls[0]!.args[0].input, {
    RoleArn: ROLE_ARN,
    RoleSessionName: session,
    WebIdentityToken: OIDC,
    DurationSeconds: 1800,
  });
  assert.deepEqual(minted.secrets, {
    AWS_ACCESS_KEY_ID: "ASIAEXAMPLEKEYID",
    AWS_SECRET_ACCESS_KEY: SECRET_KEY,
    AWS_SESSION_TOKEN: SESSION_TOKEN,
  });
  assert.equal(minted.credentialId, `${ROLE_ID}:${session}`);
  assert.equal(minted.expiresAt, NOW + 30 * 60_000);
  assert.deepEqual(minted.outputs, {
    AWS_REGION: "eu-west-1",
    AWS_DEFAULT_REGION: "eu-west-1",
    aws_region: "eu-west-1",
    aws_session_name: session,
    assumed_role_arn: `arn:aws:sts::123456789012:assumed-role/breakglass-admin/${session}`,
    expires_at: "2026-11-24T09:30:00.000Z",
    aws_session_expires_at: "2026-11-24T09:30:00.000Z",
  });
  assert.equal(minted.revocationHandle, undefined, "nothing secret is needed to revoke");
  const outputs = JSON.stringify(minted.outputs) + minted.credentialId;
  for (const secret of Object.values(minted.secrets)) assert.ok(!outputs.includes(secret));
});

test("a grant shorter than 15 minutes gets STS's minimum session, but the grant's end stays the credential's end", async () => {
  const { provider, stsMock } = setup();
  const minted = await provider.mint(request({ expiresAt: NOW + 5 * 60_000 }));
  assert.equal(stsMock.commandCalls(AssumeRoleWithWebIdentityCommand)[0]!.args[0].input.DurationSeconds, 900);
  assert.equal(minted.expiresAt, NOW + 5 * 60_000, "revocation at grant end ends the session, not STS");
  assert.equal(minted.outputs.expires_at, "2026-11-24T09:05:00.000Z");
  assert.equal(minted.outputs.aws_session_expires_at, "2026-11-24T09:15:00.000Z");
});

test("a grant longer than the role's max session is clamped to it, and the credential ends with the session", async () => {
  const { provider, stsMock } = setup();
  const minted = await provider.mint(request({ expiresAt: NOW + 3 * 3600_000 }));
  assert.equal(
    stsMock.commandCalls(AssumeRoleWithWebIdentityCommand)[0]!.args[0].input.DurationSeconds,
    3600,
  );
  assert.equal(minted.expiresAt, NOW + 3600_000);
  const longer = setup();
  await longer.provider.mint(
    request({ expiresAt: NOW + 3 * 3600_000, settings: { role_arn: ROLE_ARN, max_session: "2h" } }),
  );
  assert.equal(
    longer.stsMock.commandCalls(AssumeRoleWithWebIdentityCommand)[0]!.args[0].input.DurationSeconds,
    7200,
  );
  const defaults = setup();
  const minted3 = await defaults.provider.mint(
    request({ expiresAt: NOW + 3 * 3600_000, settings: { role_arn: ROLE_ARN } }),
  );
  assert.equal(
    defaults.stsMock.commandCalls(AssumeRoleWithWebIdentityCommand)[0]!.args[0].input.DurationSeconds,
    3600,
    "a role's default MaxSessionDuration is 1h",
  );
  assert.equal(minted3.outputs.aws_region, "us-east-1", "the provider's region when settings name none");
});

test("the session never outlives the grant by rounding: seconds are rounded down", async () => {
  const { provider, stsMock } = setup();
  await provider.mint(request({ expiresAt: NOW + 1000_999 }));
  assert.equal(
    stsMock.commandCalls(AssumeRoleWithWebIdentityCommand)[0]!.args[0].input.DurationSeconds,
    1000,
  );
});

test("session names are sanitized to what STS accepts, keep the issue and stay unique per grant", () => {
  assert.equal(sessionNameFor(7, "12/34 ;x", "g").slice(0, 14), "bg-7-12-34--x-");
  const long = sessionNameFor(123456, "9".repeat(200), "g1");
  assert.equal(long.length, 64);
  assert.ok(long.startsWith("bg-123456-999"));
  assert.notEqual(
    long,
    sessionNameFor(123456, "9".repeat(200), "g2"),
    "the grant suffix survives truncation",
  );
  fc.assert(
    fc.property(
      fc.nat(),
      fc.string({ unit: "grapheme", maxLength: 300 }),
      fc.string(),
      (issue, runId, grantId) => {
        assert.match(sessionNameFor(issue, runId, grantId), /^[\w+=,.@-]{2,64}$/);
      },
    ),
  );
});

test("STS errors are rethrown with context and without the OIDC token", async () => {
  const { provider, stsMock } = setup();
  stsMock
    .on(AssumeRoleWithWebIdentityCommand)
    .rejects(new Error(`Not authorized to perform sts:AssumeRoleWithWebIdentity with token ${OIDC}`));
  await assert.rejects(provider.mint(request()), (error: Error) => {
    assert.match(error.message, /^Could not assume role with OIDC: Not authorized/);
    assert.match(error.message, /trust policy of arn:aws:iam::123456789012:role\/breakglass-admin/);
    assert.ok(!error.message.includes(OIDC), "the OIDC token is redacted");
    assert.ok(!error.message.includes("oidc-token-body"));
    return true;
  });
});

test("an STS answer without credentials is an error that shows no secret", async () => {
  const { provider, stsMock } = setup();
  stsMock.on(AssumeRoleWithWebIdentityCommand).resolves({
    Credentials: {
      AccessKeyId: "A",
      SecretAccessKey: SECRET_KEY,
      SessionToken: undefined as unknown as string,
      Expiration: new Date(NOW),
    },
  });
  await assert.rejects(
    provider.mint(request()),
    (error: Error) => /without credentials/.test(error.message) && !error.message.includes(SECRET_KEY),
  );
});

test("bad settings and ended grants are refused before STS is called", async () => {
  const { provider, stsMock } = setup();
  await assert.rejects(
    provider.mint(request({ settings: {} })),
    /settings\.role_arn must be an IAM role ARN/,
  );
  await assert.rejects(
    provider.mint(request({ settings: { role_arn: "arn:aws:iam::123456789012:user/bob" } })),
    /role_arn/,
  );
  await assert.rejects(
    provider.mint(request({ settings: { role_arn: ROLE_ARN, max_session: "30m" } })),
    /between 1h and 12h/,
  );
  await assert.rejects(
    provider.mint(request({ settings: { role_arn: ROLE_ARN, max_session: "13h" } })),
    /between 1h and 12h/,
  );
  await assert.rejects(
    provider.mint(request({ settings: { role_arn: ROLE_ARN, max_session: "soon" } })),
    /not a duration/,
  );
  await assert.rejects(provider.mint(request({ expiresAt: NOW })), /already ended/);
  await assert.rejects(provider.mint(request({ oidcToken: "" })), /OIDC token is missing/);
  assert.equal(stsMock.commandCalls(AssumeRoleWithWebIdentityCommand).length, 0);
});

test("revoke puts an inline deny policy on the role for exactly that session's aws:userid", async () => {
  const { provider, iamMock } = setup();
  const session = "bg-12-987654321-abcdef";
  await provider.revoke(
    refOf(`${ROLE_ID}:${session}`, { role_arn: "arn:aws:iam::123456789012:role/team/ops/breakglass-admin" }),
  );
  const puts = iamMock.commandCalls(PutRolePolicyCommand);
  assert.equal(puts.length, 1);
  const input = puts[0]!.args[0].input;
  assert.equal(input.RoleName, "breakglass-admin", "the role name without its path");
  assert.equal(input.PolicyName, `BreakglassRevoke-${session}`);
  assert.deepEqual(JSON.parse(input.PolicyDocument!), {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: `BreakglassDenyUntil${NOW / 1000 + IAM_MAX_SESSION_SECONDS + 300}`,
        Effect: "Deny",
        Action: "*",
        Resource: "*",
        Condition: { StringEquals: { "aws:userid": `${ROLE_ID}:${session}` } },
      },
    ],
  });
});

test("revoke refuses a credential id that is not an assumed-role id, without touching IAM", async () => {
  const { provider, iamMock } = setup();
  for (const hostile of [
    "*",
    `${ROLE_ID}:*`,
    `${ROLE_ID}:x"}},{"Effect":"Allow`,
    "AIDAUSER:bob",
    `${ROLE_ID}:a`,
    "",
  ]) {
    await assert.rejects(provider.revoke(refOf(hostile)), /not an assumed-role id/, hostile);
  }
  assert.equal(iamMock.calls().length, 0);
});

test("a failed revocation says what permission the app needs", async () => {
  const { provider, iamMock } = setup();
  iamMock.on(PutRolePolicyCommand).rejects(new Error("User is not authorized to perform iam:PutRolePolicy"));
  await assert.rejects(
    provider.revoke(refOf(`${ROLE_ID}:bg-1-2-abcdef`)),
    /Could not revoke AWS session AROA3XFRBF535EXAMPLE:bg-1-2-abcdef.*needs iam:PutRolePolicy/,
  );
});

test("verifyRevoked reads the policy back, URL-decoded, and accepts only a full deny for that userid", async () => {
  const userId = `${ROLE_ID}:bg-12-987654321-abcdef`;
  const encode = (doc: unknown) => encodeURIComponent(JSON.stringify(doc));
  const cases: Array<[string, unknown, boolean]> = [
    ["the deny", denyPolicyDocument(userId, NOW), true],
    [
      "statement as an object and lists",
      {
        Version: "2012-10-17",
        Statement: {
          Effect: "Deny",
          Action: ["*"],
          Resource: ["*"],
          Condition: { StringEquals: { "aws:userid": [userId] } },
        },
      },
      true,
    ],
    ["another session", denyPolicyDocument(`${ROLE_ID}:bg-12-1-000000`, NOW), false],
    [
      "an allow",
      {
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: "*",
            Resource: "*",
            Condition: { StringEquals: { "aws:userid": userId } },
          },
        ],
      },
      false,
    ],
    [
      "only some actions",
      {
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Deny",
            Action: "s3:*",
            Resource: "*",
            Condition: { StringEquals: { "aws:userid": userId } },
          },
        ],
      },
      false,
    ],
    [
      "a narrower condition",
      {
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Deny",
            Action: "*",
            Resource: "*",
            Condition: { StringEquals: { "aws:userid": userId }, Bool: { "aws:SecureTransport": "false" } },
          },
        ],
      },
      false,
    ],
  ];
  for (const [name, doc, expected] of cases) {
    const { provider, iamMock } = setup();
    iamMock
      .on(GetRolePolicyCommand)
      .resolves({ RoleName: "breakglass-admin", PolicyName: "x", PolicyDocument: encode(doc) });
    const check = await provider.verifyRevoked(refOf(userId));
    assert.equal(check.revoked, expected, name);
    const input = iamMock.commandCalls(GetRolePolicyCommand)[0]!.args[0].input;
    assert.deepEqual(input, {
      RoleName: "breakglass-admin",
      PolicyName: "BreakglassRevoke-bg-12-987654321-abcdef",
    });
    if (expected)
      assert.match(
        check.evidence,
        /denying every action to aws:userid AROA3XFRBF535EXAMPLE:bg-12-987654321-abcdef/,
      );
  }
});

test("verifyRevoked is false when the policy is missing or IAM cannot be read", async () => {
  const { provider, iamMock } = setup();
  iamMock
    .on(GetRolePolicyCommand)
    .rejects(
      new NoSuchEntityException({ message: "The role policy with name x cannot be found.", $metadata: {} }),
    );
  const missing = await provider.verifyRevoked(refOf(`${ROLE_ID}:bg-1-2-abcdef`));
  assert.deepEqual(missing, {
    revoked: false,
    evidence: "role breakglass-admin has no inline policy BreakglassRevoke-bg-1-2-abcdef",
  });
  iamMock.on(GetRolePolicyCommand).rejects(new Error("Rate exceeded"));
  const unreadable = await provider.verifyRevoked(refOf(`${ROLE_ID}:bg-1-2-abcdef`));
  assert.equal(unreadable.revoked, false);
  assert.match(unreadable.evidence, /Rate exceeded/);
});

test("mint → revoke → verifyRevoked round trip through one fake IAM", async () => {
  const { provider, iamMock } = setup();
  const policies = new Map<string, string>();
  iamMock.on(PutRolePolicyCommand).callsFake((input: { PolicyName: string; PolicyDocument: string }) => {
    policies.set(input.PolicyName, encodeURIComponent(input.PolicyDocument));
    return {};
  });
  iamMock.on(GetRolePolicyCommand).callsFake((input: { PolicyName: string }) => {
    const doc = policies.get(input.PolicyName);
    if (!doc) throw new NoSuchEntityException({ message: "not found", $metadata: {} });
    return { PolicyDocument: doc };
  });
  const minted = await provider.mint(request());
  const ref = refOf(minted.credentialId);
  assert.equal((await provider.verifyRevoked(ref)).revoked, false, "not revoked before revoke");
  await provider.revoke(ref);
  assert.equal((await provider.verifyRevoked(ref)).revoked, true);
  const other = await provider.mint(request({ grantId: "acme/ops#12/g2" }));
  assert.equal(
    (await provider.verifyRevoked(refOf(other.credentialId))).revoked,
    false,
    "another grant of the same run is not denied",
  );
});

test("revocation first prunes Breakglass denies whose sessions have all expired, and nothing else", async () => {
  const { provider, iamMock, clock } = setup();
  const old = denyPolicyDocument(`${ROLE_ID}:bg-1-1-aaaaaa`, NOW - 13 * 3600_000);
  const recent = denyPolicyDocument(`${ROLE_ID}:bg-1-2-bbbbbb`, NOW - 3600_000);
  const docs: Record<string, unknown> = {
    "BreakglassRevoke-bg-1-1-aaaaaa": old,
    "BreakglassRevoke-bg-1-2-bbbbbb": recent,
    "BreakglassRevoke-handmade": {
      Version: "2012-10-17",
      Statement: [{ Effect: "Deny", Action: "*", Resource: "*" }],
    },
    "ops-inline": {
      Version: "2012-10-17",
      Statement: [{ Sid: "BreakglassDenyUntil1", Effect: "Allow", Action: "s3:*", Resource: "*" }],
    },
  };
  iamMock
    .on(ListRolePoliciesCommand)
    .resolvesOnce({ PolicyNames: Object.keys(docs).slice(0, 2), IsTruncated: true, Marker: "m1" })
    .resolvesOnce({ PolicyNames: Object.keys(docs).slice(2), IsTruncated: false });
  iamMock.on(GetRolePolicyCommand).callsFake((input: { PolicyName: string }) => ({
    PolicyDocument: encodeURIComponent(JSON.stringify(docs[input.PolicyName])),
  }));
  clock.now = NOW;
  await provider.revoke(refOf(`${ROLE_ID}:bg-1-3-cccccc`));
  const deleted = iamMock.commandCalls(DeleteRolePolicyCommand).map((c) => c.args[0].input.PolicyName);
  assert.deepEqual(deleted, ["BreakglassRevoke-bg-1-1-aaaaaa"]);
  assert.deepEqual(
    iamMock.commandCalls(ListRolePoliciesCommand).map((c) => c.args[0].input),
    [{ RoleName: "breakglass-admin" }, { RoleName: "breakglass-admin", Marker: "m1" }],
  );
  assert.equal(iamMock.commandCalls(PutRolePolicyCommand).length, 1);
});

test("a failing prune never stops the revocation", async () => {
  const { provider, iamMock } = setup();
  iamMock.on(ListRolePoliciesCommand).rejects(new Error("AccessDenied"));
  await provider.revoke(refOf(`${ROLE_ID}:bg-1-3-cccccc`));
  assert.equal(iamMock.commandCalls(PutRolePolicyCommand).length, 1);
});

test("pruneExpiredDenyPolicies keeps a deny until IAM's 12-hour ceiling has passed", async () => {
  const iam = new IAMClient({ region: "us-east-1" });
  const iamMock = mockClient(iam);
  const doc = denyPolicyDocument(`${ROLE_ID}:bg-1-1-aaaaaa`, NOW);
  iamMock.on(ListRolePoliciesCommand).resolves({ PolicyNames: ["BreakglassRevoke-bg-1-1-aaaaaa"] });
  iamMock.on(GetRolePolicyCommand).resolves({ PolicyDocument: encodeURIComponent(JSON.stringify(doc)) });
  assert.deepEqual(await pruneExpiredDenyPolicies(iam, "r", NOW + 12 * 3600_000), []);
  assert.deepEqual(await pruneExpiredDenyPolicies(iam, "r", NOW + 12 * 3600_000 + 301_000), [
    "BreakglassRevoke-bg-1-1-aaaaaa",
  ]);
});

test("the real SDK serializes the deny policy and decodes IAM's URL-encoded answer (fake HTTP transport)", async () => {
  const stored = new Map<string, string>();
  const sent: URLSearchParams[] = [];
  const iam = new IAMClient({
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDAPP", secretAccessKey: "app-secret" },
    requestHandler: {
      async handle(req: { body?: unknown }) {
        const form = new URLSearchParams(String(req.body));
        sent.push(form);
        const action = form.get("Action");
        let xml = "";
        if (action === "ListRolePolicies")
          xml = `<ListRolePoliciesResponse><ListRolePoliciesResult><PolicyNames></PolicyNames><IsTruncated>false</IsTruncated></ListRolePoliciesResult></ListRolePoliciesResponse>`;
        if (action === "PutRolePolicy") {
          stored.set(form.get("PolicyName")!, form.get("PolicyDocument")!);
          xml = `<PutRolePolicyResponse><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></PutRolePolicyResponse>`;
        }
        if (action === "GetRolePolicy") {
          const doc = stored.get(form.get("PolicyName")!);
          if (!doc) {
            return {
              response: fakeResponse(
                404,
                `<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>not found</Message></Error><RequestId>2</RequestId></ErrorResponse>`,
              ),
            };
          }
          // IAM answers policy documents URL-encoded (RFC 3986), inside XML.
          xml = `<GetRolePolicyResponse><GetRolePolicyResult><RoleName>${form.get("RoleName")}</RoleName><PolicyName>${form.get("PolicyName")}</PolicyName><PolicyDocument>${encodeURIComponent(doc)}</PolicyDocument></GetRolePolicyResult></GetRolePolicyResponse>`;
        }
        return { response: fakeResponse(200, xml) };
      },
    },
  });
  const provider = createAwsStsProvider({ sts: new STSClient({ region: "eu-west-1" }), iam, now: () => NOW });
  const ref = refOf(`${ROLE_ID}:bg-12-987654321-abcdef`);
  assert.equal((await provider.verifyRevoked(ref)).revoked, false);
  await provider.revoke(ref);
  const put = sent.find((f) => f.get("Action") === "PutRolePolicy")!;
  assert.equal(put.get("RoleName"), "breakglass-admin");
  assert.equal(put.get("PolicyName"), "BreakglassRevoke-bg-12-987654321-abcdef");
  assert.deepEqual(
    (JSON.parse(put.get("PolicyDocument")!) as { Statement: Array<{ Condition: unknown }> }).Statement[0]!
      .Condition,
    { StringEquals: { "aws:userid": `${ROLE_ID}:bg-12-987654321-abcdef` } },
  );
  const check = await provider.verifyRevoked(ref);
  assert.equal(check.revoked, true, check.evidence);
});

function fakeResponse(statusCode: number, xml: string) {
  return {
    statusCode,
    headers: { "content-type": "text/xml" },
    body: Buffer.from(`<?xml version="1.0"?>${xml}`),
  };
}
