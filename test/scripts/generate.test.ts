import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import { parseDocument } from "yaml";
import {
  POLICY_REFERENCE_PATH,
  renderPolicyReference,
  renderSchemaJson,
  SCHEMA_JSON_PATH,
  WORKED_EXAMPLE,
} from "../../scripts/generate.ts";
import { formatPolicyError, parsePolicy } from "../../src/core/policy.ts";
import { POLICY_SCHEMA, PROVIDERS, type JsonSchema } from "../../src/core/policy-schema.ts";

const STALE = "is stale: run `npm run gen` and commit the result";

test(`${SCHEMA_JSON_PATH} is the generated schema`, () => {
  assert.ok(readFileSync(SCHEMA_JSON_PATH, "utf8") === renderSchemaJson(), `${SCHEMA_JSON_PATH} ${STALE}`);
});

test(`${POLICY_REFERENCE_PATH} is the generated reference`, () => {
  assert.ok(
    readFileSync(POLICY_REFERENCE_PATH, "utf8") === renderPolicyReference(),
    `${POLICY_REFERENCE_PATH} ${STALE}`,
  );
});

test("the published schema is one a strict draft-07 validator accepts, and it accepts the example policies", () => {
  const schema = JSON.parse(renderSchemaJson()) as object;
  const validate = new Ajv({ strict: true }).compile(schema);
  for (const name of [
    "prod-database",
    "aws-production",
    "github-admin",
    "model-guardrail-override",
    "model-rollback",
    "drill",
  ]) {
    const data = parseDocument(readFileSync(`policies/${name}.yml`, "utf8")).toJS() as unknown;
    assert.ok(validate(data), `${name}: ${JSON.stringify(validate.errors)}`);
  }
  assert.equal(
    validate({ description: "x", roles: { read: { provider: "jwt" } }, max_duration: "4h", extra: 1 }),
    false,
  );
});

test("the worked example in the reference is a valid policy", () => {
  const result = parsePolicy("policies/prod-database.yml", WORKED_EXAMPLE);
  assert.ok(result.ok, result.ok ? "" : result.error.map(formatPolicyError).join("\n"));
  assert.equal(result.value.approvals.required, 2);
  assert.equal(result.value.auto_approve[0]?.on_call_team, "@acme/oncall");
});

test("every field of the schema has a description and appears in the reference", () => {
  const reference = renderPolicyReference();
  const missing: string[] = [];
  const walk = (schema: JsonSchema, path: string, documentedAs: string): void => {
    if (!schema.description) missing.push(path);
    if (documentedAs && !reference.includes(`| \`${documentedAs}\` |`))
      missing.push(`${path} (not in the reference)`);
    for (const [name, child] of Object.entries(schema.properties ?? {})) {
      walk(child, `${path}.${name}`, documentedAs ? `${documentedAs}.${name}` : name);
    }
    if (schema.items?.properties) {
      for (const [name, child] of Object.entries(schema.items.properties))
        walk(child, `${path}[].${name}`, `${documentedAs}[].${name}`);
    }
  };
  walk(POLICY_SCHEMA, "(root)", "");
  const role = POLICY_SCHEMA.properties!.roles!.additionalProperties as JsonSchema;
  walk(role, "roles.<name>", "roles.<name>");
  for (const provider of PROVIDERS) {
    const then = role.allOf!.find((branch) => branch.if?.properties?.provider?.const === provider)!.then!;
    const settings = then.properties!.settings!;
    assert.ok(reference.includes(`### \`provider: ${provider}\``), provider);
    for (const [name, child] of Object.entries(settings.properties ?? {}))
      walk(child, `${provider}.settings.${name}`, `settings.${name}`);
  }
  assert.deepEqual(missing, []);
});

test("the reference shows defaults, durations and the generated-file notice", () => {
  const reference = renderPolicyReference();
  assert.match(reference, /Do not edit: change the schema and run `npm run gen`/);
  assert.match(reference, /\| `approvals\.required` \| integer \(1–10\) \| no \| `1` \|/);
  assert.match(reference, /\| `max_duration` \| duration \| yes \| — \|/);
  assert.match(reference, /\| `settings\.connection_env` \| text \| no \| `BREAKGLASS_PG_ADMIN_URL` \|/);
  assert.match(
    reference,
    /`audit_checklist` when omitted:\n\n```yaml\naudit_checklist:\n {2}- Confirm the incident/,
  );
});
