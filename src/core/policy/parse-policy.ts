/** Parses and validates policy files: the entry point of src/core/policy/. */
import { LineCounter, parseDocument } from "yaml";
import { RESOURCE_NAME_PATTERN } from "../policy-schema.ts";
import { err, ok, type Result } from "../result.ts";
import type { Policy } from "../types.ts";
import { buildPolicy } from "./build-policy.ts";
import { explainSchemaErrors, schemaValidator } from "./explain-schema-errors.ts";
import { type Located, type PolicyError, toPolicyErrors } from "./policy-errors.ts";
import {
  checkNesting,
  duplicateKeyMessage,
  findAnchorsAndAliases,
  keysByOffset,
  locator,
  toPlain,
  yamlErrorMessage,
  yamlWarningMessage,
} from "./read-yaml.ts";
import { type RawPolicy, checkSemantics } from "./semantic-rules.ts";
import { code } from "./text.ts";

export const MAX_POLICY_BYTES = 64 * 1024;

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

export function parseUnguarded(path: string, text: string): Result<Policy, PolicyError[]> {
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
