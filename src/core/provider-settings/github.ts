/** The `github` provider's settings: their schema and how the provider reads them. */
import { object, type JsonSchema } from "../schema-builders.ts";
import type { ProviderSettingsSpec } from "./spec.ts";

const REPOSITORY_NAME = "^[A-Za-z0-9._-]{1,100}$";
const PERMISSION_NAME = "^[a-z][a-z_]{0,63}$";
const LEVELS = ["read", "write", "admin"] as const;

const schema: JsonSchema = object(
  "Settings of the GitHub App installation-token provider: the token is narrowed to these repositories and permissions.",
  {
    repositories: {
      type: "array",
      title: "a list of repository names (without the owner) such as `[ops]`",
      description: "Repositories of the installation's owner the token may reach, by name without the owner.",
      items: {
        type: "string",
        title: "a repository name without the owner (`ops`, not `acme/ops`)",
        description: "One repository name.",
        pattern: REPOSITORY_NAME,
        examples: ["ops"],
      },
      minItems: 1,
      maxItems: 100,
      uniqueItems: true,
      examples: [["ops"]],
    },
    permissions: {
      type: "object",
      title: "a mapping of GitHub App permission names to `read`, `write` or `admin`",
      description:
        "GitHub App permissions of the token, e.g. `contents: write`. The app's installation must already hold them.",
      propertyNames: {
        type: "string",
        title:
          "a GitHub App permission name such as `contents` or `administration` (lowercase letters and `_`)",
        description: "A permission name as GitHub spells it.",
        pattern: PERMISSION_NAME,
      },
      additionalProperties: {
        enum: LEVELS,
        description: "The access level.",
        examples: ["write"],
      },
      minProperties: 1,
      examples: [{ contents: "write" }],
    },
  },
  {
    required: ["repositories", "permissions"],
    examples: [{ repositories: ["ops"], permissions: { contents: "write" } }],
  },
);

export const GITHUB_SETTINGS: ProviderSettingsSpec = { schema, defaults: {}, settingsRequired: true };

/** The repositories and permissions the token is narrowed to; throws on settings the schema would refuse. */
export function githubTokenScope(settings: Record<string, unknown>): {
  repositories: string[];
  permissions: Record<string, string>;
} {
  const repositories = settings.repositories;
  const repositoryName = new RegExp(REPOSITORY_NAME);
  if (
    !Array.isArray(repositories) ||
    repositories.length === 0 ||
    repositories.some((r) => typeof r !== "string" || !repositoryName.test(r))
  ) {
    throw new Error(
      "The role's settings.repositories must list repository names without the owner, such as [ops].",
    );
  }
  const permissions = settings.permissions;
  if (
    typeof permissions !== "object" ||
    permissions === null ||
    Array.isArray(permissions) ||
    Object.keys(permissions).length === 0
  ) {
    throw new Error(
      "The role's settings.permissions must map GitHub App permissions to levels, such as { contents: write }.",
    );
  }
  const permissionName = new RegExp(PERMISSION_NAME);
  for (const [name, level] of Object.entries(permissions)) {
    if (
      !permissionName.test(name) ||
      typeof level !== "string" ||
      !(LEVELS as readonly string[]).includes(level)
    ) {
      throw new Error(
        `The role's settings.permissions has "${name.slice(0, 64)}: ${String(level).slice(0, 20)}"; write a GitHub App permission name with read, write or admin.`,
      );
    }
  }
  return {
    repositories: [...repositories] as string[],
    permissions: { ...(permissions as Record<string, string>) },
  };
}
