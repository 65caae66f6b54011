import { formatDuration, parseDuration } from "./duration.ts";
import { formatPolicyError, type PolicyError } from "./policy.ts";
import type { RequestFields } from "./request-form.ts";
import { err, ok, type FieldError, type Result } from "./result.ts";
import { SEVERITIES, type AccessRequest, type Policy } from "./types.ts";

/** The resource reserved for practice: every request for it must be marked as a drill. */
export const DRILL_RESOURCE = "drill";
export const MIN_JUSTIFICATION_CHARS = 20;
export const MAX_JUSTIFICATION_CHARS = 4000;
/** Letters or digits a justification needs, so a row of dots or emoji does not pass for a reason. */
const MIN_JUSTIFICATION_WORD_CHARS = 10;
const MAX_INCIDENT_CHARS = 2000;

const ISSUE_REF = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100})?#[1-9][0-9]{0,9}$/;

/**
 * Checks the fields of a request against the policy of the resource it names and returns the typed
 * request, or every problem found (not just the first), each naming the form field to fix.
 */
export function validateRequest(
  fields: RequestFields,
  policies: ReadonlyMap<string, Policy>,
  /** Errors of policy files that failed to load: a request for one of them is told why. */
  policyErrors: readonly PolicyError[] = [],
  /** Now (epoch ms), which a retroactive record's times must precede; default the system clock. */
  nowMs: number = Date.now(),
): Result<AccessRequest, FieldError[]> {
  const errors: FieldError[] = [];
  const problem = (field: keyof RequestFields, message: string) => errors.push({ field, message });

  const policy = policies.get(fields.resource);
  if (!policy)
    problem(
      "resource",
      brokenPolicy(fields.resource, policyErrors) ?? unknownResource(fields.resource, policies),
    );

  const role = policy ? checkRole(fields.role, policy) : null;
  if (role) problem("role", role);

  const retro = checkRetroactive(fields, nowMs);
  for (const e of retro.ok ? [] : retro.error) errors.push(e);
  // A retroactive record's duration is the time it covers; the form's duration field does not apply.
  const duration =
    retro.ok && retro.value
      ? ok(
          Math.max(
            1,
            Math.round((Date.parse(retro.value.ended_at) - Date.parse(retro.value.started_at)) / 1000),
          ),
        )
      : checkDuration(fields.duration, policy);
  if (!duration.ok) problem("duration", duration.error);

  const severity = SEVERITIES.find((s) => s === fields.severity.trim().toLowerCase());
  if (!severity)
    problem(
      "severity",
      `Severity "${quote(fields.severity)}" is not one of ${SEVERITIES.join(", ")}. Pick the one that matches the impact right now.`,
    );

  const justification = checkJustification(fields.justification);
  if (justification) problem("justification", justification);

  const incident = checkIncident(fields.incident);
  if (!incident.ok) problem("incident", incident.error);

  if (policy) {
    const drill = checkDrill(fields.drill, policy);
    if (drill) problem("drill", drill);
  }

  if (errors.length || !policy || !duration.ok || !severity || !incident.ok || !retro.ok) return err(errors);
  return ok({
    resource: fields.resource,
    role: fields.role,
    duration_seconds: duration.value,
    severity,
    justification: fields.justification.trim(),
    incident: incident.value,
    drill: fields.drill,
    ...(retro.value ? { retroactive: retro.value } : {}),
  });
}

/** How far back a retroactive record may go: older access belongs in an incident report. */
export const MAX_RETROACTIVE_DAYS = 90;
const ZONED_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})$/i;

/** A retroactive record's times: both given, with a time zone, in order, in the past, within MAX_RETROACTIVE_DAYS. */
function checkRetroactive(
  fields: RequestFields,
  nowMs: number,
): Result<{ started_at: string; ended_at: string } | null, FieldError[]> {
  const started = fields.started?.trim() || null;
  const ended = fields.ended?.trim() || null;
  if (!fields.retroactive) {
    if (started === null && ended === null) return ok(null);
    return err([
      {
        field: started !== null ? "started" : "ended",
        message:
          "Started and Ended are only for a retroactive record (access already taken outside Breakglass). Tick the Retroactive record box, or leave them empty for a request.",
      },
    ]);
  }
  const errors: FieldError[] = [];
  if (fields.drill)
    errors.push({
      field: "retroactive",
      message: "A retroactive record cannot be a drill: untick one of the two.",
    });
  const read = (id: "started" | "ended", value: string | null): number | null => {
    if (value === null) {
      errors.push({
        field: id,
        message: `A retroactive record needs when the access ${id}, in UTC or with an offset, e.g. \`2026-11-24T08:00Z\`.`,
      });
      return null;
    }
    const ms = ZONED_TIME.test(value) ? Date.parse(value.replace(" ", "T")) : NaN;
    if (!Number.isFinite(ms)) {
      errors.push({
        field: id,
        message: `"${quote(value)}" is not a time with a zone: write it as \`2026-11-24T08:00Z\` (UTC) or \`2026-11-24T09:00+01:00\`.`,
      });
      return null;
    }
    return ms;
  };
  const from = read("started", started);
  const to = read("ended", ended);
  if (from !== null && to !== null) {
    if (to < from)
      errors.push({ field: "ended", message: "The access ended before it started: check the two times." });
    if (to > nowMs + 60_000)
      errors.push({
        field: "ended",
        message: "The access ends in the future: a retroactive record is written after the access ended.",
      });
    if (from < nowMs - MAX_RETROACTIVE_DAYS * 86_400_000)
      errors.push({
        field: "started",
        message: `The access started more than ${MAX_RETROACTIVE_DAYS} days ago: record it in the incident report instead.`,
      });
  }
  if (errors.length || from === null || to === null) return err(errors);
  return ok({ started_at: new Date(from).toISOString(), ended_at: new Date(to).toISOString() });
}

function brokenPolicy(resource: string, policyErrors: readonly PolicyError[]): string | null {
  const errors = policyErrors.filter(
    (e) => e.file === `policies/${resource}.yml` || e.file === `policies/${resource}.yaml`,
  );
  if (!errors.length) return null;
  const shown = errors.slice(0, 3).map(formatPolicyError).join("; ");
  return `The policy ${errors[0]!.file} exists but is invalid, so no request for ${quote(resource)} can be decided until its owners fix it (\`breakglass validate\` shows how): ${shown}${errors.length > 3 ? `; and ${errors.length - 3} more` : ""}`;
}

function unknownResource(resource: string, policies: ReadonlyMap<string, Policy>): string {
  const names = [...policies.keys()].sort();
  if (names.length === 0)
    return `There is no resource "${quote(resource)}": this repository has no policies in policies/ yet.`;
  return `There is no resource "${quote(resource)}". Choose one of: ${names.join(", ")}.`;
}

function checkRole(role: string, policy: Policy): string | null {
  // hasOwn, not `in`: a role named "constructor" or "__proto__" must not find Object.prototype.
  if (Object.hasOwn(policy.roles, role)) return null;
  const roles = Object.keys(policy.roles).sort();
  return `"${quote(role)}" is not a role of ${policy.resource}. Roles: ${roles.join(", ")}. Ask for the least you need.`;
}

function checkDuration(duration: string | null, policy: Policy | undefined): Result<number, string> {
  if (duration === null || duration.trim() === "") {
    // A policy whose default exceeds its own maximum is a policy bug; the maximum is the promise.
    return ok(policy ? Math.min(policy.default_duration_seconds, policy.max_duration_seconds) : 0);
  }
  const seconds = parseDuration(duration);
  if (!seconds.ok || !policy || seconds.value <= policy.max_duration_seconds) return seconds;
  const max = formatDuration(policy.max_duration_seconds);
  return err(
    `The duration "${quote(duration)}" is longer than ${max}, the most ${policy.resource} allows. Ask for ${max} or less; you can extend later.`,
  );
}

function checkJustification(text: string): string | null {
  const trimmed = text.trim();
  const length = [...trimmed.replace(/\s+/g, " ")].length;
  if (length < MIN_JUSTIFICATION_CHARS) {
    return `The justification is too short (${length} characters). In at least ${MIN_JUSTIFICATION_CHARS} characters, say what is broken and what you will do with the access.`;
  }
  if ([...trimmed].length > MAX_JUSTIFICATION_CHARS) {
    return `The justification is ${[...trimmed].length} characters, over the ${MAX_JUSTIFICATION_CHARS} limit. Summarize, and link to the incident for details.`;
  }
  const wordChars = trimmed.match(/[\p{L}\p{N}]/gu)?.length ?? 0;
  if (wordChars < MIN_JUSTIFICATION_WORD_CHARS) {
    return "The justification is mostly punctuation or symbols. Say in words what is broken and what you will do with the access.";
  }
  return null;
}

function checkIncident(incident: string | null): Result<string | null, string> {
  if (incident === null || incident.trim() === "") return ok(null);
  const text = incident.trim();
  const hint =
    "Paste the incident's https URL, or `#123` / `owner/repo#123` for an issue, or leave it empty.";
  if (text.length > MAX_INCIDENT_CHARS)
    return err(`The incident link is ${text.length} characters long. ${hint}`);
  if (/\s/.test(text)) return err(`The incident "${quote(text)}" contains spaces. ${hint}`);
  // Invisible and direction-changing characters can make one address read as another.
  if (/[\p{Cc}\p{Cf}]/u.test(text))
    return err(`The incident link contains invisible characters. Type or paste it again. ${hint}`);
  if (ISSUE_REF.test(text)) return ok(text);
  if (/^\[.*\]\(.*\)$/.test(text)) return err(`The incident is a Markdown link. Paste just the URL. ${hint}`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return err(`The incident "${quote(text)}" is not a link. ${hint}`);
  }
  if (url.protocol !== "https:")
    return err(`The incident link must start with https:// (got ${quote(url.protocol)}). ${hint}`);
  // `https://github.com@evil.example/` reads as github.com but goes elsewhere.
  if (url.username || url.password)
    return err(`The incident link must not contain a user name or password ("…@…" before the host). ${hint}`);
  if (!/^https:\/\/[^/?#]/i.test(text))
    return err(`The incident "${quote(text)}" is not a full https URL. ${hint}`);
  return ok(text);
}

function checkDrill(drill: boolean, policy: Policy): string | null {
  if (policy.resource === DRILL_RESOURCE && !drill) {
    return `The ${DRILL_RESOURCE} resource is only for practice: tick "This is a drill". For real access, choose the real resource.`;
  }
  if (drill && !policy.drill.enabled) {
    return `${policy.resource} does not allow drills. Untick "This is a drill" for a real request, or choose the ${DRILL_RESOURCE} resource to practice.`;
  }
  return null;
}

/** User text echoed in a message: one line, bounded. Escaping for Markdown is the renderer's job. */
function quote(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > 60 ? `${line.slice(0, 60)}…` : line;
}
