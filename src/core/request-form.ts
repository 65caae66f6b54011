import { parseTemplate } from "@github/issue-parser";
import { err, ok, type FieldError, type Result } from "./result.ts";

/** The request as the issue form wrote it: trimmed text, not yet checked against any policy. */
export interface RequestFields {
  resource: string;
  role: string;
  /** null when left empty: the policy's default applies. */
  duration: string | null;
  severity: string;
  justification: string;
  incident: string | null;
  drill: boolean;
  /** Ticked "Retroactive record" (forms without the field: never). */
  retroactive?: boolean;
  /** When a retroactive record's access started and ended, as written (checked by request-validation). */
  started?: string | null;
  ended?: string | null;
  /**
   * More resource/role pairs in the same request, one a line (`<resource> <role> [duration]`), as
   * written (checked by request-pairs.ts). Forms without the field, or the field left empty: null.
   */
  more?: string | null;
}

/** A request is a few lines; this bounds the work done on a hostile body (GitHub allows 65,536 characters). */
export const MAX_BODY_BYTES = 64 * 1024;

type FieldId = keyof RequestFields;

interface FieldSpec {
  id: FieldId;
  required: boolean;
  singleLine: boolean;
  /** A form may leave the field out (a repository's form from before retroactive records existed). */
  optionalInForm?: boolean;
  /** What to write under the heading, for messages. */
  example: string;
}

/**
 * What Breakglass itself needs, whatever the repository's form marks as required: a form may
 * relabel fields, but cannot make the justification optional.
 */
const FIELDS: readonly FieldSpec[] = [
  { id: "resource", required: true, singleLine: true, example: "the resource name, e.g. `prod-database`" },
  { id: "role", required: true, singleLine: true, example: "the role you need, e.g. `read`" },
  {
    id: "duration",
    required: false,
    singleLine: true,
    example: "how long, e.g. `1h`, or leave it empty for the policy default",
  },
  { id: "severity", required: true, singleLine: true, example: "one of `low`, `medium`, `high`, `critical`" },
  {
    id: "justification",
    required: true,
    singleLine: false,
    example: "what is broken and what you will do with the access",
  },
  {
    id: "incident",
    required: false,
    singleLine: true,
    example: "a link to the incident, or `_No response_`",
  },
  {
    id: "drill",
    required: false,
    singleLine: false,
    example: "`- [x] This is a drill` or `- [ ] This is a drill`",
  },
  {
    id: "retroactive",
    required: false,
    singleLine: false,
    optionalInForm: true,
    example: "`- [x]` on its option for a retroactive record, or `- [ ]`",
  },
  {
    id: "started",
    required: false,
    singleLine: true,
    optionalInForm: true,
    example: "when the access started, e.g. `2026-11-24T08:00Z` (UTC)",
  },
  {
    id: "ended",
    required: false,
    singleLine: true,
    optionalInForm: true,
    example: "when the access ended, e.g. `2026-11-24T09:30Z` (UTC)",
  },
  {
    id: "more",
    required: false,
    singleLine: false,
    optionalInForm: true,
    example: "one more resource a line, as `<resource> <role> [duration]`, e.g. `aws-production read 30m`",
  },
];

/** What issue forms write for a field left empty (and what @github/issue-parser treats as empty). */
const EMPTY_RESPONSES = new Set(["", "_no response_", "none"]);

/** A CommonMark ATX heading: up to 3 spaces, 1–6 #, then a space or tab (or nothing), optional closing #s. */
const ATX_HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
/** Looks like a heading but is not one to Markdown (no space after the #s), e.g. `###Role`. */
const GLUED_HEADING = /^ {0,3}#{1,6}([^#\s].*?)[ \t]*$/;
const CHECKBOX = /^\s*[-*+][ \t]+\[([ xX])\][ \t]+(.*?)[ \t]*$/;

/**
 * Reads a break-glass request from an issue body written by the request issue form
 * (`.github/ISSUE_TEMPLATE/breakglass-request.yml`, passed as `issueFormYaml`). Never throws.
 *
 * The form is read with @github/issue-parser's `parseTemplate`, so its ids and labels are the
 * source of truth. The body is split here rather than with its `parseIssue`, whose section regex
 * ends a value at any `###` inside a line (dropping the rest of a justification such as
 * "C### …") and keeps only the last of two same-named headings. Text that the request hash does
 * not see could then be edited after approval; a second `### Role` could say something other than
 * what was parsed. So: only real H3 lines of a form label start a field, a label heading that
 * appears twice (or at the wrong level) is an error, and everything else — including unknown
 * headings — stays verbatim in the section it appears in.
 */
export function parseRequestBody(body: string, issueFormYaml: string): Result<RequestFields, FieldError[]> {
  const parsed = readRequestBody(body, issueFormYaml);
  return parsed.ok ? parsed : err(parsed.error.errors);
}

/** What could be read of a body that has errors: the fields that were fine, for checking them too. */
export interface PartialRequest {
  errors: FieldError[];
  fields: Partial<RequestFields>;
}

/**
 * Like parseRequestBody, but on failure also returns the fields that were read without problems,
 * so a caller can check those against the policy and tell the requester everything at once.
 */
export function readRequestBody(body: string, issueFormYaml: string): Result<RequestFields, PartialRequest> {
  // Webhook payloads carry null for an issue opened with an empty body.
  const raw = typeof body === "string" ? body : "";
  if (raw.length > MAX_BODY_BYTES || utf8Length(raw) > MAX_BODY_BYTES) {
    return err({
      fields: {},
      errors: [
        {
          field: "body",
          message: `The issue body is ${formatKiB(utf8Length(raw))}, over the ${formatKiB(MAX_BODY_BYTES)} limit. Keep the request short; link to logs or documents instead of pasting them.`,
        },
      ],
    });
  }
  const form = readForm(issueFormYaml);
  if (!form.ok) return err({ fields: {}, errors: form.error });
  const split = splitSections(raw.replace(/\r\n?/g, "\n"), form.value);
  const fields = readFields(split.sections, form.value, new Set(split.errors.map((e) => e.field)));
  if (split.errors.length) {
    return err({
      fields: fields.ok ? fields.value : fields.error.fields,
      errors: inFormOrder([...split.errors, ...(fields.ok ? [] : fields.error.errors)]),
    });
  }
  return fields;
}

interface FormLabels {
  /** Normalized label → field id, for every field of the form (ours and any the repository added). */
  byLabel: Map<string, string>;
  /** Our field id → the label as written in the form. */
  labelOf: Map<FieldId, string>;
  drillOption: string;
  /** The retroactive field's one option, when the form has the field. */
  retroactiveOption: string | null;
}

function readForm(yaml: string): Result<FormLabels, FieldError[]> {
  const problem = (message: string) =>
    err([
      {
        field: "form",
        message: `${message} Fix .github/ISSUE_TEMPLATE/breakglass-request.yml (\`breakglass validate\` checks it).`,
      },
    ]);
  let template: ReturnType<typeof parseTemplate>;
  try {
    template = parseTemplate(typeof yaml === "string" ? yaml : "");
  } catch (error) {
    return problem(`The request issue form cannot be read: ${firstLine(error)}.`);
  }
  const byLabel = new Map<string, string>();
  for (const [id, field] of Object.entries(template)) {
    if (typeof field.label !== "string" || normalizeLabel(field.label) === "")
      return problem(`The issue form field \`${id}\` has no label.`);
    const key = normalizeLabel(field.label);
    const other = byLabel.get(key);
    if (other !== undefined)
      return problem(`The issue form fields \`${other}\` and \`${id}\` share the label "${field.label}".`);
    byLabel.set(key, id);
  }
  const labelOf = new Map<FieldId, string>();
  const missing: string[] = [];
  for (const spec of FIELDS) {
    const field = Object.hasOwn(template, spec.id) ? template[spec.id] : undefined;
    if (field) labelOf.set(spec.id, field.label);
    else if (!spec.optionalInForm) missing.push(`\`${spec.id}\``);
  }
  if (missing.length) return problem(`The request issue form has no field with id ${missing.join(", ")}.`);
  const drill = template.drill!;
  const option = drill.type === "checkboxes" ? drill.options?.[0] : undefined;
  if (drill.options?.length !== 1 || typeof option !== "object" || typeof option.label !== "string") {
    return problem("The issue form field `drill` must be checkboxes with exactly one option.");
  }
  const retro = Object.hasOwn(template, "retroactive") ? template.retroactive : undefined;
  const retroOption = retro?.type === "checkboxes" ? retro.options?.[0] : undefined;
  if (
    retro &&
    (retro.options?.length !== 1 || typeof retroOption !== "object" || typeof retroOption.label !== "string")
  )
    return problem("The issue form field `retroactive` must be checkboxes with exactly one option.");
  return ok({
    byLabel,
    labelOf,
    drillOption: option.label,
    retroactiveOption: retroOption && typeof retroOption === "object" ? retroOption.label : null,
  });
}

interface Section {
  line: number;
  lines: string[];
}

/** The form's sections by field id, and the headings that make the body ambiguous. */
function splitSections(
  body: string,
  form: FormLabels,
): { sections: Map<string, Section>; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const sections = new Map<string, Section>();
  const duplicates = new Map<string, number[]>();
  let current: Section | null = null;
  let inComment = false;
  body.split("\n").forEach((text, index) => {
    const line = index + 1;
    const hidden = inComment;
    inComment = commentOpenAfter(text, inComment);
    const heading = formHeading(text, form);
    if (heading === null) {
      current?.lines.push(text);
      return;
    }
    const label = form.labelOf.get(heading.id as FieldId) ?? heading.id;
    if (hidden) {
      errors.push({
        field: heading.id,
        message: `The \`### ${label}\` heading on line ${line} is inside an HTML comment (\`<!-- … -->\`), hidden from approvers. Remove the comment so everyone reads what is requested.`,
      });
      current = null;
      return;
    }
    if (!heading.h3) {
      errors.push({
        field: heading.id,
        message: `Line ${line} reads "${text.trim().slice(0, 80)}". Write the heading exactly as \`### ${label}\` (three # and a space), once.`,
      });
      current = null;
      return;
    }
    const seen = sections.get(heading.id);
    if (seen) {
      duplicates.set(heading.id, [...(duplicates.get(heading.id) ?? [seen.line]), line]);
      current = null;
      return;
    }
    current = { line, lines: [] };
    sections.set(heading.id, current);
  });
  for (const [id, lines] of duplicates) {
    const label = form.labelOf.get(id as FieldId) ?? id;
    errors.push({
      field: id,
      message: `The body has ${lines.length} \`### ${label}\` headings (lines ${lines.join(", ")}). Keep exactly one, so there is no doubt which value is requested.`,
    });
  }
  return { sections, errors };
}

/**
 * Whether an HTML comment is still open at the end of this line. Deliberately simple (it ignores
 * code spans): a heading it wrongly thinks is hidden costs the requester an edit, while a hidden
 * heading taken at face value would let a request say one thing to readers and another to us.
 */
function commentOpenAfter(line: string, open: boolean): boolean {
  let inside = open;
  let at = 0;
  for (;;) {
    const next = inside ? line.indexOf("-->", at) : line.indexOf("<!--", at);
    if (next === -1) return inside;
    at = next + (inside ? 3 : 4);
    inside = !inside;
  }
}

/** The form field a line is a heading for, if it is one (or a near miss such as `## Role` or `###Role`). */
function formHeading(text: string, form: FormLabels): { id: string; h3: boolean } | null {
  const atx = ATX_HEADING.exec(text);
  if (atx) {
    const id = form.byLabel.get(normalizeLabel(atx[2] ?? ""));
    return id === undefined ? null : { id, h3: atx[1] === "###" };
  }
  const glued = GLUED_HEADING.exec(text);
  const id = glued ? form.byLabel.get(normalizeLabel(glued[1] ?? "")) : undefined;
  return id === undefined ? null : { id, h3: false };
}

/** Reads each field's value; fields in `reported` already have an error about their heading. */
function readFields(
  sections: Map<string, Section>,
  form: FormLabels,
  reported: Set<string>,
): Result<RequestFields, PartialRequest> {
  const errors: FieldError[] = [];
  const values = new Map<FieldId, string | null>();
  for (const spec of FIELDS) {
    if (reported.has(spec.id) || !form.labelOf.has(spec.id)) continue;
    const label = form.labelOf.get(spec.id)!;
    const section = sections.get(spec.id);
    const value = section ? section.lines.join("\n").trim() : null;
    const empty = value === null || EMPTY_RESPONSES.has(value.toLowerCase());
    if (spec.required && empty) {
      errors.push({
        field: spec.id,
        message: section
          ? `The \`### ${label}\` section is empty: write ${spec.example}.`
          : `Add a \`### ${label}\` section: under the heading, write ${spec.example}.`,
      });
      continue;
    }
    if (!empty && spec.singleLine && value.includes("\n")) {
      const stray = value.split("\n").find((l) => /^ {0,3}#{1,6}[ \t]/.test(l));
      errors.push({
        field: spec.id,
        message:
          `The \`### ${label}\` section must be a single line, but it has ${value.split("\n").length} lines` +
          (stray
            ? ` (the heading "${stray.trim().slice(0, 60)}" is not a field of the form, so its text counts as part of ${label})`
            : "") +
          ". Keep only the value there and put any explanation under `### Justification`.",
      });
      continue;
    }
    values.set(spec.id, empty ? null : value);
  }
  const drill = reported.has("drill")
    ? ok(false)
    : readBox("drill", values.get("drill") ?? null, form.drillOption, ["for a drill", "for a real request"]);
  if (!drill.ok) errors.push(drill.error);
  const retroactive =
    reported.has("retroactive") || form.retroactiveOption === null
      ? ok(false)
      : readBox("retroactive", values.get("retroactive") ?? null, form.retroactiveOption, [
          "for a retroactive record",
          "for a request",
        ]);
  if (!retroactive.ok) errors.push(retroactive.error);
  if (errors.length || reported.size || !drill.ok || !retroactive.ok) {
    const fields: Partial<RequestFields> = {};
    for (const spec of FIELDS) {
      if (spec.id === "drill" || spec.id === "retroactive" || !values.has(spec.id)) continue;
      const value = values.get(spec.id) ?? null;
      if (
        spec.id === "duration" ||
        spec.id === "incident" ||
        spec.id === "started" ||
        spec.id === "ended" ||
        spec.id === "more"
      )
        fields[spec.id] = value;
      else if (value !== null) fields[spec.id] = value;
    }
    if (drill.ok && !reported.has("drill")) fields.drill = drill.value;
    return err({ errors, fields });
  }
  return ok({
    resource: values.get("resource")!,
    role: values.get("role")!,
    duration: values.get("duration") ?? null,
    severity: values.get("severity")!,
    justification: values.get("justification")!,
    incident: values.get("incident") ?? null,
    drill: drill.value,
    ...(values.get("more") ? { more: values.get("more")! } : {}),
    ...(retroactive.value || values.get("started") || values.get("ended")
      ? {
          retroactive: retroactive.value,
          started: values.get("started") ?? null,
          ended: values.get("ended") ?? null,
        }
      : {}),
  });
}

/** A one-option checkboxes field: ticked or not, and nothing else ticked. */
function readBox(
  id: "drill" | "retroactive",
  section: string | null,
  optionLabel: string,
  [yes, no]: [string, string],
): Result<boolean, FieldError> {
  if (section === null) return ok(false);
  const option = normalizeLabel(optionLabel);
  const states = new Set<boolean>();
  for (const line of section.split("\n")) {
    const box = CHECKBOX.exec(line);
    if (!box) continue;
    const checked = box[1] !== " ";
    if (normalizeLabel(box[2] ?? "") === option) states.add(checked);
    else if (checked) {
      return err({
        field: id,
        message: `The ticked box "${(box[2] ?? "").slice(0, 60)}" is not an option of this form. Write \`- [x] ${optionLabel}\` ${yes}, or \`- [ ] ${optionLabel}\` ${no}.`,
      });
    }
  }
  if (states.size > 1) {
    return err({
      field: id,
      message: `"${optionLabel}" is both ticked and unticked. Keep one line: \`- [x] ${optionLabel}\` ${yes}, \`- [ ] ${optionLabel}\` ${no}.`,
    });
  }
  return ok(states.has(true));
}

/**
 * Compares headings the way a reader sees them: compatibility forms folded (fullwidth letters),
 * invisible format characters (zero-width space, bidi marks) removed, case and spacing ignored,
 * so `### Role\u200b` cannot pose as a different heading from `### Role`.
 */
function normalizeLabel(label: string): string {
  return label
    .normalize("NFKC")
    .replace(/\p{Cf}/gu, "")
    .replace(/\s+/g, " ")
    .trim()
    .toLowerCase();
}

/** Errors listed in the order the form shows its fields, as the requester reads them. */
function inFormOrder(errors: FieldError[]): FieldError[] {
  const rank = (e: FieldError) => FIELDS.findIndex((f) => f.id === e.field);
  return errors
    .map((e, i) => ({ e, i }))
    .sort((x, y) => rank(x.e) - rank(y.e) || x.i - y.i)
    .map(({ e }) => e);
}

function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

function formatKiB(bytes: number): string {
  return `${Math.ceil(bytes / 1024)} KiB`;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split("\n")[0] ?? "").replace(/\.$/, "");
}

/**
 * Whether a body was written by this request form: it has the form's `### ` headings for the
 * resource, the role and the justification. A request is recognised this way even without its
 * label (GitHub drops a form label the repository does not have, and anyone with triage access can
 * remove it); what the request says is still checked in full by readRequestBody.
 */
export function isWrittenByForm(body: string, issueFormYaml: string): boolean {
  // An oversized body is still a request (to be refused with a reason): look at its beginning.
  const raw = (typeof body === "string" ? body : "").slice(0, MAX_BODY_BYTES);
  const form = readForm(issueFormYaml);
  if (!form.ok) return false;
  const { sections } = splitSections(raw.replace(/\r\n?/g, "\n"), form.value);
  return (["resource", "role", "justification"] as const).every((id) => sections.has(id));
}
