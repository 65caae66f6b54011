/** The `postgres` provider's settings: their schema, defaults and how the provider reads them. */
import { envVar, object, type JsonSchema } from "../schema-builders.ts";
import type { ProviderSettingsSpec } from "./spec.ts";

export const DEFAULT_PG_CONNECTION_ENV = "BREAKGLASS_PG_ADMIN_URL";
/** PostgreSQL cuts longer identifiers to 63 bytes, which could silently name a different role. */
const MAX_IDENTIFIER_BYTES = 63;

const schema: JsonSchema = object(
  "Settings of the PostgreSQL provider: a temporary login role is created and granted `grant_role`, then dropped.",
  {
    grant_role: {
      type: "string",
      title: "a PostgreSQL role name: lowercase letters, digits and `_`, starting with a letter or `_`",
      description: "The existing database role whose privileges the temporary login receives.",
      pattern: "^[a-z_][a-z0-9_]{0,62}$",
      examples: ["bg_readonly"],
    },
    connection_env: envVar(
      "Environment variable holding the admin connection string Breakglass uses to create and drop the temporary login.",
      ["BREAKGLASS_PG_ADMIN_URL"],
      { default: DEFAULT_PG_CONNECTION_ENV },
    ),
    database: {
      type: "string",
      title: "a database name: letters, digits, `_`, `$` and `-`",
      description: "Database to connect to, when not the one in the connection string.",
      pattern: "^[A-Za-z_][A-Za-z0-9_$-]{0,62}$",
      examples: ["orders"],
    },
  },
  { required: ["grant_role"], examples: [{ grant_role: "bg_readonly" }] },
);

export const POSTGRES_SETTINGS: ProviderSettingsSpec = {
  schema,
  defaults: { connection_env: DEFAULT_PG_CONNECTION_ENV },
  settingsRequired: true,
};

/** The name of the environment variable holding the admin connection URL. */
export function postgresConnectionEnv(settings: Record<string, unknown>): string {
  return typeof settings.connection_env === "string" ? settings.connection_env : DEFAULT_PG_CONNECTION_ENV;
}

/** The existing role the temporary login is granted; throws on a name PostgreSQL would cut or misread. */
export function postgresGrantRole(settings: Record<string, unknown>): string {
  const role = settings.grant_role;
  if (typeof role !== "string" || role === "")
    throw new Error(
      "The role's settings.grant_role must name an existing PostgreSQL role, such as bg_readonly.",
    );
  // eslint-disable-next-line no-control-regex
  if (Buffer.byteLength(role) > MAX_IDENTIFIER_BYTES || /[\u0000-\u001f]/.test(role)) {
    throw new Error(
      `The role's settings.grant_role is longer than ${MAX_IDENTIFIER_BYTES} bytes or has control characters; name the PostgreSQL role exactly.`,
    );
  }
  return role;
}
