/**
 * An AWS session's CloudTrail events collected at revocation and shown on the review issue. No AWS is
 * reachable here: the real SDK clients run over aws-sdk-client-mock, which answers LookupEvents as
 * CloudTrail documents it (Username = the role session name), request parameters included, which the
 * review must not copy.
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { mockClient } from "aws-sdk-client-mock";
import { CloudTrailClient, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import { AssumeRoleWithWebIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import {
  GetRolePolicyCommand,
  IAMClient,
  ListRolePoliciesCommand,
  NoSuchEntityException,
  PutRolePolicyCommand,
} from "@aws-sdk/client-iam";
import { createAwsStsProvider } from "../../src/providers/aws-sts.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import { sandboxHelpers } from "../support/sandbox-helpers.ts";

const ROLE_ID = "AROA3XFRBF535E2E0002";
const PARAMETER_SECRET = "s3-object-key-Hq71z";
const credentials = { accessKeyId: "AKIAAPP", secretAccessKey: "app-secret" };
const sts = new STSClient({ region: "eu-west-1", credentials });
const iam = new IAMClient({ region: "us-east-1", credentials });
const cloudtrail = new CloudTrailClient({ region: "eu-west-1", credentials });
const stsMock = mockClient(sts);
const iamMock = mockClient(iam);
const trailMock = mockClient(cloudtrail);
const policies = new Map<string, string>();
let sb: Sandbox;
const h = sandboxHelpers(() => sb);

before(async () => {
  stsMock
    .on(AssumeRoleWithWebIdentityCommand)
    .callsFake((input: { DurationSeconds: number; RoleSessionName: string }) => ({
      Credentials: {
        AccessKeyId: "ASIAE2EKEYID2",
        SecretAccessKey: "secret-key-value-xyz",
        SessionToken: "FwoGZXIvYXdzSESSION2",
        Expiration: new Date(sb.clock.now() + input.DurationSeconds * 1000),
      },
      AssumedRoleUser: {
        AssumedRoleId: `${ROLE_ID}:${input.RoleSessionName}`,
        Arn: `arn:aws:sts::123456789012:assumed-role/breakglass-readonly/${input.RoleSessionName}`,
      },
    }));
  iamMock.on(PutRolePolicyCommand).callsFake((input: { PolicyName: string; PolicyDocument: string }) => {
    policies.set(input.PolicyName, input.PolicyDocument);
    return {};
  });
  iamMock.on(GetRolePolicyCommand).callsFake((input: { PolicyName: string; RoleName: string }) => {
    const doc = policies.get(input.PolicyName);
    if (!doc) throw new NoSuchEntityException({ message: "no such policy", $metadata: {} });
    return {
      RoleName: input.RoleName,
      PolicyName: input.PolicyName,
      PolicyDocument: encodeURIComponent(doc),
    };
  });
  iamMock
    .on(ListRolePoliciesCommand)
    .callsFake(() => ({ PolicyNames: [...policies.keys()], IsTruncated: false }));
  trailMock
    .on(LookupEventsCommand)
    .callsFake(
      (input: {
        LookupAttributes: Array<{ AttributeKey: string; AttributeValue: string }>;
        NextToken?: string;
      }) => {
        const session = input.LookupAttributes[0]!.AttributeValue;
        const at = (s: number) => new Date(sb.clock.now() - 60_000 + s * 1000);
        const event = (
          id: string,
          name: string,
          source: string,
          s: number,
          extra: Record<string, unknown> = {},
        ) => ({
          EventId: id,
          EventName: name,
          EventSource: source,
          EventTime: at(s),
          Username: session,
          CloudTrailEvent: JSON.stringify({
            eventName: name,
            requestParameters: { bucketName: "prod", key: PARAMETER_SECRET },
            ...extra,
          }),
        });
        // Two pages, as LookupEvents pages with NextToken.
        if (!input.NextToken)
          return {
            Events: [
              event("e1", "GetObject", "s3.amazonaws.com", 1),
              event("e2", "DescribeInstances", "ec2.amazonaws.com", 2),
            ],
            NextToken: "page2",
          };
        return {
          Events: [
            event("e3", "GetObject", "s3.amazonaws.com", 3),
            event("e4", "TerminateInstances", "ec2.amazonaws.com", 4, { errorCode: "AccessDenied" }),
          ],
        };
      },
    );
  sb = await startSandbox({
    runWorkflows: false,
    providers: {
      aws: createAwsStsProvider({ sts, iam, cloudtrail, region: "eu-west-1", now: () => sb.clock.now() }),
    },
  });
});
after(() => sb?.close());

it("at /revoke the session's CloudTrail events (looked up by session name) are collected, kept and shown on the review, without request parameters", async () => {
  const n = await h.openRequest("dave", {
    resource: "aws-production",
    role: "read",
    duration: "45m",
    severity: "low",
  });
  const run = await sb.runGrantWorkflow(n, { environment: "breakglass-aws-production" });
  assert.equal(run.exitCode, 0, run.stdout + run.stderr);
  const session = stsMock.commandCalls(AssumeRoleWithWebIdentityCommand)[0]!.args[0].input.RoleSessionName!;
  await h.say("dave", n, "/revoke done");
  const state = await h.stateOf(n);
  assert.equal(state.status, "revoked");
  const lookups = trailMock.commandCalls(LookupEventsCommand).map((c) => c.args[0].input);
  assert.ok(lookups.length >= 2, "both pages were read");
  assert.deepEqual(lookups.at(-1)!.LookupAttributes, [{ AttributeKey: "Username", AttributeValue: session }]);
  const uses = await sb.app.portFor("acme", "ops").then((p) => p!.ledger.uses(n));
  assert.deepEqual(
    uses.map((u) => [u.action, u.result ?? null]),
    [
      ["s3:GetObject", null],
      ["ec2:DescribeInstances", null],
      ["s3:GetObject", null],
      ["ec2:TerminateInstances", "AccessDenied"],
    ],
  );
  const review = (await h.issueOf(state.review_issue!)).body ?? "";
  assert.match(review, /\*\*4 uses \(4 API calls, 1 refused\)\*\*/);
  assert.match(review, /\| 2 \| `s3:GetObject` \|/);
  assert.ok(
    review.includes(`AWS CloudTrail \\(Username = ${session}\\)`),
    "the source names the lookup (parentheses escaped on the issue)",
  );
  assert.match(review, /management events only/);
  assert.ok(
    ![review, JSON.stringify(uses)].join("").includes(PARAMETER_SECRET),
    "request parameters are never copied",
  );
});
