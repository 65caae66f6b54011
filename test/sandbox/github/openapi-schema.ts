import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Ajv, type ValidateFunction } from "ajv";

/**
 * Checks emulator responses and webhook payloads against GitHub's own OpenAPI description
 * (@octokit/openapi), so the emulator cannot drift into a toy. OpenAPI 3.0's `nullable` is turned
 * into JSON Schema, and refs point into one shared document.
 */
const require = createRequire(import.meta.url);
const SPEC_PATH = require.resolve("@octokit/openapi/generated/api.github.com.json");

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Spec = {
  paths: Record<string, Record<string, { responses: Record<string, Json> }>>;
  "x-webhooks": Record<
    string,
    { post: { requestBody: { content: Record<string, { schema: { $ref: string } }> } } }
  >;
  components: Record<string, Record<string, Json>>;
};

const spec = JSON.parse(readFileSync(SPEC_PATH, "utf8")) as Spec;

function toJsonSchema(node: Json): Json {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (node === null || typeof node !== "object") return node;
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(node)) {
    if (
      key === "nullable" ||
      key === "example" ||
      key === "examples" ||
      key === "discriminator" ||
      key.startsWith("x-")
    )
      continue;
    if (key === "properties" && value && typeof value === "object" && !Array.isArray(value)) {
      out.properties = Object.fromEntries(
        Object.entries(value).map(([name, sub]) => [name, toJsonSchema(sub)]),
      );
    } else if (key === "$ref" && typeof value === "string") {
      out.$ref = value.startsWith("#/") ? `openapi${value}` : value;
    } else {
      out[key] = toJsonSchema(value);
    }
  }
  if ((node as Record<string, Json>).nullable === true) {
    if (typeof out.type === "string") {
      out.type = [out.type, "null"];
      if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    } else {
      return { anyOf: [out, { type: "null" }] };
    }
  }
  return out;
}

const ajv = new Ajv({ strict: false, allErrors: true });
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
ajv.addFormat("date-time", (s: string) => ISO_DATE_TIME.test(s) && !Number.isNaN(Date.parse(s)));
ajv.addFormat("uri", (s: string) => URL.canParse(s));
for (const name of [
  "uri-template",
  "email",
  "int32",
  "int64",
  "binary",
  "date",
  "hostname",
  "ipv4",
  "ipv6",
  "uuid",
  "repo.nwo",
  "ssh-key",
  "ssh-key fingerprint",
  "time",
  "regex",
])
  ajv.addFormat(name, true);
ajv.addSchema({ $id: "openapi", components: toJsonSchema(spec.components as Json) } as object);

const cache = new Map<string, ValidateFunction>();

function compiled(key: string, schema: () => Json): ValidateFunction {
  let fn = cache.get(key);
  if (!fn) {
    fn = ajv.compile(toJsonSchema(schema()) as object);
    cache.set(key, fn);
  }
  return fn;
}

function explain(fn: ValidateFunction, data: unknown, what: string): void {
  if (fn(data)) return;
  const problems = (fn.errors ?? [])
    .slice(0, 20)
    .map((e) => `  ${e.instancePath || "(root)"} ${e.message} ${JSON.stringify(e.params)}`);
  throw new Error(`${what} does not match GitHub's OpenAPI schema:\n${problems.join("\n")}`);
}

function resolveResponse(node: Json): Json {
  if (
    node &&
    typeof node === "object" &&
    !Array.isArray(node) &&
    typeof node.$ref === "string" &&
    node.$ref.startsWith("#/components/responses/")
  ) {
    return spec.components.responses![node.$ref.split("/").pop()!]!;
  }
  return node;
}

/** Throws unless `body` is what GitHub documents for `METHOD template` answering `status`. */
export function assertResponseSchema(method: string, template: string, status: number, body: unknown): void {
  const operation = spec.paths[template]?.[method.toLowerCase()];
  if (!operation) throw new Error(`GitHub's OpenAPI has no ${method} ${template}`);
  const response = resolveResponse(operation.responses[String(status)] ?? null) as {
    content?: Record<string, { schema: Json }>;
  } | null;
  const schema = response?.content?.["application/json"]?.schema;
  if (!schema) throw new Error(`GitHub's OpenAPI documents no JSON body for ${method} ${template} ${status}`);
  explain(
    compiled(`${method} ${template} ${status}`, () => schema),
    body,
    `${method} ${template} → ${status}`,
  );
}

/** Throws unless `payload` matches GitHub's schema for the webhook `event.action`. */
export function assertWebhookSchema(event: string, action: string, payload: unknown): void {
  const key = `${event.replace(/_/g, "-")}-${action}`;
  const hook = spec["x-webhooks"][key];
  if (!hook) throw new Error(`GitHub's OpenAPI has no webhook ${key}`);
  const schema = hook.post.requestBody.content["application/json"]!.schema;
  explain(
    compiled(`webhook ${key}`, () => schema as Json),
    payload,
    `webhook ${event}.${action}`,
  );
}

/** The top-level keys of @octokit/webhooks-examples' payloads for an event and action. */
export function exampleKeys(event: string, action: string): Set<string>[] {
  const examples = require("@octokit/webhooks-examples") as Array<{
    name: string;
    examples: Array<Record<string, unknown>>;
  }>;
  return (examples.find((e) => e.name === event)?.examples ?? [])
    .filter((x) => x.action === action)
    .map((x) => new Set(Object.keys(x)));
}

/** Throws unless `data` matches `#/components/schemas/<name>`. */
export function assertComponentSchema(name: string, data: unknown): void {
  explain(
    compiled(`component ${name}`, () => ({ $ref: `#/components/schemas/${name}` })),
    data,
    `${name}`,
  );
}

/** Whether GitHub's OpenAPI request-body schema of `METHOD template` accepts `body` (errors, when not). */
export function requestSchemaVerdict(
  method: string,
  template: string,
  body: unknown,
): { ok: boolean; errors: string[] } {
  const operation = spec.paths[template]?.[method.toLowerCase()] as unknown as
    { requestBody?: { content: Record<string, { schema: Json }> } } | undefined;
  const schema = operation?.requestBody?.content["application/json"]?.schema;
  if (!schema) throw new Error(`GitHub's OpenAPI documents no JSON request body for ${method} ${template}`);
  const fn = compiled(`request ${method} ${template}`, () => schema);
  const ok = fn(body);
  return { ok, errors: (fn.errors ?? []).map((e) => `${e.instancePath} ${e.message}`) };
}
