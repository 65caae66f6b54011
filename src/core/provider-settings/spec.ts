import type { JsonSchema } from "../schema-builders.ts";

/** What the schema, the policy loader and the provider share about one provider's settings. */
export interface ProviderSettingsSpec {
  /** The JSON Schema of `roles.<name>.settings` for this provider. */
  schema: JsonSchema;
  /** Values the policy loader fills in when the policy leaves them out (the schema's `default`s). */
  defaults: Record<string, unknown>;
  /** Whether a role of this provider must have `settings`. */
  settingsRequired: boolean;
}
