import yaml from "js-yaml";
import { githubTimestamp as ts } from "../../clock.ts";
import { actorOf, type EmulatorContext } from "../context.ts";
import { userJson, workflowRunJson } from "../shapes.ts";
import {
  HttpError,
  notFound,
  objectBody,
  paginate,
  validationFailed,
  type Route,
  type RouteHandlerInput,
  type RouteResult,
} from "../router.ts";
import {
  commitShaOf,
  filesAt,
  nodeId,
  type FileTree,
  type RepoRecord,
  type UserRecord,
  type WorkflowRun,
} from "../state.ts";
import type { DeliveryRecord } from "../webhooks.ts";
import { admitRun, concurrencyOf, groupKey, promotePending } from "../workflow-concurrency.ts";

const WORKFLOWS_DIR = ".github/workflows/";
const MAX_INPUTS = 25;

interface WorkflowInputSpec {
  required?: boolean;
  default?: unknown;
  type?: string;
  options?: unknown[];
}

interface WorkflowFile {
  path: string;
  fileName: string;
  id: number;
  name: string;
  runName: string | null;
  dispatchable: boolean;
  inputs: Record<string, WorkflowInputSpec>;
}

function workflowId(ctx: EmulatorContext, repo: RepoRecord, path: string): number {
  let id = repo.workflowIds.get(path);
  if (id === undefined) {
    id = ctx.state.nextId("workflow");
    repo.workflowIds.set(path, id);
  }
  return id;
}

function parseWorkflow(ctx: EmulatorContext, repo: RepoRecord, path: string, text: string): WorkflowFile {
  let doc: Record<string, unknown> = {};
  try {
    const loaded = yaml.load(text);
    if (loaded && typeof loaded === "object") doc = loaded as Record<string, unknown>;
  } catch {
    /* an unparsable workflow has no triggers */
  }
  const on = doc.on;
  const dispatch =
    typeof on === "string"
      ? on === "workflow_dispatch"
        ? {}
        : undefined
      : Array.isArray(on)
        ? on.includes("workflow_dispatch")
          ? {}
          : undefined
        : on && typeof on === "object" && "workflow_dispatch" in on
          ? ((on as Record<string, unknown>).workflow_dispatch ?? {})
          : undefined;
  const inputs =
    dispatch &&
    typeof dispatch === "object" &&
    (dispatch as { inputs?: unknown }).inputs &&
    typeof (dispatch as { inputs?: unknown }).inputs === "object"
      ? (dispatch as { inputs: Record<string, WorkflowInputSpec | null> }).inputs
      : {};
  const fileName = path.slice(WORKFLOWS_DIR.length);
  return {
    path,
    fileName,
    id: workflowId(ctx, repo, path),
    name: typeof doc.name === "string" ? doc.name : path,
    runName: typeof doc["run-name"] === "string" ? doc["run-name"] : null,
    dispatchable: dispatch !== undefined,
    inputs: Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v ?? {}])),
  };
}

function workflowsIn(ctx: EmulatorContext, repo: RepoRecord, files: FileTree): WorkflowFile[] {
  return Object.keys(files)
    .filter((p) => p.startsWith(WORKFLOWS_DIR) && /^[^/]+\.ya?ml$/.test(p.slice(WORKFLOWS_DIR.length)))
    .sort()
    .map((p) => parseWorkflow(ctx, repo, p, files[p]!));
}

/** `workflow_id` is a file name or GitHub's numeric id. */
function findWorkflow(
  ctx: EmulatorContext,
  repo: RepoRecord,
  files: FileTree,
  idParam: string,
): WorkflowFile {
  const found = workflowsIn(ctx, repo, files).find((w) => w.fileName === idParam || String(w.id) === idParam);
  if (!found) throw notFound();
  return found;
}

function workflowJson(ctx: EmulatorContext, repo: RepoRecord, w: WorkflowFile) {
  const api = `${ctx.urls.api}/repos/${repo.full_name}/actions/workflows/${w.id}`;
  return {
    id: w.id,
    node_id: nodeId("W", w.id),
    name: w.name,
    path: w.path,
    state: "active",
    created_at: ts(repo.created_at),
    updated_at: ts(repo.created_at),
    url: api,
    html_url: `${ctx.urls.web}/${repo.full_name}/blob/${repo.default_branch}/${w.path}`,
    badge_url: `${ctx.urls.web}/${repo.full_name}/workflows/${encodeURIComponent(w.name)}/badge.svg`,
  };
}

/** Checks inputs as GitHub does against the workflow's `on.workflow_dispatch.inputs`, filling defaults. */
function checkInputs(w: WorkflowFile, given: unknown): Record<string, string> {
  if (given !== undefined && (given === null || typeof given !== "object" || Array.isArray(given)))
    throw new HttpError(422, "Invalid request.\n\nFor 'inputs', an object is expected.");
  const inputs = (given ?? {}) as Record<string, unknown>;
  if (Object.keys(inputs).length > MAX_INPUTS)
    throw new HttpError(
      422,
      `Invalid request.\n\nNo more than ${MAX_INPUTS} properties are allowed; ${Object.keys(inputs).length} were supplied.`,
    );
  const unexpected = Object.keys(inputs).filter((k) => !(k in w.inputs));
  if (unexpected.length)
    throw new HttpError(422, `Unexpected inputs provided: ${JSON.stringify(unexpected)}`);
  const out: Record<string, string> = {};
  for (const [name, spec] of Object.entries(w.inputs)) {
    const raw = inputs[name];
    if (raw === undefined || raw === null || raw === "") {
      if (spec.required && (spec.default === undefined || spec.default === null || spec.default === ""))
        throw new HttpError(422, `Required input '${name}' not provided`);
      if (spec.default !== undefined && spec.default !== null) out[name] = String(spec.default);
      continue;
    }
    if (typeof raw === "object")
      throw new HttpError(422, `Invalid request.\n\nFor 'inputs.${name}', a string is expected.`);
    const value = String(raw);
    if (spec.type === "boolean" && value !== "true" && value !== "false")
      throw new HttpError(422, `Provided value '${value}' for input '${name}' is not a boolean`);
    if (spec.type === "choice" && Array.isArray(spec.options) && !spec.options.map(String).includes(value)) {
      throw new HttpError(
        422,
        `Provided value '${value}' for input '${name}' not in the list of allowed values`,
      );
    }
    out[name] = value;
  }
  return out;
}

function displayTitle(run: WorkflowRun, runName: string | null): string {
  if (!runName) return run.name;
  return runName.replace(
    /\$\{\{\s*(?:github\.event\.)?inputs\.([A-Za-z0-9_-]+)\s*\}\}/g,
    (_, name: string) => run.inputs[name] ?? "",
  );
}

function runJson(ctx: EmulatorContext, repo: RepoRecord, run: WorkflowRun) {
  const file = repo.files[run.path];
  const runName = file === undefined ? null : parseWorkflow(ctx, repo, run.path, file).runName;
  return workflowRunJson(ctx.urls, ctx.state, repo, run, displayTitle(run, runName));
}

function dispatch({ ctx, repo, caller, req, params }: RouteHandlerInput): RouteResult {
  const body = objectBody(req);
  if (body.ref === undefined) throw new HttpError(422, 'Invalid request.\n\n"ref" wasn\'t supplied.');
  if (typeof body.ref !== "string")
    throw new HttpError(422, "Invalid request.\n\nFor 'ref', a string is expected.");
  if (body.return_run_details !== undefined && typeof body.return_run_details !== "boolean")
    throw new HttpError(422, "Invalid request.\n\nFor 'return_run_details', a boolean is expected.");
  const run = startRun(ctx, repo, {
    workflow: params.workflow_id!,
    ref: body.ref,
    inputs: body.inputs,
    actor: actorOf(caller),
    event: "workflow_dispatch",
    announce: true,
  });
  if (body.return_run_details === true) {
    return {
      status: 200,
      body: {
        workflow_run_id: run.id,
        run_url: `${ctx.urls.api}/repos/${repo.full_name}/actions/runs/${run.id}`,
        html_url: `${ctx.urls.web}/${repo.full_name}/actions/runs/${run.id}`,
      },
    };
  }
  return { status: 204 };
}

/**
 * Creates a run of `workflow` as GitHub does for an event on `ref`: the workflow file and its inputs
 * are read from that ref (a dispatch on a branch runs the branch's copy), and the run records the ref,
 * the commit and who started it.
 */
export function startRun(
  ctx: EmulatorContext,
  repo: RepoRecord,
  options: {
    workflow: string;
    ref: string;
    inputs?: unknown;
    actor: UserRecord;
    event: WorkflowRun["event"];
    payload?: Record<string, unknown>;
    announce?: boolean;
  },
): WorkflowRun {
  const files = filesAt(repo, options.ref);
  if (!files) throw new HttpError(422, `No ref found for: ${options.ref}`);
  const workflow = findWorkflow(ctx, repo, files, options.workflow);
  if (options.event === "workflow_dispatch" && !workflow.dispatchable)
    throw new HttpError(422, "Workflow does not have 'workflow_dispatch' trigger");
  const inputs = checkInputs(workflow, options.inputs);
  const now = ctx.clock.now();
  const id = ctx.state.nextId("run");
  const branch = options.ref.replace(/^refs\/(heads|tags)\//, "");
  const runNumber = [...repo.runs.values()].filter((r) => r.path === workflow.path).length + 1;
  const run: WorkflowRun = {
    id,
    node_id: nodeId("WFR", id),
    repoId: repo.id,
    workflow_id: workflow.fileName,
    workflow_numeric_id: workflow.id,
    path: workflow.path,
    name: workflow.name,
    event: options.event,
    ref: options.ref.startsWith("refs/") ? options.ref : `refs/heads/${branch}`,
    head_branch: branch,
    head_sha: commitShaOf(files),
    inputs,
    actor: options.actor,
    triggering_actor: options.actor,
    run_number: runNumber,
    run_attempt: 1,
    status: "queued",
    conclusion: null,
    created_at: now,
    updated_at: now,
    concurrency_group: null,
    payload: options.payload ?? null,
    pendingProtection: [],
    protectionReviews: [],
  };
  const github = {
    event: options.payload ?? { inputs },
    event_name: options.event,
    ref: run.ref,
    ref_name: branch,
    workflow: workflow.name,
    repository: repo.full_name,
    actor: options.actor.login,
  };
  const concurrency = concurrencyOf(files[workflow.path]!, { github, inputs });
  run.concurrency_group = concurrency ? groupKey(concurrency.group) : null;
  repo.runs.set(id, run);
  ctx.state.workflowRuns.set(id, run);
  const admission = admitRun(repo, run, concurrency?.cancelInProgress ?? false, now);
  // Runs made by test helpers (`announce` false) are run by their caller; the rule still applies to them.
  if (admission.started && options.announce) ctx.runStarted(run);
  return run;
}

/** A run ended (its job finished, failed or was cancelled): its group's pending run starts. */
export function completeRun(
  ctx: EmulatorContext,
  repo: RepoRecord,
  run: WorkflowRun,
  conclusion: NonNullable<WorkflowRun["conclusion"]>,
): void {
  if (run.status === "completed") return;
  run.status = "completed";
  run.conclusion = conclusion;
  run.updated_at = ctx.clock.now();
  const next = promotePending(repo, run.concurrency_group, ctx.clock.now());
  if (next) ctx.runStarted(next);
}

/** The activity types a workflow file's `on.<event>.types` lists, or null for all; undefined when it does not run on the event. */
function triggerTypes(text: string, event: string): string[] | null | undefined {
  let doc: unknown;
  try {
    doc = yaml.load(text);
  } catch {
    return undefined;
  }
  const on = doc && typeof doc === "object" ? (doc as { on?: unknown }).on : undefined;
  if (typeof on === "string") return on === event ? null : undefined;
  if (Array.isArray(on)) return on.includes(event) ? null : undefined;
  if (!on || typeof on !== "object" || !(event in on)) return undefined;
  const spec = (on as Record<string, unknown>)[event];
  const types = spec && typeof spec === "object" ? (spec as { types?: unknown }).types : undefined;
  return Array.isArray(types) ? types.map(String) : typeof types === "string" ? [types] : null;
}

/**
 * The runs an `issues` or `issue_comment` event starts: every workflow of the default branch that runs
 * on it (and its activity type). Events made with a GITHUB_TOKEN start none ("events triggered by the
 * GITHUB_TOKEN, with the exception of workflow_dispatch and repository_dispatch, will not create a new
 * workflow run"); an app installation token's or a person's do.
 */
export function startRunsForEvent(
  ctx: EmulatorContext,
  repo: RepoRecord,
  event: "issues" | "issue_comment",
  payload: Record<string, unknown>,
  sender: UserRecord,
): WorkflowRun[] {
  if (sender.id === ctx.state.actionsApp.bot.id) return [];
  const action = typeof payload.action === "string" ? payload.action : null;
  const started: WorkflowRun[] = [];
  for (const workflow of workflowsIn(ctx, repo, repo.files)) {
    const types = triggerTypes(repo.files[workflow.path]!, event);
    if (types === undefined || (types !== null && (action === null || !types.includes(action)))) continue;
    started.push(
      startRun(ctx, repo, {
        workflow: workflow.fileName,
        ref: repo.default_branch,
        actor: sender,
        event,
        payload,
        announce: true,
      }),
    );
  }
  return started;
}

const EXPRESSION = /\$\{\{\s*(?:github\.event\.)?inputs\.([A-Za-z0-9_-]+)\s*\}\}/g;

/**
 * The environment the run's (first) job names in the workflow file at the run's ref — a string or a
 * `{ name }` mapping, `${{ inputs.x }}` expressions evaluated — or null when it names none. This is
 * what GitHub puts in the job's OIDC `environment` claim.
 */
export function runEnvironment(repo: RepoRecord, run: WorkflowRun): string | null {
  const text = filesAt(repo, run.ref)?.[run.path];
  if (text === undefined) return null;
  let doc: unknown;
  try {
    doc = yaml.load(text);
  } catch {
    return null;
  }
  const jobs = doc && typeof doc === "object" ? (doc as { jobs?: unknown }).jobs : undefined;
  const first =
    jobs && typeof jobs === "object" ? Object.values(jobs as Record<string, unknown>)[0] : undefined;
  const raw =
    first && typeof first === "object" ? (first as { environment?: unknown }).environment : undefined;
  const name =
    typeof raw === "string"
      ? raw
      : raw && typeof raw === "object" && typeof (raw as { name?: unknown }).name === "string"
        ? (raw as { name: string }).name
        : null;
  if (name === null) return null;
  const evaluated = name.replace(EXPRESSION, (_, input: string) => run.inputs[input] ?? "").trim();
  return evaluated === "" ? null : evaluated;
}

function listRuns(input: RouteHandlerInput, onlyPath: string | null): RouteResult {
  const { ctx, repo, req } = input;
  const q = req.query;
  const status = q.get("status");
  const runs = [...repo.runs.values()]
    .filter((r) => onlyPath === null || r.path === onlyPath)
    .filter((r) => !status || r.status === status || r.conclusion === status)
    .filter((r) => !q.get("event") || r.event === q.get("event"))
    .filter((r) => !q.get("actor") || r.actor.login.toLowerCase() === q.get("actor")!.toLowerCase())
    .filter((r) => !q.get("branch") || r.head_branch === q.get("branch"))
    .sort((a, b) => b.id - a.id);
  const { page, headers } = paginate(runs, req, ctx.urls.api);
  return {
    status: 200,
    body: { total_count: runs.length, workflow_runs: page.map((r) => runJson(ctx, repo, r)) },
    headers,
  };
}

function runFrom(repo: RepoRecord, idParam: string | undefined): WorkflowRun {
  const run = idParam && /^\d+$/.test(idParam) ? repo.runs.get(Number(idParam)) : undefined;
  if (!run) throw notFound();
  return run;
}

function reviewProtection({ ctx, repo, caller, req, params }: RouteHandlerInput): RouteResult {
  if (caller.kind !== "installation")
    throw new HttpError(403, "Resource not accessible by personal access token");
  const run = runFrom(repo, params.run_id);
  const body = objectBody(req);
  const environment = body.environment_name;
  if (typeof environment !== "string" || !environment)
    throw new HttpError(422, 'Invalid request.\n\n"environment_name" wasn\'t supplied.');
  const state = body.state;
  const comment = typeof body.comment === "string" ? body.comment : null;
  if (state !== undefined && state !== "approved" && state !== "rejected")
    throw validationFailed("DeploymentProtectionRule", "state", "invalid");
  if (state === undefined && comment === null)
    throw new HttpError(422, 'Invalid request.\n\n"state" or "comment" must be supplied.');
  if (!run.pendingProtection.includes(environment))
    throw new HttpError(
      422,
      `No pending deployment protection rule for environment '${environment}' on this run.`,
    );
  run.protectionReviews.push({
    environment_name: environment,
    state: state ?? null,
    comment,
    by: caller.actor.login,
    at: ctx.clock.now(),
  });
  if (state !== undefined) {
    run.pendingProtection = run.pendingProtection.filter((e) => e !== environment);
    run.updated_at = ctx.clock.now();
    if (state === "rejected") {
      run.status = "completed";
      run.conclusion = "failure";
    } else if (run.pendingProtection.length === 0 && run.status === "waiting") {
      run.status = "in_progress";
    }
  }
  return { status: 204 };
}

/** Puts a run on hold for an environment and sends `deployment_protection_rule.requested` to the app. */
export function requestProtection(
  ctx: EmulatorContext,
  repo: RepoRecord,
  run: WorkflowRun,
  environment: string,
): DeliveryRecord {
  if (!run.pendingProtection.includes(environment)) run.pendingProtection.push(environment);
  run.status = "waiting";
  run.updated_at = ctx.clock.now();
  const api = `${ctx.urls.api}/repos/${repo.full_name}`;
  const deploymentId = run.id + 500_000;
  return ctx.emit(
    "deployment_protection_rule",
    {
      action: "requested",
      environment,
      event: run.event,
      sha: run.head_sha,
      ref: run.ref,
      deployment_callback_url: `${api}/actions/runs/${run.id}/deployment_protection_rule`,
      deployment: {
        url: `${api}/deployments/${deploymentId}`,
        id: deploymentId,
        node_id: nodeId("DE", deploymentId),
        sha: run.head_sha,
        ref: run.head_branch,
        task: "deploy",
        payload: {},
        original_environment: environment,
        environment,
        description: null,
        creator: userJson(ctx.urls, run.actor),
        created_at: ts(run.updated_at),
        updated_at: ts(run.updated_at),
        statuses_url: `${api}/deployments/${deploymentId}/statuses`,
        repository_url: api,
        transient_environment: false,
        production_environment: true,
      },
      pull_requests: [],
    },
    repo,
    run.actor,
  );
}

/** GitHub's limits on re-running ("Re-running workflows and jobs"): within 30 days of the first run, at most 50 re-runs. */
const RERUN_WINDOW_MS = 30 * 24 * 3600_000;
const MAX_RERUNS = 50;

/**
 * `POST /repos/{owner}/{repo}/actions/runs/{run_id}/rerun` (201): the same run id gets its next
 * attempt, on the same commit and ref, with the same `actor` (whose privileges it uses); the person
 * who asked becomes its `triggering_actor`. Refused with 403 while the run has not completed, after
 * 30 days, and after 50 re-runs. The attempt joins its concurrency group like a new run.
 */
function rerun({ ctx, repo, caller, params }: RouteHandlerInput): RouteResult {
  const run = runFrom(repo, params.run_id);
  const now = ctx.clock.now();
  if (run.status !== "completed") throw new HttpError(403, "This workflow is already running");
  if (now - run.created_at > RERUN_WINDOW_MS)
    throw new HttpError(403, "Unable to retry this workflow run because it was created over a month ago");
  if (run.run_attempt > MAX_RERUNS) throw new HttpError(403, "This workflow run cannot be retried");
  run.run_attempt += 1;
  run.triggering_actor = actorOf(caller);
  run.status = "queued";
  run.conclusion = null;
  run.updated_at = now;
  run.pendingProtection = [];
  run.protectionReviews = [];
  const admission = admitRun(repo, run, false, now);
  if (admission.started) ctx.runStarted(run);
  return { status: 201, body: {} };
}

const actionsRead = { name: "actions", level: "read" } as const;

export const actionRoutes: Route[] = [
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/actions/workflows",
    auth: "repo",
    permission: actionsRead,
    handle: ({ ctx, repo, req }) => {
      const all = workflowsIn(ctx, repo, repo.files);
      const { page, headers } = paginate(all, req, ctx.urls.api);
      return {
        status: 200,
        body: { total_count: all.length, workflows: page.map((w) => workflowJson(ctx, repo, w)) },
        headers,
      };
    },
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/actions/workflows/{workflow_id}",
    auth: "repo",
    permission: actionsRead,
    handle: ({ ctx, repo, params }) => ({
      status: 200,
      body: workflowJson(ctx, repo, findWorkflow(ctx, repo, repo.files, params.workflow_id!)),
    }),
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs",
    auth: "repo",
    permission: actionsRead,
    handle: (input) =>
      listRuns(input, findWorkflow(input.ctx, input.repo, input.repo.files, input.params.workflow_id!).path),
  },
  {
    method: "POST",
    template: "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches",
    auth: "repo",
    permission: { name: "actions", level: "write" },
    userRole: "write",
    handle: dispatch,
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/actions/runs",
    auth: "repo",
    permission: actionsRead,
    handle: (input) => listRuns(input, null),
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/actions/runs/{run_id}",
    auth: "repo",
    permission: actionsRead,
    handle: ({ ctx, repo, params }) => ({
      status: 200,
      body: runJson(ctx, repo, runFrom(repo, params.run_id)),
    }),
  },
  {
    method: "POST",
    template: "/repos/{owner}/{repo}/actions/runs/{run_id}/rerun",
    auth: "repo",
    permission: { name: "actions", level: "write" },
    userRole: "write",
    handle: rerun,
  },
  {
    method: "POST",
    template: "/repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule",
    auth: "repo",
    permission: { name: "deployments", level: "write" },
    handle: reviewProtection,
  },
];
