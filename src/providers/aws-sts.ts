import { createHash } from "node:crypto";
import { AssumeRoleWithWebIdentityCommand, type STSClient } from "@aws-sdk/client-sts";
import {
  DeleteRolePolicyCommand,
  GetRolePolicyCommand,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
  type IAMClient,
} from "@aws-sdk/client-iam";
import {
  awsMaxSessionSeconds,
  awsRegion,
  awsRoleArn,
  DEFAULT_MAX_SESSION_SECONDS,
  IAM_MAX_SESSION_SECONDS,
  ROLE_ARN,
} from "../core/provider-settings/aws.ts";
import type { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import type {
  CredentialProvider,
  CredentialRef,
  MintRequest,
  MintResult,
  RevocationCheck,
  UseCollection,
} from "./provider.ts";
import { lookupSessionEvents } from "./aws-cloudtrail.ts";
import { grantAlreadyEnded, messageOf, redact } from "./provider-errors.ts";

/** STS refuses anything shorter for AssumeRoleWithWebIdentity. */
export const MIN_SESSION_SECONDS = 900;
export { DEFAULT_MAX_SESSION_SECONDS, IAM_MAX_SESSION_SECONDS };
export const DENY_POLICY_PREFIX = "BreakglassRevoke-";
const SESSION_NAME_MAX = 64;
const ASSUMED_ROLE_ID = /^(AROA[A-Z0-9]{4,128}):([\w+=,.@-]{2,64})$/;
const EXPIRY_SID = /^BreakglassDenyUntil(\d{1,12})$/;
const EXPIRY_MARGIN_SECONDS = 300;

/** The two AWS clients the provider uses; tests pass the real SDK clients over a mocked transport. */
export interface AwsStsProviderDeps {
  sts: Pick<STSClient, "send">;
  iam: Pick<IAMClient, "send">;
  /** For what the session did (LookupEvents); without it the review says CloudTrail was not read. */
  cloudtrail?: Pick<CloudTrailClient, "send">;
  /** Region exported to the job when the role's settings name none. */
  region?: string;
  now?: () => number;
}

/**
 * AWS credentials for a grant: the app assumes the policy's role with the run's GitHub OIDC token
 * (AssumeRoleWithWebIdentity), so the role's trust policy decides, not a stored key. Sessions cannot be
 * deleted in AWS; revoking one adds an inline deny policy on the role for that session's `aws:userid`.
 *
 * A grant shorter than 15 minutes still gets a 15-minute session (the STS minimum): the grant's end is
 * what counts (MintResult.expiresAt), and the app's revocation at that moment denies the rest.
 */
export function createAwsStsProvider(deps: AwsStsProviderDeps): CredentialProvider {
  const now = deps.now ?? Date.now;
  return {
    name: "aws",
    async mint(request: MintRequest): Promise<MintResult> {
      const roleArn = awsRoleArn(request.settings);
      const maxSession = awsMaxSessionSeconds(request.settings);
      const secondsLeft = Math.floor((request.expiresAt - request.now) / 1000);
      if (secondsLeft <= 0) throw grantAlreadyEnded(request.grantId, request.expiresAt);
      if (!request.oidcToken)
        throw new Error("Could not assume role with OIDC: the workflow run's OIDC token is missing.");
      const durationSeconds = Math.min(Math.max(secondsLeft, MIN_SESSION_SECONDS), maxSession);
      const sessionName = sessionNameFor(request.issue, request.runId, request.grantId);
      let answer;
      try {
        answer = await deps.sts.send(
          new AssumeRoleWithWebIdentityCommand({
            RoleArn: roleArn,
            RoleSessionName: sessionName,
            WebIdentityToken: request.oidcToken,
            DurationSeconds: durationSeconds,
          }),
        );
      } catch (error) {
        throw new Error(
          `Could not assume role with OIDC: ${redact(messageOf(error), [request.oidcToken])}. Check that the trust policy of ${roleArn} accepts token.actions.githubusercontent.com for this repository (sub) and audience (aud), and that max_session is not above the role's MaxSessionDuration.`,
        );
      }
      const credentials = answer.Credentials;
      const user = answer.AssumedRoleUser;
      if (
        !credentials?.AccessKeyId ||
        !credentials.SecretAccessKey ||
        !credentials.SessionToken ||
        !credentials.Expiration ||
        !user?.AssumedRoleId ||
        !user.Arn
      ) {
        throw new Error(
          `Could not assume role with OIDC: STS answered without credentials or the assumed role's identity for ${roleArn}.`,
        );
      }
      const sessionEnd = credentials.Expiration.getTime();
      const expiresAt = Math.min(sessionEnd, request.expiresAt);
      const region = awsRegion(request.settings, deps.region ?? "us-east-1");
      return {
        credentialId: user.AssumedRoleId,
        expiresAt,
        secrets: {
          AWS_ACCESS_KEY_ID: credentials.AccessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.SecretAccessKey,
          AWS_SESSION_TOKEN: credentials.SessionToken,
        },
        outputs: {
          // Upper-case keys are exported to the job's environment by the Action: the AWS CLI and SDKs read them.
          AWS_REGION: region,
          AWS_DEFAULT_REGION: region,
          aws_region: region,
          aws_session_name: sessionName,
          assumed_role_arn: user.Arn,
          expires_at: new Date(expiresAt).toISOString(),
          // Later than expires_at when the grant is shorter than STS's 15-minute minimum; revocation covers the gap.
          aws_session_expires_at: new Date(sessionEnd).toISOString(),
        },
      };
    },

    async revoke(ref: CredentialRef): Promise<void> {
      const roleName = roleNameOf(awsRoleArn(ref.settings));
      const { userId, sessionName } = parseAssumedRoleId(ref.credentialId);
      // Inline policies of a role share 10,240 characters: clear out denies whose sessions have all expired first.
      await pruneExpiredDenyPolicies(deps.iam, roleName, now()).catch(() => undefined);
      try {
        await deps.iam.send(
          new PutRolePolicyCommand({
            RoleName: roleName,
            PolicyName: denyPolicyName(sessionName),
            PolicyDocument: JSON.stringify(denyPolicyDocument(userId, now())),
          }),
        );
      } catch (error) {
        throw new Error(
          `Could not revoke AWS session ${userId}: adding the deny policy to role ${roleName} failed: ${messageOf(error)}. The app's AWS identity needs iam:PutRolePolicy on that role.`,
        );
      }
    },

    async collectUses(ref: CredentialRef, grantedAt: number): Promise<UseCollection> {
      const { sessionName } = parseAssumedRoleId(ref.credentialId);
      const region = awsRegion(ref.settings, deps.region ?? "us-east-1");
      if (!deps.cloudtrail)
        return {
          uses: [],
          source: "AWS CloudTrail",
          notes: [
            `CloudTrail was not read (no CloudTrail client configured): look up Username = ${sessionName} in CloudTrail.`,
          ],
        };
      try {
        return await lookupSessionEvents(
          deps.cloudtrail,
          sessionName,
          ref.credentialId,
          grantedAt,
          now(),
          region,
        );
      } catch (error) {
        throw new Error(
          `CloudTrail LookupEvents for ${sessionName} failed: ${messageOf(error)}. The app's AWS identity needs cloudtrail:LookupEvents.`,
        );
      }
    },

    async verifyRevoked(ref: CredentialRef): Promise<RevocationCheck> {
      const roleName = roleNameOf(awsRoleArn(ref.settings));
      const { userId, sessionName } = parseAssumedRoleId(ref.credentialId);
      const policyName = denyPolicyName(sessionName);
      let document: string | undefined;
      try {
        document = (
          await deps.iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }))
        ).PolicyDocument;
      } catch (error) {
        if (nameOf(error) === "NoSuchEntityException")
          return { revoked: false, evidence: `role ${roleName} has no inline policy ${policyName}` };
        return {
          revoked: false,
          evidence: `reading inline policy ${policyName} of role ${roleName} failed: ${messageOf(error)}`,
        };
      }
      if (document && deniesEverythingTo(decodePolicyDocument(document), userId)) {
        return {
          revoked: true,
          evidence: `role ${roleName} has inline policy ${policyName} denying every action to aws:userid ${userId}`,
        };
      }
      return {
        revoked: false,
        evidence: `inline policy ${policyName} of role ${roleName} does not deny every action to aws:userid ${userId}`,
      };
    },
  };
}

/**
 * `bg-<issue>-<run>-<grant>`: CloudTrail names the issue and the run with every call. The short grant
 * hash keeps two grants of one run (a re-run attempt) apart, so revoking one never denies the other.
 */
export function sessionNameFor(issue: number, runId: string, grantId: string): string {
  const suffix = `-${createHash("sha256").update(grantId).digest("hex").slice(0, 6)}`;
  const base = `bg-${issue}-${runId}`.replace(/[^\w+=,.@-]/g, "-");
  return base.slice(0, SESSION_NAME_MAX - suffix.length) + suffix;
}

export function denyPolicyName(sessionName: string): string {
  return `${DENY_POLICY_PREFIX}${sessionName}`;
}

/**
 * The deny for one session. Its Sid records when every session it could match has expired (no session
 * lasts longer than IAM's 12-hour ceiling), so the policy can be deleted safely after that.
 */
export function denyPolicyDocument(userId: string, revokedAt: number): Record<string, unknown> {
  const until = Math.floor(revokedAt / 1000) + IAM_MAX_SESSION_SECONDS + EXPIRY_MARGIN_SECONDS;
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: `BreakglassDenyUntil${until}`,
        Effect: "Deny",
        Action: "*",
        Resource: "*",
        Condition: { StringEquals: { "aws:userid": userId } },
      },
    ],
  };
}

/** Deletes the role's Breakglass deny policies whose recorded end has passed; returns their names. */
export async function pruneExpiredDenyPolicies(
  iam: Pick<IAMClient, "send">,
  roleName: string,
  now: number,
): Promise<string[]> {
  const deleted: string[] = [];
  let marker: string | undefined;
  do {
    const page = await iam.send(
      new ListRolePoliciesCommand({ RoleName: roleName, ...(marker ? { Marker: marker } : {}) }),
    );
    for (const policyName of page.PolicyNames ?? []) {
      if (!policyName.startsWith(DENY_POLICY_PREFIX)) continue;
      const got = await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }));
      const until = denyEnd(decodePolicyDocument(got.PolicyDocument ?? ""));
      if (until === undefined || until * 1000 > now) continue;
      await iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }));
      deleted.push(policyName);
    }
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return deleted;
}

function roleNameOf(roleArn: string): string {
  return ROLE_ARN.exec(roleArn)![1]!;
}

function parseAssumedRoleId(credentialId: string): { userId: string; sessionName: string } {
  const match = ASSUMED_ROLE_ID.exec(credentialId);
  if (!match)
    throw new Error(
      `"${credentialId.slice(0, 200)}" is not an assumed-role id (ROLEID:SESSIONNAME); the grant record is not one this provider wrote.`,
    );
  return { userId: credentialId, sessionName: match[2]! };
}

/** IAM returns policy documents URL-encoded (RFC 3986); the SDK does not decode them. */
function decodePolicyDocument(document: string): unknown {
  try {
    return JSON.parse(decodeURIComponent(document));
  } catch {
    try {
      return JSON.parse(document);
    } catch {
      return undefined;
    }
  }
}

function statementsOf(policy: unknown): Array<Record<string, unknown>> {
  if (typeof policy !== "object" || policy === null) return [];
  const statement = (policy as { Statement?: unknown }).Statement;
  const list = Array.isArray(statement) ? statement : [statement];
  return list.filter((s): s is Record<string, unknown> => typeof s === "object" && s !== null);
}

const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);

function deniesEverythingTo(policy: unknown, userId: string): boolean {
  return statementsOf(policy).some((s) => {
    if (s.Effect !== "Deny" || !asList(s.Action).includes("*") || !asList(s.Resource).includes("*"))
      return false;
    const condition = s.Condition as Record<string, Record<string, unknown>> | undefined;
    if (!condition || Object.keys(condition).length !== 1) return false;
    const equals = condition.StringEquals;
    if (!equals || Object.keys(equals).length !== 1) return false;
    return asList(equals["aws:userid"]).includes(userId);
  });
}

function denyEnd(policy: unknown): number | undefined {
  for (const s of statementsOf(policy)) {
    const match = typeof s.Sid === "string" ? EXPIRY_SID.exec(s.Sid) : null;
    if (match) return Number(match[1]);
  }
  return undefined;
}

function nameOf(error: unknown): string | undefined {
  return typeof error === "object" && error !== null ? (error as { name?: string }).name : undefined;
}
