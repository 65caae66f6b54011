import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import {
  isAlias,
  isCollection,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  stringify,
  visit,
  type Document,
  type Pair,
  type YAMLMap,
} from "yaml";
import { parseDuration } from "./duration.ts";
import {
  DEFAULT_DURATION_CAP,
  DURATION_TITLE,
  POLICY_DEFAULTS,
  POLICY_SCHEMA,
  RESOURCE_NAME_PATTERN,
  type JsonSchema,
} from "./policy-schema.ts";
import { withProviderDefaults } from "./provider-settings/index.ts";
import { err, ok, type Result } from "./result.ts";
import type { StepUp, StepUpMethod, AutoApproveRule, NotifyTarget, Policy, ProviderName, RoleSpec, Severity } from "./types.ts";

/** One problem in one policy file. `line` is 1-based; null when the problem is the file as a whole. */
export interface PolicyError {
  file: string;
  line: number | null;
  message: string;
}

export const MAX_POLICY_BYTES = 64 * 1024;
/**
 * The yaml parser recurses per nesting level and relies on catching stack overflow; on some inputs V8
 * aborts the whole process instead (seen with 30k `[`). Policies never nest deeply, so refuse before parsing.
 */
const MAX_BRACKET_DEPTH = 16;
const MAX_INDENT_COLUMNS = 100;
const MAX_INDICATORS_PER_LINE = 16;
const MAX_REPORTED_ERRORS = 25;
const AWS_MIN_SESSION_SECONDS = 3600;
const AWS_MAX_SESSION_SECONDS = 12 * 3600;

type Segment = string | number;
interface Located {
  line: number | null;
  message: string;
}

/** "policies/x.yml:7: message", or "policies/x.yml: message" when the problem has no line. */
export function formatPolicyError(error: PolicyError): string {
  return error.line === null
    ? `${error.file}: ${error.message}`
    : `${error.file}:${error.line}: ${error.message}`;
}

/** The resource a policy file defines: its base name without `.yml` / `.yaml`. */
export function resourceNameFromPath(path: string): Result<string, string> {
  const base = path.split(/[\\/]/).pop() ?? "";
  const match = /^(.*)\.ya?ml$/.exec(base);
  if (!match)
    return err(
      `${code(base)} is not a policy file name: name it \`<resource>.yml\`, e.g. \`prod-database.yml\``,
    );
  const name = match[1]!;
  if (!new RegExp(RESOURCE_NAME_PATTERN).test(name)) {
    return err(
      `${code(name)} is not a valid resource name: rename the file using lowercase letters, digits and dashes (at most 63 characters), e.g. \`prod-database.yml\``,
    );
  }
  return ok(name);
}

/**
 * Parses and validates one policy file. Every problem found is returned at once, each with the line to
 * look at and what to write instead. Never throws.
 */
export function parsePolicy(path: string, text: string): Result<Policy, PolicyError[]> {
  try {
    return parseUnguarded(path, text);
  } catch (e) {
    // Last line of defence: bad input must come back as a message, never as an exception.
    return err([
      {
        file: path,
        line: null,
        message: `could not read the policy (${e instanceof Error ? e.message : String(e)})`,
      },
    ]);
  }
}

/** Parses every file; a file with problems is left out of `policies` and its problems are listed in `errors`. */
export function loadPolicies(files: Array<{ path: string; text: string }>): {
  policies: Map<string, Policy>;
  errors: PolicyError[];
} {
  const policies = new Map<string, Policy>();
  const errors: PolicyError[] = [];
  for (const file of files) {
    const parsed = parsePolicy(file.path, file.text);
    if (!parsed.ok) {
      errors.push(...parsed.error);
      continue;
    }
    const earlier = policies.get(parsed.value.resource);
    if (earlier) {
      errors.push({
        file: file.path,
        line: null,
        message: `resource ${code(parsed.value.resource)} is already defined by ${earlier.path}; keep only one of the two files`,
      });
      continue;
    }
    policies.set(parsed.value.resource, parsed.value);
  }
  return { policies, errors };
}

function parseUnguarded(path: string, text: string): Result<Policy, PolicyError[]> {
  const problems: Located[] = [];
  const resource = resourceNameFromPath(path);
  const finish = (): Result<Policy, PolicyError[]> =>
    err(
      toPolicyErrors(path, resource.ok ? problems : [{ line: null, message: resource.error }, ...problems]),
    );

  const bytes = new TextEncoder().encode(text).length;
  if (bytes > MAX_POLICY_BYTES) {
    problems.push({
      line: null,
      message: `the file is ${bytes} bytes; a policy may be at most ${MAX_POLICY_BYTES} bytes (64 KiB). Split it into several resources.`,
    });
    return finish();
  }
  const shape = checkNesting(text);
  if (shape) {
    problems.push(shape);
    return finish();
  }

  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const lineAt = (offset: number): number => lines.linePos(offset).line;
  const keyAt = keysByOffset(doc);
  for (const e of doc.errors) {
    const message =
      e.code === "DUPLICATE_KEY"
        ? duplicateKeyMessage(keyAt.get(e.pos[0]) ?? null)
        : yamlErrorMessage(e.code, e.message);
    problems.push({ line: lineAt(e.pos[0]), message });
  }
  for (const w of doc.warnings)
    problems.push({ line: lineAt(w.pos[0]), message: yamlWarningMessage(w.code, w.message) });
  if (problems.length) return finish();

  problems.push(...findAnchorsAndAliases(doc, lineAt));
  if (problems.length) return finish();

  if (doc.contents === null) {
    problems.push({
      line: null,
      message:
        "the file is empty: a policy needs at least `description`, `roles` and `max_duration` (see docs/policy-reference.md)",
    });
    return finish();
  }
  const data = toPlain(doc.contents, problems, lineAt);
  if (problems.length) return finish();

  const locate = locator(doc, lineAt);
  const validate = schemaValidator();
  if (!validate(data)) problems.push(...explainSchemaErrors(validate.errors ?? [], data, locate));
  const semantics = checkSemantics(data, locate);
  problems.push(...semantics.problems);
  if (problems.length || !resource.ok) return finish();

  return ok(buildPolicy(resource.value, path, data as RawPolicy, semantics.seconds));
}

function toPolicyErrors(file: string, problems: Located[]): PolicyError[] {
  const seen = new Set<string>();
  const unique = problems.filter((p) => {
    const key = `${p.line}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  unique.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  const shown = unique.slice(0, MAX_REPORTED_ERRORS).map((p) => ({ file, line: p.line, message: p.message }));
  if (unique.length > MAX_REPORTED_ERRORS) {
    shown.push({
      file,
      line: null,
      message: `…and ${unique.length - MAX_REPORTED_ERRORS} more problems; fix these first`,
    });
  }
  return shown;
}

// ---------------------------------------------------------------------------------------------------
// Reading YAML safely

/**
 * A cheap over-estimate of nesting, counted on the raw text before the parser sees it. Brackets inside
 * quoted text count too: refusing a policy with 17 unclosed `[` in a string is a fair price for never
 * handing the parser something that can take the process down.
 */
function checkNesting(text: string): Located | null {
  let depth = 0;
  let line = 1;
  let inComment = false;
  let atLineStart = true;
  let indent = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "\n") {
      line++;
      inComment = false;
      atLineStart = true;
      indent = 0;
      continue;
    }
    if (atLineStart) {
      if (ch === " ") {
        if (++indent > MAX_INDENT_COLUMNS) {
          return {
            line,
            message: `this line is indented more than ${MAX_INDENT_COLUMNS} columns; a policy never nests that deep`,
          };
        }
        continue;
      }
      atLineStart = false;
      const end = text.indexOf("\n", i);
      const indicators = /^(?:[-?:](?:[ \t]+|$))+/.exec(text.slice(i, end === -1 ? undefined : end));
      if (indicators && indicators[0].replace(/\s/g, "").length > MAX_INDICATORS_PER_LINE) {
        return {
          line,
          message: `this line nests more than ${MAX_INDICATORS_PER_LINE} lists or keys; a policy never nests that deep`,
        };
      }
    }
    if (inComment) continue;
    if (ch === "#" && (i === 0 || /\s/.test(text[i - 1]!))) inComment = true;
    else if (ch === "[" || ch === "{") {
      if (++depth > MAX_BRACKET_DEPTH) {
        return {
          line,
          message: `brackets are nested more than ${MAX_BRACKET_DEPTH} deep; a policy never nests that deep`,
        };
      }
    } else if ((ch === "]" || ch === "}") && depth > 0) depth--;
  }
  return null;
}

function duplicateKeyMessage(key: string | null): string {
  return `duplicate key${key === null ? "" : ` ${code(key)}`}: each key may appear only once in a mapping; keep one of them`;
}

function yamlErrorMessage(codeName: string, message: string): string {
  switch (codeName) {
    case "MULTIPLE_DOCS":
      return "the file holds more than one YAML document (a `---` line after content); keep one policy per file";
    case "TAB_AS_INDENT":
      return "YAML syntax error: tabs are not allowed as indentation; indent with spaces";
    default:
      return `YAML syntax error: ${message}`;
  }
}

/** Scalar mapping keys by start offset: yaml reports a duplicate key by its offset only. */
function keysByOffset(doc: Document): Map<number, string> {
  const keys = new Map<number, string>();
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && pair.key.range) keys.set(pair.key.range[0], String(pair.key.value));
    },
  });
  return keys;
}

function yamlWarningMessage(codeName: string, message: string): string {
  if (codeName === "TAG_RESOLVE_FAILED")
    return `${message.replace(/^Unresolved tag/, "unknown YAML tag")}; remove the tag`;
  return `YAML problem: ${message}`;
}

function findAnchorsAndAliases(doc: Document, lineAt: (offset: number) => number): Located[] {
  const found: Located[] = [];
  visit(doc, {
    Alias(_, node) {
      found.push({
        line: node.range ? lineAt(node.range[0]) : null,
        message: `YAML aliases (${code(`*${node.source}`)}) are not allowed in policies: write the value out in full`,
      });
    },
    Node(_, node) {
      if (!isAlias(node) && node.anchor) {
        found.push({
          line: node.range ? lineAt(node.range[0]) : null,
          message: `YAML anchors (${code(`&${node.anchor}`)}) are not allowed in policies: remove the anchor and write values out in full`,
        });
      }
    },
  });
  return found;
}

/**
 * Converts the YAML tree to plain data by hand rather than with `toJS()`: no alias expansion, keys that
 * must be plain scalars, duplicate detection after keys become strings (`1` and `"1"`), and `__proto__`
 * stored as an ordinary key instead of replacing the object's prototype.
 */
function toPlain(node: unknown, problems: Located[], lineAt: (offset: number) => number): unknown {
  if (node === null || node === undefined) return null;
  if (isScalar(node)) return node.value;
  if (isMap(node)) {
    const out: Record<string, unknown> = {};
    for (const pair of node.items) {
      const key = pair.key;
      const keyLine = isScalar(key) || isCollection(key) ? (key.range ? lineAt(key.range[0]) : null) : null;
      if (!isScalar(key) || key.value === null || typeof key.value === "object") {
        problems.push({
          line: keyLine,
          message: "keys must be plain names such as `max_duration`, not lists, mappings or empty",
        });
        continue;
      }
      const name = String(key.value);
      if (Object.prototype.hasOwnProperty.call(out, name)) {
        problems.push({ line: keyLine, message: duplicateKeyMessage(name) });
        continue;
      }
      Object.defineProperty(out, name, {
        value: toPlain(pair.value, problems, lineAt),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  if (isSeq(node)) return node.items.map((item) => toPlain(item, problems, lineAt));
  return null;
}

interface Locate {
  /** Line of the key that holds `path` (for missing or unknown keys). */
  key(path: Segment[]): number | null;
  /** Line of the value at `path` (for wrong values). */
  value(path: Segment[]): number | null;
}

function locator(doc: Document, lineAt: (offset: number) => number): Locate {
  const rangeLine = (node: unknown): number | null =>
    (isScalar(node) || isCollection(node)) && node.range ? lineAt(node.range[0]) : null;
  // Indexed once per mapping: a file with thousands of unknown keys must not cost thousands of scans.
  const indexes = new Map<YAMLMap, Map<string, Pair>>();
  const pairsOf = (map: YAMLMap): Map<string, Pair> => {
    let index = indexes.get(map);
    if (!index) {
      index = new Map();
      for (const pair of map.items)
        if (isScalar(pair.key) && !index.has(String(pair.key.value))) index.set(String(pair.key.value), pair);
      indexes.set(map, index);
    }
    return index;
  };
  const find = (path: Segment[]): { keyLine: number | null; valueLine: number | null } => {
    let node: unknown = doc.contents;
    let keyLine: number | null = null;
    let valueLine = rangeLine(node);
    for (const segment of path) {
      if (isMap(node)) {
        const pair = pairsOf(node).get(String(segment));
        if (!pair) break;
        keyLine = rangeLine(pair.key);
        node = pair.value;
        valueLine = rangeLine(node) ?? keyLine;
      } else if (isSeq(node) && node.items[Number(segment)] !== undefined) {
        node = node.items[Number(segment)];
        keyLine = valueLine = rangeLine(node) ?? valueLine;
      } else break;
    }
    return { keyLine, valueLine };
  };
  return { key: (path) => find(path).keyLine, value: (path) => find(path).valueLine };
}

// ---------------------------------------------------------------------------------------------------
// Schema errors, rephrased for people

let compiled: ValidateFunction | undefined;
function schemaValidator(): ValidateFunction {
  compiled ??= new Ajv({ allErrors: true, verbose: true, strict: true }).compile(POLICY_SCHEMA);
  return compiled;
}

function explainSchemaErrors(errors: ErrorObject[], data: unknown, locate: Locate): Located[] {
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

function explainOne(e: ErrorObject, data: unknown, locate: Locate): Located | null {
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
function describe(schema: JsonSchema): string {
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

function example(schema: JsonSchema, key: Segment | undefined): string {
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

function suggestValue(schema: JsonSchema, value: unknown): string | null {
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

// ---------------------------------------------------------------------------------------------------
// Rules the schema cannot express

interface RawRole {
  provider: ProviderName;
  description?: string;
  settings?: Record<string, unknown>;
  delivery?: "job" | "age";
}
interface RawRule {
  name: string;
  roles?: string[];
  severities?: Severity[];
  max_duration?: string;
  on_call_team?: string;
  drill_only?: boolean;
}
/** The file's data once the schema has accepted it. */
interface RawPolicy {
  description: string;
  roles: Record<string, RawRole>;
  approvals?: { required?: number; from?: "codeowners" | string[]; step_up?: StepUpSetting; require_hardware_key?: boolean };
  requesters?: { min_permission?: Policy["requesters"]["min_permission"]; teams?: string[] };
  commands_via_apps?: string[];
  auto_approve?: RawRule[];
  break_glass?: { allowed?: boolean; step_up?: StepUpSetting; require_hardware_key?: boolean };
  extend?: { requires_approval?: boolean };
  incident?: { require_open_issue?: boolean; revoke_on_close?: boolean };
  limits?: { max_active_grants_per_user?: number; max_requests_per_user_per_day?: number };
  notify?: NotifyTarget[];
  audit_checklist?: string[];
  environment?: string;
  keep_alive_after_job?: boolean;
  drill?: { enabled?: boolean };
}

/** Seconds of every duration that parsed, keyed by its dotted path. */
type Seconds = Map<string, number>;

function checkSemantics(data: unknown, locate: Locate): { problems: Located[]; seconds: Seconds } {
  const problems: Located[] = [];
  const seconds: Seconds = new Map();
  if (!isRecord(data)) return { problems, seconds };

  for (const path of durationPaths(data)) {
    const value = valueAt(data, path);
    if (typeof value !== "string") continue;
    const parsed = parseDuration(value);
    if (parsed.ok) seconds.set(dotted(path), parsed.value);
    else problems.push({ line: locate.value(path), message: `${dotted(path)}: ${parsed.error}` });
  }
  const max = seconds.get("max_duration");
  const def = seconds.get("default_duration");
  if (max !== undefined && def !== undefined && def > max) {
    problems.push({
      line: locate.value(["default_duration"]),
      message: `default_duration (${show(data.default_duration)}) is longer than max_duration (${show(data.max_duration)}); shorten default_duration or raise max_duration`,
    });
  }

  const approvals = isRecord(data.approvals) ? data.approvals : {};
  if (
    Array.isArray(approvals.from) &&
    typeof approvals.required === "number" &&
    approvals.required > approvals.from.length
  ) {
    const n = approvals.from.length;
    problems.push({
      line: locate.value(["approvals", "required"]),
      message: `approvals.required is ${approvals.required} but approvals.from lists only ${n} approver${n === 1 ? "" : "s"}; lower \`required\` to at most ${n} or add approvers to \`from\``,
    });
  }

  for (const [name, role] of Object.entries(isRecord(data.roles) ? data.roles : {})) {
    if (isRecord(role) && role.delivery === "age" && data.keep_alive_after_job !== true) {
      problems.push({
        line: locate.value(["roles", name, "delivery"]),
        message: `roles.${name}.delivery is \`age\`: the credential goes to a person, not to the job, so ending the grant with the job would revoke it at once; set \`keep_alive_after_job: true\``,
      });
    }
  }

  const roleNames = isRecord(data.roles) ? Object.keys(data.roles) : [];
  const rules = Array.isArray(data.auto_approve) ? data.auto_approve : [];
  const ruleNames = new Set<string>();
  rules.forEach((rule, i) => {
    if (!isRecord(rule)) return;
    const at = (...rest: Segment[]): Segment[] => ["auto_approve", i, ...rest];
    if (typeof rule.name === "string") {
      if (ruleNames.has(rule.name)) {
        problems.push({
          line: locate.value(at("name")),
          message: `auto_approve[${i}].name ${code(rule.name)} is used by an earlier rule; give each rule its own name`,
        });
      }
      ruleNames.add(rule.name);
    }
    const ruleMax = seconds.get(`auto_approve[${i}].max_duration`);
    if (ruleMax !== undefined && max !== undefined && ruleMax > max) {
      problems.push({
        line: locate.value(at("max_duration")),
        message: `auto_approve[${i}].max_duration (${show(rule.max_duration)}) is longer than the policy's max_duration (${show(data.max_duration)}); lower it to at most ${show(data.max_duration)}`,
      });
    }
    if (Array.isArray(rule.roles)) {
      rule.roles.forEach((name, j) => {
        if (typeof name !== "string" || roleNames.length === 0 || roleNames.includes(name)) return;
        const guess = closest(name, roleNames);
        problems.push({
          line: locate.value(at("roles", j)),
          message: `auto_approve[${i}].roles names ${code(name)}, which is not a role of this policy; ${guess ? `did you mean ${code(guess)}?` : `the roles are ${list(roleNames)}`}`,
        });
      });
    }
    const conditions = ["roles", "severities", "max_duration", "on_call_team"].filter(
      (k) => rule[k] !== undefined,
    );
    if (conditions.length === 0 && rule.drill_only !== true) {
      problems.push({
        line: locate.value(at()),
        message: `auto_approve[${i}] states no condition, so it would approve every request; add \`roles\`, \`severities\`, \`max_duration\`, \`on_call_team\` or \`drill_only: true\``,
      });
    }
  });

  for (const [name, role] of Object.entries(isRecord(data.roles) ? data.roles : {})) {
    const session = seconds.get(`roles.${name}.settings.max_session`);
    if (
      isRecord(role) &&
      session !== undefined &&
      (session < AWS_MIN_SESSION_SECONDS || session > AWS_MAX_SESSION_SECONDS)
    ) {
      problems.push({
        line: locate.value(["roles", name, "settings", "max_session"]),
        message: `roles.${name}.settings.max_session must be between 1h and 12h, the range IAM allows for a role's MaxSessionDuration`,
      });
    }
  }
  return { problems, seconds };
}

function durationPaths(data: Record<string, unknown>): Segment[][] {
  const paths: Segment[][] = [["max_duration"], ["default_duration"], ["approvals", "timeout"], ["approvals", "collect_within"]];
  paths.push(["drill", "targets", "time_to_grant"], ["drill", "targets", "time_to_revoke"]);
  if (Array.isArray(data.auto_approve))
    data.auto_approve.forEach((_, i) => paths.push(["auto_approve", i, "max_duration"]));
  if (isRecord(data.roles)) {
    for (const [name, role] of Object.entries(data.roles)) {
      if (isRecord(role) && role.provider === "aws") paths.push(["roles", name, "settings", "max_session"]);
    }
  }
  return paths;
}

function buildPolicy(resource: string, path: string, raw: RawPolicy, seconds: Seconds): Policy {
  const d = POLICY_DEFAULTS;
  const max = seconds.get("max_duration")!;
  const cap = parseDuration(DEFAULT_DURATION_CAP);
  const roles: Record<string, RoleSpec> = Object.create(null) as Record<string, RoleSpec>;
  for (const [name, role] of Object.entries(raw.roles)) {
    roles[name] = {
      provider: role.provider,
      ...(role.description !== undefined ? { description: role.description } : {}),
      settings: withProviderDefaults(role.provider, role.settings ?? {}),
      ...(role.delivery === "age" ? { delivery: "age" as const } : {}),
    };
  }
  return {
    resource,
    path,
    description: raw.description,
    roles,
    max_duration_seconds: max,
    default_duration_seconds: seconds.get("default_duration") ?? Math.min(cap.ok ? cap.value : 3600, max),
    approvals: {
      required: raw.approvals?.required ?? d.approvals.required,
      from: raw.approvals?.from ? structuredClone(raw.approvals.from) : d.approvals.from,
      timeout_seconds: seconds.get("approvals.timeout") ?? secondsOf(d.approvals.timeout),
      ...stepUpOf(raw.approvals?.step_up, raw.approvals?.require_hardware_key),
      collect_within_seconds: seconds.get("approvals.collect_within") ?? secondsOf(d.approvals.collect_within),
    },
    requesters: {
      min_permission: raw.requesters?.min_permission ?? d.requesters.min_permission,
      ...(raw.requesters?.teams ? { teams: [...raw.requesters.teams] } : {}),
    },
    commands_via_apps: [...(raw.commands_via_apps ?? d.commands_via_apps)],
    auto_approve: (raw.auto_approve ?? []).map((rule, i) =>
      toRule(rule, seconds.get(`auto_approve[${i}].max_duration`)),
    ),
    break_glass: { allowed: raw.break_glass?.allowed ?? d.break_glass.allowed, ...stepUpOf(raw.break_glass?.step_up, raw.break_glass?.require_hardware_key) },
    extend: { requires_approval: raw.extend?.requires_approval ?? d.extend.requires_approval },
    incident: {
      require_open_issue: raw.incident?.require_open_issue ?? d.incident.require_open_issue,
      revoke_on_close: raw.incident?.revoke_on_close ?? d.incident.revoke_on_close,
    },
    limits: {
      max_active_grants_per_user:
        raw.limits?.max_active_grants_per_user ?? d.limits.max_active_grants_per_user,
      max_requests_per_user_per_day:
        raw.limits?.max_requests_per_user_per_day ?? d.limits.max_requests_per_user_per_day,
    },
    notify: (raw.notify ?? []).map((t) => ({ ...t })),
    audit_checklist: [...(raw.audit_checklist ?? d.audit_checklist)],
    ...(raw.environment !== undefined ? { environment: raw.environment } : {}),
    keep_alive_after_job: raw.keep_alive_after_job ?? d.keep_alive_after_job,
    drill: {
      enabled: raw.drill?.enabled ?? d.drill.enabled,
      targets: {
        time_to_grant_seconds:
          seconds.get("drill.targets.time_to_grant") ?? secondsOf(d.drill.targets.time_to_grant),
        time_to_revoke_seconds:
          seconds.get("drill.targets.time_to_revoke") ?? secondsOf(d.drill.targets.time_to_revoke),
      },
    },
  };
}

function toRule(rule: RawRule, maxSeconds: number | undefined): AutoApproveRule {
  return {
    name: rule.name,
    ...(rule.roles ? { roles: [...rule.roles] } : {}),
    ...(rule.severities ? { severities: [...rule.severities] } : {}),
    ...(maxSeconds !== undefined ? { max_duration_seconds: maxSeconds } : {}),
    ...(rule.on_call_team !== undefined ? { on_call_team: rule.on_call_team } : {}),
    ...(rule.drill_only !== undefined ? { drill_only: rule.drill_only } : {}),
  };
}

function secondsOf(text: string): number {
  const parsed = parseDuration(text);
  return parsed.ok ? parsed.value : 0;
}

// ---------------------------------------------------------------------------------------------------
// Small helpers

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function pointerToPath(pointer: string): Segment[] {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^(?:0|[1-9]\d*)$/.test(s) ? Number(s) : s));
}

function valueAt(data: unknown, path: Segment[]): unknown {
  let node = data;
  for (const segment of path) {
    if (Array.isArray(node) && typeof segment === "number") node = node[segment];
    else if (isRecord(node) && Object.prototype.hasOwnProperty.call(node, String(segment)))
      node = node[String(segment)];
    else return undefined;
  }
  return node;
}

function dotted(path: Segment[]): string {
  return path.map((s, i) => (typeof s === "number" ? `[${s}]` : i === 0 ? s : `.${s}`)).join("");
}

function firstSentence(text: string | undefined): string {
  if (!text) return "";
  const end = text.search(/[.:;](?:\s|$)/);
  return end === -1 ? text : text.slice(0, end);
}

/** Quotes user-controlled text for a message: one line, no backticks, bounded length. */
function code(text: string): string {
  const clean = text.replace(/[`\r\n\t]/g, " ");
  return `\`${clean.length > 60 ? `${clean.slice(0, 60)}…` : clean}\``;
}

function show(value: unknown): string {
  return typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
}

function list(items: string[]): string {
  const quoted = items.map((i) => `\`${i}\``);
  return quoted.length <= 1 ? quoted.join("") : `${quoted.slice(0, -1).join(", ")} or ${quoted.at(-1)}`;
}

/** The candidate a typo most likely meant, or null when nothing is close. */
function closest(word: string, candidates: readonly string[]): string | null {
  const target = word.toLowerCase();
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(target, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best !== null && bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? best : null;
}

/** Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`. */
function editDistance(a: string, b: string): number {
  if (a.length > 100 || b.length > 100) return Infinity;
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      row[j] = best;
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}

type StepUpSetting = "none" | StepUpMethod | StepUpMethod[];

/** `none` / one method / a list → the methods any of which satisfies the step-up, and the hardware rule; nothing when none. */
function stepUpOf(setting: StepUpSetting | undefined, hardware: boolean | undefined): { step_up?: StepUp } {
  const methods = setting === undefined || setting === "none" ? [] : Array.isArray(setting) ? [...setting] : [setting];
  return methods.length ? { step_up: { methods, require_hardware_key: hardware ?? false } } : {};
}
