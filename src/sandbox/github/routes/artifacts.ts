import { randomBytes } from "node:crypto";
import { githubTimestamp as ts } from "../../clock.ts";
import type { EmulatorContext } from "../context.ts";
import { writeZip } from "../../../core/zip.ts";
import { HttpError, notFound, paginate, type Route, type RouteResult } from "../router.ts";
import { nodeId, type RepoRecord } from "../state.ts";

/** An artifact a run uploaded (actions/upload-artifact), kept as the ZIP GitHub serves. */
interface Artifact {
  id: number;
  name: string;
  runId: number;
  zip: Buffer;
  createdAt: number;
  expiresAt: number;
}

const store = new WeakMap<RepoRecord, Map<number, Artifact>>();
/** Pre-signed download URLs: GitHub's last about a minute and need no token. */
const downloads = new Map<string, { zip: Buffer; until: number }>();
const DOWNLOAD_URL_MS = 60_000;
let nextArtifactId = 7_000_000;

const artifactsOf = (repo: RepoRecord) => {
  let found = store.get(repo);
  if (!found) store.set(repo, (found = new Map()));
  return found;
};

/** What `actions/upload-artifact` does at the end of a step: one artifact of a run, kept `retentionDays`. */
export function uploadArtifact(
  ctx: EmulatorContext,
  repo: RepoRecord,
  runId: number,
  name: string,
  files: Record<string, Buffer>,
  retentionDays = 90,
): number {
  const artifacts = artifactsOf(repo);
  if ([...artifacts.values()].some((a) => a.runId === runId && a.name === name))
    throw new Error(`an artifact named ${name} already exists for run ${runId}`);
  const id = nextArtifactId++;
  const now = ctx.clock.now();
  artifacts.set(id, {
    id,
    name,
    runId,
    zip: writeZip(files),
    createdAt: now,
    expiresAt: now + retentionDays * 24 * 3600 * 1000,
  });
  return id;
}

function artifactJson(ctx: EmulatorContext, repo: RepoRecord, a: Artifact) {
  const base = `${ctx.urls.api}/repos/${repo.full_name}/actions/artifacts/${a.id}`;
  return {
    id: a.id,
    node_id: nodeId("MDg6QXJ0aWZhY3Q", a.id),
    name: a.name,
    size_in_bytes: a.zip.length,
    url: base,
    archive_download_url: `${base}/zip`,
    expired: a.expiresAt <= ctx.clock.now(),
    created_at: ts(a.createdAt),
    updated_at: ts(a.createdAt),
    expires_at: ts(a.expiresAt),
    workflow_run: {
      id: a.runId,
      repository_id: repo.id,
      head_repository_id: repo.id,
      head_branch: repo.default_branch,
    },
  };
}

function artifactFrom(repo: RepoRecord, idParam: string | undefined): Artifact {
  const found = idParam && /^\d+$/.test(idParam) ? artifactsOf(repo).get(Number(idParam)) : undefined;
  if (!found) throw notFound();
  return found;
}

/** The pre-signed URL the download route redirects to (outside the API; no token needed, short-lived). */
export function serveArtifactDownload(
  ctx: EmulatorContext,
  path: string,
): { status: number; body: Buffer } | null {
  const match = /^\/_artifacts\/([A-Za-z0-9_-]{20,})$/.exec(path);
  if (!match) return null;
  const found = downloads.get(match[1]!);
  if (!found || found.until <= ctx.clock.now())
    return { status: 403, body: Buffer.from("AuthenticationFailed: the signed URL has expired") };
  return { status: 200, body: found.zip };
}

const actionsRead = { name: "actions", level: "read" } as const;

export const artifactRoutes: Route[] = [
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/actions/runs/{run_id}/artifacts",
    auth: "repo",
    permission: actionsRead,
    handle: ({ ctx, repo, req, params }) => {
      const runId = Number(params.run_id);
      if (!repo.runs.has(runId)) throw notFound();
      const name = req.query.get("name");
      const all = [...artifactsOf(repo).values()]
        .filter((a) => a.runId === runId && (!name || a.name === name))
        .sort((a, b) => b.id - a.id);
      const { page, headers } = paginate(all, req, ctx.urls.api);
      return {
        status: 200,
        body: { total_count: all.length, artifacts: page.map((a) => artifactJson(ctx, repo, a)) },
        headers,
      };
    },
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/actions/artifacts/{artifact_id}",
    auth: "repo",
    permission: actionsRead,
    handle: ({ ctx, repo, params }) => ({
      status: 200,
      body: artifactJson(ctx, repo, artifactFrom(repo, params.artifact_id)),
    }),
  },
  {
    method: "GET",
    template: "/repos/{owner}/{repo}/actions/artifacts/{artifact_id}/{archive_format}",
    auth: "repo",
    permission: actionsRead,
    handle: ({ ctx, repo, params }): RouteResult => {
      const artifact = artifactFrom(repo, params.artifact_id);
      if (params.archive_format !== "zip") throw notFound();
      if (artifact.expiresAt <= ctx.clock.now()) throw new HttpError(410, "Artifact has expired");
      const key = randomBytes(24).toString("base64url");
      downloads.set(key, { zip: artifact.zip, until: ctx.clock.now() + DOWNLOAD_URL_MS });
      return { status: 302, headers: { location: `${ctx.urls.web}/_artifacts/${key}` } };
    },
  },
];
