/**
 * The JSON Schema subset the policy schema is written in, and the builders its parts share (the policy
 * schema itself in policy-schema.ts, each provider's settings in provider-settings/).
 */

/** The subset of JSON Schema (draft-07) this file uses; narrow on purpose so the generators can walk it. */
export interface JsonSchema {
  $schema?: string;
  $id?: string;
  title?: string;
  description?: string;
  type?: "object" | "array" | "string" | "integer" | "boolean";
  default?: unknown;
  examples?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  minProperties?: number;
  maxProperties?: number;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  enum?: readonly unknown[];
  const?: unknown;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  if?: JsonSchema;
  then?: JsonSchema;
  /** Used as `not: {}` (never valid), so the node's `description` becomes the error message. */
  not?: JsonSchema;
}

export const ENV_VAR_PATTERN = "^[A-Z_][A-Z0-9_]{0,127}$";

/**
 * Loose shape of a duration, so editors flag "4 hours" as you type. `parseDuration` stays the judge:
 * it also refuses zero and anything over 7 days, and its messages are the ones users see.
 */
export const DURATION_PATTERN =
  "^\\s*(?:(?:\\d{1,6}[dD])?(?:\\d{1,6}[hH])?(?:\\d{1,6}[mM])?(?:\\d{1,6}[sS])?|[pP](?:\\d{1,6}[dD])?(?:[tT](?:\\d{1,6}[hH])?(?:\\d{1,6}[mM])?(?:\\d{1,6}[sS])?)?)\\s*$";
export const DURATION_TITLE = "a duration such as `30m`, `4h`, `1h30m` or `PT2H`";

export function duration(
  description: string,
  examples: string[],
  extra: Partial<JsonSchema> = {},
): JsonSchema {
  return {
    type: "string",
    title: DURATION_TITLE,
    description,
    pattern: DURATION_PATTERN,
    maxLength: 40,
    examples,
    ...extra,
  };
}

export function envVar(description: string, examples: string[], extra: Partial<JsonSchema> = {}): JsonSchema {
  return {
    type: "string",
    title: "the name of an environment variable (capital letters, digits and `_`)",
    description,
    pattern: ENV_VAR_PATTERN,
    examples,
    ...extra,
  };
}

export function object(
  description: string,
  properties: Record<string, JsonSchema>,
  extra: Partial<JsonSchema> = {},
): JsonSchema {
  return { type: "object", description, additionalProperties: false, properties, ...extra };
}
