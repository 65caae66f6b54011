import { appOf, type EmulatorContext } from "../context.ts";
import { checkAnnotationJson, checkRunJson } from "../shapes.ts";
import {
  HttpError,
  notFound,
  objectBody,
  paginate,
  type Route,
  type RouteHandlerInput,
  type RouteResult,
} from "../router.ts";
import {
  commitShaOf,
  filesAt,
  nodeId,
  type CheckAnnotationRecord,
  type CheckRunRecord,
  type RepoRecord,
} from "../state.ts";

/**
 * The Checks API (check runs), validated as GitHub's "Create a check run" / "Update a check run"
 * document it: `name` and `head_sha` required, the `status` and `conclusion` enums, a conclusion
 * whenever the run is completed, `output.title` and `output.summary` required, summary and text at
 * most 65535 characters, at most 50 annotations per request (each with path, start_line, end_line,
 * annotation_level in notice|warning|failure, and message), columns only on single-line
 * annotations, `details_url` for `action_required`. Only a GitHub App can write checks.
 */
const STATUSES = ["queued", "in_progress", "completed"] as const;
const CONCLUSIONS = [
  "action_required",
  "cancelled",
  "failure",
  "neutral",
  "success",
  "skipped",
  "stale",
  "timed_out",
] as const;
const LEVELS = ["notice", "warning", "failure"] as const;
export const MAX_ANNOTATIONS_PER_REQUEST = 50;
export const MAX_OUTPUT_CHARS = 65_535;
const MAX_ANNOTATION_BYTES = 64 * 1024;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

const invalid = (detail: string, field: string): HttpError =>
  new HttpError(422, `Invalid request.\n\n${detail}`, {
    errors: [{ resource: "CheckRun", field, code: "invalid" }],
  });
const missing = (field: string): HttpError => invalid(`"${field}" wasn't supplied.`, field);

function str(body: Record<string, unknown>, field: string, where = ""): string | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (typeof v !== "string")
    throw invalid(`For '${where}${field}', ${JSON.stringify(v)} is not a string.`, field);
  return v;
}

function oneOf<T extends string>(
  body: Record<string, unknown>,
  field: string,
  values: readonly T[],
): T | undefined {
  const v = str(body, field);
  if (v === undefined) return undefined;
  if (!(values as readonly string[]).includes(v))
    throw invalid(`For '${field}', "${v}" is not one of ${values.join(", ")}.`, field);
  return v as T;
}

function time(body: Record<string, unknown>, field: string): number | undefined {
  const v = str(body, field);
  if (v === undefined) return undefined;
  if (!ISO.test(v) || Number.isNaN(Date.parse(v)))
    throw invalid(`For '${field}', "${v}" is not a date-time.`, field);
  return Date.parse(v);
}

function int(a: Record<string, unknown>, field: string, i: number, required: boolean): number | undefined {
  const v = a[field];
  if (v === undefined) {
    if (required)
      throw invalid(`"${field}" wasn't supplied for annotation ${i}.`, `output.annotations[${i}].${field}`);
    return undefined;
  }
  if (typeof v !== "number" || !Number.isInteger(v))
    throw invalid(
      `For 'output.annotations[${i}].${field}', ${JSON.stringify(v)} is not an integer.`,
      `output.annotations[${i}].${field}`,
    );
  return v;
}

interface ParsedOutput {
  title: string;
  summary: string;
  text: string | null;
  annotations: CheckAnnotationRecord[];
}

function parseOutput(value: unknown): ParsedOutput | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw invalid(`For 'output', ${JSON.stringify(value)} is not an object.`, "output");
  const o = value as Record<string, unknown>;
  const title = str(o, "title", "output.");
  const summary = str(o, "summary", "output.");
  if (title === undefined) throw missing("output.title");
  if (summary === undefined) throw missing("output.summary");
  const text = str(o, "text", "output.") ?? null;
  for (const [field, v] of [
    ["summary", summary],
    ["text", text],
  ] as const) {
    if (v !== null && v.length > MAX_OUTPUT_CHARS)
      throw invalid(
        `For 'output.${field}', the length is more than ${MAX_OUTPUT_CHARS} characters.`,
        `output.${field}`,
      );
  }
  const raw = o.annotations;
  const annotations: CheckAnnotationRecord[] = [];
  if (raw !== undefined) {
    if (!Array.isArray(raw))
      throw invalid(
        `For 'output.annotations', ${JSON.stringify(raw)} is not an array.`,
        "output.annotations",
      );
    if (raw.length > MAX_ANNOTATIONS_PER_REQUEST)
      throw invalid(
        `For 'output.annotations', the array has more than ${MAX_ANNOTATIONS_PER_REQUEST} items.`,
        "output.annotations",
      );
    raw.forEach((item, i) => {
      if (typeof item !== "object" || item === null || Array.isArray(item))
        throw invalid(`For 'output.annotations[${i}]', it is not an object.`, `output.annotations[${i}]`);
      const a = item as Record<string, unknown>;
      const path = str(a, "path", `output.annotations[${i}].`);
      const level = str(a, "annotation_level", `output.annotations[${i}].`);
      const message = str(a, "message", `output.annotations[${i}].`);
      if (path === undefined) throw missing(`output.annotations[${i}].path`);
      if (message === undefined) throw missing(`output.annotations[${i}].message`);
      if (level === undefined) throw missing(`output.annotations[${i}].annotation_level`);
      if (!(LEVELS as readonly string[]).includes(level))
        throw invalid(
          `For 'output.annotations[${i}].annotation_level', "${level}" is not one of ${LEVELS.join(", ")}.`,
          `output.annotations[${i}].annotation_level`,
        );
      const start = int(a, "start_line", i, true)!;
      const end = int(a, "end_line", i, true)!;
      const startColumn = int(a, "start_column", i, false);
      const endColumn = int(a, "end_column", i, false);
      if ((startColumn !== undefined || endColumn !== undefined) && start !== end)
        throw invalid(
          `Annotation ${i}: start_column and end_column are only supported when start_line equals end_line.`,
          `output.annotations[${i}].start_column`,
        );
      const title = str(a, "title", `output.annotations[${i}].`);
      if (title !== undefined && title.length > 255)
        throw invalid(
          `For 'output.annotations[${i}].title', the length is more than 255 characters.`,
          `output.annotations[${i}].title`,
        );
      const details = str(a, "raw_details", `output.annotations[${i}].`);
      if (
        Buffer.byteLength(message) > MAX_ANNOTATION_BYTES ||
        (details && Buffer.byteLength(details) > MAX_ANNOTATION_BYTES)
      )
        throw invalid(`Annotation ${i} is larger than 64 KB.`, `output.annotations[${i}].message`);
      annotations.push({
        path,
        start_line: start,
        end_line: end,
        annotation_level: level as CheckAnnotationRecord["annotation_level"],
        message,
        ...(startColumn !== undefined ? { start_column: startColumn } : {}),
        ...(endColumn !== undefined ? { end_column: endColumn } : {}),
        ...(title !== undefined ? { title } : {}),
        ...(details !== undefined ? { raw_details: details } : {}),
      });
    });
  }
  return { title, summary, text, annotations };
}

/** The fields both create and update take, checked together (a completed run needs a conclusion). */
function parseChange(body: Record<string, unknown>, current: CheckRunRecord | null) {
  const status = oneOf(body, "status", STATUSES);
  const conclusion = oneOf(body, "conclusion", CONCLUSIONS);
  const completedAt = time(body, "completed_at");
  const startedAt = time(body, "started_at");
  const detailsUrl = str(body, "details_url");
  const externalId = str(body, "external_id");
  if (conclusion === "stale")
    throw invalid(
      "You cannot change a check run conclusion to stale, only GitHub can set this.",
      "conclusion",
    );
  if (
    (status === "completed" || completedAt !== undefined) &&
    conclusion === undefined &&
    !current?.conclusion
  )
    throw missing("conclusion");
  if (conclusion === "action_required" && !(detailsUrl ?? current?.details_url)) throw missing("details_url");
  return {
    status: conclusion !== undefined ? "completed" : status,
    conclusion,
    completedAt,
    startedAt,
    detailsUrl,
    externalId,
    output: parseOutput(body.output),
  };
}

function appCaller(input: RouteHandlerInput) {
  const app = appOf(input.caller);
  if (!app) throw new HttpError(403, "You must authenticate via a GitHub App.");
  return app;
}

function createCheckRun(input: RouteHandlerInput): RouteResult {
  const { ctx, repo, req } = input;
  const app = appCaller(input);
  const body = objectBody(req);
  const name = str(body, "name");
  const headSha = str(body, "head_sha");
  if (!name) throw missing("name");
  if (!headSha) throw missing("head_sha");
  if (!/^[0-9a-f]{40}$/.test(headSha) || !filesAt(repo, headSha))
    throw new HttpError(422, `No commit found for SHA: ${headSha}`, {
      errors: [{ resource: "CheckRun", field: "head_sha", code: "invalid" }],
    });
  const change = parseChange(body, null);
  const now = ctx.clock.now();
  const id = ctx.state.nextId("check_run");
  const run: CheckRunRecord = {
    id,
    node_id: nodeId("CR", id),
    repoId: repo.id,
    app,
    name,
    head_sha: headSha,
    details_url: change.detailsUrl ?? null,
    external_id: change.externalId ?? "",
    status: change.status ?? "queued",
    conclusion: change.conclusion ?? null,
    started_at: change.startedAt ?? now,
    completed_at: change.conclusion !== undefined ? (change.completedAt ?? now) : null,
    output: {
      title: change.output?.title ?? null,
      summary: change.output?.summary ?? null,
      text: change.output?.text ?? null,
    },
    annotations: change.output?.annotations ?? [],
    check_suite_id: suiteFor(ctx, repo, app.id, headSha),
  };
  repo.checkRuns.set(id, run);
  return { status: 201, body: checkRunJson(ctx.urls, ctx.state, repo, run) };
}

/** One check suite per app and commit, as GitHub groups them. */
function suiteFor(ctx: EmulatorContext, repo: RepoRecord, appId: number, sha: string): number {
  for (const r of repo.checkRuns.values())
    if (r.app.id === appId && r.head_sha === sha) return r.check_suite_id;
  return ctx.state.nextId("check_suite");
}

function runOf(input: RouteHandlerInput): CheckRunRecord {
  const id = Number(input.params.check_run_id);
  const run = input.repo.checkRuns.get(id);
  if (!run) throw notFound();
  return run;
}

function updateCheckRun(input: RouteHandlerInput): RouteResult {
  const { ctx, repo, req } = input;
  const app = appCaller(input);
  const run = runOf(input);
  // Only the app that created a check run may change it.
  if (run.app.id !== app.id)
    throw new HttpError(
      403,
      "Invalid app_id `" + app.id + "` - check run can only be modified by the GitHub App that created it.",
    );
  const body = objectBody(req);
  const name = str(body, "name");
  const change = parseChange(body, run);
  if (name) run.name = name;
  if (change.detailsUrl !== undefined) run.details_url = change.detailsUrl;
  if (change.externalId !== undefined) run.external_id = change.externalId;
  if (change.startedAt !== undefined) run.started_at = change.startedAt;
  if (change.status) run.status = change.status;
  if (change.conclusion !== undefined) {
    run.conclusion = change.conclusion;
    run.completed_at = change.completedAt ?? ctx.clock.now();
  }
  if (change.output) {
    run.output = {
      title: change.output.title,
      summary: change.output.summary,
      text: change.output.text ?? run.output.text,
    };
    // "Each time you update the check run, annotations are appended."
    run.annotations.push(...change.output.annotations);
  }
  return { status: 200, body: checkRunJson(ctx.urls, ctx.state, repo, run) };
}

function listForRef({ ctx, repo, req, params }: RouteHandlerInput): RouteResult {
  const ref = params.ref ?? "";
  const files = filesAt(repo, ref);
  if (!files) throw new HttpError(422, `No commit found for SHA: ${ref}`);
  const sha = /^[0-9a-f]{40}$/.test(ref) ? ref : commitShaOf(files);
  const name = req.query.get("check_name");
  const runs = [...repo.checkRuns.values()]
    .filter((r) => r.head_sha === sha && (!name || r.name === name))
    .sort((a, b) => b.id - a.id);
  const { page, headers } = paginate(runs, req, ctx.urls.api);
  return {
    status: 200,
    body: {
      total_count: runs.length,
      check_runs: page.map((r) => checkRunJson(ctx.urls, ctx.state, repo, r)),
    },
    headers,
  };
}

export const checkRoutes: Route[] = [
  {
    method: "POST",
    template: "/repos/{owner}/{repo}/check-runs",
    auth: "repo",
    permission: { name: "checks", level: "write" },
    handle: createCheckRun,
  },
  {
    method: "PATCH",
    template: "/repos/{owner}/{repo}/check-runs/{check_run_id}",
    auth: "repo",
    permission: { name: "checks", level: "write" },
    handle: updateCheckRun,
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/check-runs/{check_run_id}",
    auth: "repo",
    permission: { name: "checks", level: "read" },
    handle: (input) => ({
      status: 200,
      body: checkRunJson(input.ctx.urls, input.ctx.state, input.repo, runOf(input)),
    }),
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/check-runs/{check_run_id}/annotations",
    auth: "repo",
    permission: { name: "checks", level: "read" },
    handle: (input) => {
      const run = runOf(input);
      const { page, headers } = paginate(run.annotations, input.req, input.ctx.urls.api);
      return {
        status: 200,
        body: page.map((a) => checkAnnotationJson(input.ctx.urls, input.repo, run, a)),
        headers,
      };
    },
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/commits/{ref}/check-runs",
    auth: "repo",
    permission: { name: "checks", level: "read" },
    handle: listForRef,
  },
];
