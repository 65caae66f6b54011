/** The `aws` provider's settings: their schema, defaults and how the provider reads them. */
import { parseDuration } from "../duration.ts";
import { duration, object, type JsonSchema } from "../schema-builders.ts";
import type { ProviderSettingsSpec } from "./spec.ts";

export const DEFAULT_AWS_MAX_SESSION = "1h";
/** A role's default MaxSessionDuration (the `max_session` default), in seconds. */
export const DEFAULT_MAX_SESSION_SECONDS = 3600;
/** The most IAM allows a role's MaxSessionDuration to be: no session of any role outlives this. */
export const IAM_MAX_SESSION_SECONDS = 43_200;
/** An IAM role ARN; the last group is the role's name. */
export const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/(?:[\w+=,.@/-]*\/)?([\w+=,.@-]{1,64})$/;

const schema: JsonSchema = object(
  "Settings of the AWS STS provider: the grant job assumes `role_arn` with its GitHub OIDC token (AssumeRoleWithWebIdentity).",
  {
    role_arn: {
      type: "string",
      title: "an IAM role ARN such as `arn:aws:iam::123456789012:role/breakglass-admin`",
      description:
        "The IAM role to assume. Its trust policy must accept GitHub's OIDC issuer for this repository.",
      pattern: "^arn:aws[a-z-]*:iam::\\d{12}:role/.+$",
      maxLength: 2048,
      examples: ["arn:aws:iam::123456789012:role/breakglass-admin"],
    },
    region: {
      type: "string",
      title: "an AWS region such as `eu-west-1`",
      description: "AWS region for the STS endpoint and the exported `AWS_REGION`.",
      pattern: "^[a-z]{2}(?:-[a-z]+)+-\\d{1,2}$",
      examples: ["eu-west-1"],
    },
    max_session: duration(
      "The role's MaxSessionDuration in IAM (1h to 12h); sessions are never asked to last longer.",
      ["1h"],
      { default: DEFAULT_AWS_MAX_SESSION },
    ),
  },
  { required: ["role_arn"], examples: [{ role_arn: "arn:aws:iam::123456789012:role/breakglass-admin" }] },
);

export const AWS_SETTINGS: ProviderSettingsSpec = {
  schema,
  defaults: { max_session: DEFAULT_AWS_MAX_SESSION },
  settingsRequired: true,
};

export function awsRoleArn(settings: Record<string, unknown>): string {
  const arn = settings.role_arn;
  if (typeof arn !== "string" || !ROLE_ARN.test(arn)) {
    throw new Error(
      "The role's settings.role_arn must be an IAM role ARN such as arn:aws:iam::123456789012:role/breakglass-admin.",
    );
  }
  return arn;
}

/** The region of the settings, else `fallback`. */
export function awsRegion(settings: Record<string, unknown>, fallback: string): string {
  return typeof settings.region === "string" ? settings.region : fallback;
}

/** The role's MaxSessionDuration in seconds (1h to 12h, default 1h). */
export function awsMaxSessionSeconds(settings: Record<string, unknown>): number {
  const raw = settings.max_session;
  let seconds = DEFAULT_MAX_SESSION_SECONDS;
  if (typeof raw === "number") seconds = raw;
  else if (typeof raw === "string") {
    const parsed = parseDuration(raw);
    if (!parsed.ok) throw new Error(`The role's settings.max_session is not a duration: ${parsed.error}`);
    seconds = parsed.value;
  } else if (raw !== undefined)
    throw new Error('The role\'s settings.max_session must be a duration such as "1h".');
  if (
    !Number.isInteger(seconds) ||
    seconds < DEFAULT_MAX_SESSION_SECONDS ||
    seconds > IAM_MAX_SESSION_SECONDS
  ) {
    throw new Error(
      "The role's settings.max_session must be between 1h and 12h, the range IAM allows for a role's MaxSessionDuration.",
    );
  }
  return seconds;
}
