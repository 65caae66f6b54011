/** Schema errors rephrased for people: the line to look at, what the field must be, a guess at what was meant. */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { stringify } from "yaml";
import { DURATION_TITLE, POLICY_SCHEMA, type JsonSchema } from "../policy-schema.ts";
import { type Located, type Segment } from "./policy-errors.ts";
import { type Locate } from "./read-yaml.ts";
import { closest, code, dotted, firstSentence, list, pointerToPath, show, valueAt } from "./text.ts";

let compiled: ValidateFunction | undefined;
export function schemaValidator(): ValidateFunction {
  compiled ??= new Ajv({ allErrors: true, verbose: true, strict: true }).compile(POLICY_SCHEMA);
  return compiled;
}

export function explainSchemaErrors(errors: ErrorObject[], data: unknown, locate: Locate): Located[] {
  const hidden = new Set<ErrorObject>();
  const out: Located[] = [];
  for (const choice of errors.filter((e) => e.keyword === "oneOf")) {
    const branches = new Map<number, ErrorObject[]>();
    for (const child of errors) {
      if (child === choice || !child.schemaPath.startsWith(`${choice.schemaPath}/`)) continue;
      hidden.add(child);
      const index = Number(child.schemaPath.slice(choice.schemaPath.length + 1).split("/")[0]);
      branches.set(index, [...(branches.get(index) ?? []), child]);
    }
    // A branch whose own type fits the value explains the problem best (e.g. a list with one bad item).
    const fitting = [...branches.entries()].filter(
      ([, children]) =>
        !children.some(
          (c) => c.instancePath === choice.instancePath && ["type", "const", "enum"].includes(c.keyword),
        ),
    );
    hidden.add(choice);
    if (fitting.length === 1) fitting[0]![1].forEach((c) => hidden.delete(c));
    else out.push(explainOne(choice, data, locate)!);
  }
  for (const e of errors) {
    if (hidden.has(e) || e.keyword === "if" || e.schemaPath.includes("/propertyNames/")) continue;
    const explained = explainOne(e, data, locate);
    if (explained) out.push(explained);
  }
  return out;
}

export function explainOne(e: ErrorObject, data: unknown, locate: Locate): Located | null {
  const path = pointerToPath(e.instancePath);
  const where = dotted(path);
  const schema = (e.parentSchema ?? {}) as JsonSchema;
  const value = valueAt(data, path);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "required": {
      const missing = String(params.missingProperty);
      const property = schema.properties?.[missing] ?? {};
      const about = firstSentence(property.description);
      return {
        line: path.length ? locate.key(path) : null,
        message: `missing ${code(missing)}${where ? ` in ${where}` : ""}${about ? ` (${about})` : ""}${example(property, missing)}`,
      };
    }
    case "additionalProperties": {
      const unknown = String(params.additionalProperty);
      const known = Object.keys(schema.properties ?? {});
      const guess = closest(unknown, known);
      const hint = guess ? `did you mean ${code(guess)}?` : `the keys allowed here are ${list(known)}`;
      return {
        line: locate.key([...path, unknown]),
        message: `unknown key ${code(unknown)}${where ? ` in ${where}` : ""}; ${hint}`,
      };
    }
    case "propertyNames": {
      const name = String(params.propertyName);
      const rule = schema.propertyNames ?? {};
      return {
        line: locate.key([...path, name]),
        message: `${code(name)} in ${where} is not a valid name: use ${describe(rule)}`,
      };
    }
    case "minProperties":
    case "minItems":
    case "maxProperties":
    case "maxItems": {
      const limit = Number(params.limit);
      const noun = e.keyword.endsWith("Items") ? "item" : "entry";
      const plural = limit === 1 ? noun : noun === "entry" ? "entries" : "items";
      const atLeast = e.keyword.startsWith("min");
      return {
        line: locate.value(path),
        message: `${where} must have ${atLeast ? "at least" : "at most"} ${limit} ${plural}${atLeast ? example(schema, path.at(-1)) : ""}`,
      };
    }
    case "uniqueItems": {
      const later = Math.max(Number(params.i), Number(params.j));
      return {
        line: locate.value([...path, later]),
        message: `${where} lists ${code(show(valueAt(data, [...path, later])))} twice; remove one of them`,
      };
    }
    case "not":
      return {
        line: locate.key(path),
        message: `${where}: ${schema.description ?? "not allowed here; remove it"}`,
      };
    case "oneOf":
    case "type":
    case "enum":
    case "const":
    case "minimum":
    case "maximum":
    case "pattern":
    case "minLength":
    case "maxLength": {
      // Durations are judged (and explained) by parseDuration in checkSemantics.
      if (schema.title === DURATION_TITLE && typeof value === "string") return null;
      if (path.length === 0) {
        return {
          line: locate.value(path),
          message: `the file must be a YAML mapping of keys such as \`description:\`, \`roles:\` and \`max_duration:\`, not ${Array.isArray(value) ? "a list" : "a single value"}`,
        };
      }
      const subject = where || "the policy";
      const expected = describe(schema);
      const guess = suggestValue(schema, value);
      const tail = guess ? `; did you mean ${code(guess)}?` : example(schema, path.at(-1));
      const verb =
        value === null && e.keyword === "type" ? `has no value; write ${expected}` : `must be ${expected}`;
      return { line: locate.value(path), message: `${subject} ${verb}${tail}` };
    }
    default:
      return { line: locate.value(path), message: `${where || "the policy"} ${e.message ?? "is not valid"}` };
  }
}

/** Completes the sentence "<field> must be …" from the schema. */
export function describe(schema: JsonSchema): string {
  if (schema.title) return schema.title;
  if (schema.enum) return `one of ${list(schema.enum.map(String))}`;
  if (schema.const !== undefined) return code(String(schema.const));
  if (schema.oneOf) return schema.oneOf.map(describe).join(" or ");
  switch (schema.type) {
    case "boolean":
      return "`true` or `false`";
    case "integer":
      if (schema.minimum !== undefined && schema.maximum !== undefined) {
        return `a number from ${schema.minimum} to ${schema.maximum}`;
      }
      return "a whole number";
    case "object":
      return "a mapping of keys to values";
    case "array":
      return "a list";
    default:
      return schema.maxLength ? `text of at most ${schema.maxLength} characters` : "text";
  }
}

export function example(schema: JsonSchema, key: Segment | undefined): string {
  const sample =
    schema.examples?.[0] ?? schema.const ?? schema.oneOf?.find((s) => s.const !== undefined)?.const;
  if (sample === undefined) return "";
  const rendered = stringify(sample, {
    collectionStyle: "flow",
    flowCollectionPadding: false,
    lineWidth: 0,
  }).trim();
  if (key === undefined) return `, e.g. \`${rendered}\``;
  return typeof key === "number" ? `, e.g. \`- ${rendered}\`` : `, e.g. \`${key}: ${rendered}\``;
}

export function suggestValue(schema: JsonSchema, value: unknown): string | null {
  if (typeof value !== "string") return null;
  if (schema.type === "boolean") {
    if (/^(?:yes|y|on|true)$/i.test(value)) return "true";
    if (/^(?:no|n|off|false)$/i.test(value)) return "false";
    return null;
  }
  const options = [...(schema.enum ?? []), ...(schema.oneOf ?? []).map((s) => s.const)].filter(
    (v): v is string => typeof v === "string",
  );
  return closest(value, options);
}
