/** The `jwt` provider's settings: their schema and how the provider reads them. */
import { object, type JsonSchema } from "../schema-builders.ts";
import type { ProviderSettingsSpec } from "./spec.ts";

const schema: JsonSchema = object(
  "Settings of the built-in signed-JWT provider: Breakglass signs a short-lived token for the service named by `audience`.",
  {
    audience: {
      type: "string",
      title: "the audience of the token (text)",
      description: "The `aud` claim of the minted token: the service that will accept it.",
      minLength: 1,
      maxLength: 200,
      examples: ["https://models.example.com"],
    },
    scopes: {
      type: "array",
      title: "a list of scopes such as `[guardrail:disable]`",
      description:
        "Scopes written into the token's `scope` claim; the receiving service decides what each allows.",
      items: {
        type: "string",
        title: "a scope made of letters, digits and `:._/*-`",
        description: "One scope.",
        pattern: "^[A-Za-z0-9:._/*-]{1,100}$",
        examples: ["model:rollback"],
      },
      uniqueItems: true,
      maxItems: 50,
      examples: [["guardrail:disable"]],
    },
  },
  { examples: [{ audience: "https://models.example.com", scopes: ["model:rollback"] }] },
);

export const JWT_SETTINGS: ProviderSettingsSpec = { schema, defaults: {}, settingsRequired: false };

/** The token's `aud`: the settings' audience, else the resource. */
export function jwtAudience(settings: Record<string, unknown>, resource: string): string {
  return typeof settings.audience === "string" ? settings.audience : resource;
}

/** The token's scopes, in the order the policy lists them. */
export function jwtScopes(settings: Record<string, unknown>): string[] {
  return Array.isArray(settings.scopes)
    ? settings.scopes.filter((s): s is string => typeof s === "string")
    : [];
}
