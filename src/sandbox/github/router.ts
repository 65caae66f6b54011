import type { Caller } from "./auth.ts";
import type { EmulatorContext } from "./context.ts";
import { DOCS, HttpError } from "./http-error.ts";
import type { AccessLevel, RepoPermission, RepoRecord } from "./state.ts";

export { DOCS, HttpError };

export const notFound = () => new HttpError(404, "Not Found");

export function validationFailed(resource: string, field: string, code: string, message?: string): HttpError {
  return new HttpError(422, "Validation Failed", {
    errors: [{ resource, field, code, ...(message ? { message } : {}) }],
  });
}

export interface RouteRequest {
  method: string;
  /** Path below /api/v3, without the query. */
  path: string;
  query: URLSearchParams;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

export interface RouteResult {
  status: number;
  body?: unknown;
  /** Sent as is instead of JSON (raw media types). */
  raw?: string;
  headers?: Record<string, string>;
}

/**
 * Who may call a route: `app` = the app's JWT only; `repo` = an installation token covering the
 * repository in the path, or a user who can see it; `installation` = installation tokens only;
 * `any` = any valid token.
 */
export type RouteAuth = "app" | "repo" | "installation" | "any";

export interface RouteHandlerInput {
  req: RouteRequest;
  params: Record<string, string>;
  caller: Caller;
  /** Set for `repo` routes. */
  repo: RepoRecord;
  ctx: EmulatorContext;
}

export interface Route {
  method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  /** GitHub's route template, e.g. /repos/{owner}/{repo}/issues/{issue_number}. `{path}` and `{ref}` take the rest of the path. */
  template: string;
  auth: RouteAuth;
  /** Installation permission needed (GitHub's names: issues, contents, metadata, members, actions, deployments). */
  permission?: { name: string; level: AccessLevel };
  /** Repository role a user token needs (default read, i.e. can see the repository). */
  userRole?: RepoPermission;
  handle(input: RouteHandlerInput): RouteResult | Promise<RouteResult>;
}

export interface CompiledRoute extends Route {
  regex: RegExp;
  names: string[];
}

export function compileRoutes(routes: Route[]): CompiledRoute[] {
  return routes.map((route) => {
    const names: string[] = [];
    const source = route.template.replace(/\{(\w+)\}/g, (_, name: string) => {
      names.push(name);
      return name === "path" || name === "ref" ? "(.*)" : "([^/]+)";
    });
    return { ...route, names, regex: new RegExp(`^${source}/?$`) };
  });
}

export function matchRoute(
  routes: CompiledRoute[],
  method: string,
  path: string,
): { route: CompiledRoute; params: Record<string, string> } | null {
  for (const route of routes) {
    if (route.method !== method) continue;
    const m = route.regex.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    try {
      route.names.forEach((name, i) => (params[name] = decodeURIComponent(m[i + 1] ?? "")));
    } catch {
      return null;
    }
    return { route, params };
  }
  return null;
}

/** The template of the route a path would hit, for logs and fault rules (also when the method is wrong). */
export function templateFor(routes: CompiledRoute[], path: string): string | null {
  return routes.find((r) => r.regex.test(path))?.template ?? null;
}

/** Reads page/per_page like GitHub (per_page at most 100, default 30) and builds the Link header. */
export function paginate<T>(
  items: T[],
  req: RouteRequest,
  apiBase: string,
): { page: T[]; headers: Record<string, string> } {
  const perPage = Math.min(100, Math.max(1, intParam(req.query.get("per_page")) ?? 30));
  const page = Math.max(1, intParam(req.query.get("page")) ?? 1);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const link = (p: number) => {
    const q = new URLSearchParams(req.query);
    q.set("per_page", String(perPage));
    q.set("page", String(p));
    return `<${apiBase}${req.path}?${q.toString()}>`;
  };
  const rels: string[] = [];
  if (page > 1) rels.push(`${link(Math.min(page - 1, last))}; rel="prev"`);
  if (page < last) rels.push(`${link(page + 1)}; rel="next"`, `${link(last)}; rel="last"`);
  if (page > 1) rels.push(`${link(1)}; rel="first"`);
  return {
    page: items.slice((page - 1) * perPage, page * perPage),
    headers: rels.length ? { link: rels.join(", ") } : {},
  };
}

function intParam(value: string | null): number | null {
  if (value === null || !/^\d+$/.test(value)) return null;
  return Number(value);
}

/** Reads a JSON object body, or says what GitHub says about anything else. */
export function objectBody(req: RouteRequest): Record<string, unknown> {
  if (req.body === undefined || req.body === null) return {};
  if (typeof req.body !== "object" || Array.isArray(req.body))
    throw new HttpError(400, "Problems parsing JSON");
  return req.body as Record<string, unknown>;
}

export function optionalString(
  body: Record<string, unknown>,
  field: string,
  resource: string,
): string | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== "string")
    throw new HttpError(
      422,
      `Invalid request.\n\nFor '${field}', ${JSON.stringify(value)} is not a string.`,
      { errors: [{ resource, field, code: "invalid" }] },
    );
  return value;
}

export function stringList(
  body: Record<string, unknown>,
  field: string,
  resource: string,
): string[] | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    throw new HttpError(
      422,
      `Invalid request.\n\nFor '${field}', ${JSON.stringify(value)} is not an array of strings.`,
      { errors: [{ resource, field, code: "invalid" }] },
    );
  }
  return value as string[];
}

/** GitHub's maximum for issue and comment bodies. */
export const MAX_BODY_CHARS = 65_536;

export function checkBodyLength(body: string | undefined | null, resource: "Issue" | "IssueComment"): void {
  if (body && [...body].length > MAX_BODY_CHARS) {
    throw validationFailed(
      resource,
      "body",
      "custom",
      `body is too long (maximum is ${MAX_BODY_CHARS} characters)`,
    );
  }
}
