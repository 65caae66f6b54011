import { randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  base64url,
  calculateJwkThumbprint,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWK,
} from "jose";
import { systemClock, type Clock } from "./clock.ts";
import {
  DEFAULT_BRANCH,
  DEFAULT_OWNER,
  DEFAULT_OWNER_ID,
  DEFAULT_REPO,
  DEFAULT_REPO_ID,
} from "./sandbox-identity.ts";

/** The claims of a GitHub Actions OIDC token. Ids are strings, as GitHub writes them. */
export interface ActionsClaims {
  iss: string;
  aud: string | string[];
  sub: string;
  repository: string;
  repository_id: string;
  repository_owner: string;
  repository_owner_id: string;
  repository_visibility: "public" | "private" | "internal";
  workflow: string;
  workflow_ref: string;
  workflow_sha: string;
  job_workflow_ref: string;
  job_workflow_sha: string;
  run_id: string;
  run_number: string;
  run_attempt: string;
  actor: string;
  actor_id: string;
  event_name: string;
  ref: string;
  ref_type: "branch" | "tag" | "";
  ref_protected: "true" | "false";
  head_ref: string;
  base_ref: string;
  sha: string;
  environment?: string;
  runner_environment: "github-hosted" | "self-hosted";
  iat: number;
  nbf: number;
  exp: number;
  jti: string;
}

/** Claims a caller may set; anything else (even unknown claims) passes through as given. */
export type ClaimsInput = Partial<ActionsClaims> & Record<string, unknown>;

/** How `mint` signs: the issuer's key, a key outside the JWKS, no signature, or HS256 keyed with the public key. */
export type MintKey = "issuer" | "other" | "none" | "hs256-public-key";

export interface MintOptions {
  key?: MintKey;
  /** `kid` in the header (default: the issuer's, also for forgeries, as an attacker would). */
  kid?: string;
  /** Lifetime from iat (default 300 s, like GitHub). */
  expiresInSeconds?: number;
  /** nbf relative to iat (positive = not valid yet). */
  notBeforeOffsetSeconds?: number;
  /** iat relative to the clock's now. */
  issuedAtOffsetSeconds?: number;
}

export interface OidcIssuer {
  /** The `iss` of every token, also the base of the discovery document. */
  readonly url: string;
  readonly jwksUrl: string;
  readonly kid: string;
  /** The signing key's public half (SPKI PEM), e.g. for algorithm-confusion tests. */
  readonly publicKeyPem: string;
  /** What a runner puts in ACTIONS_ID_TOKEN_REQUEST_URL / ACTIONS_ID_TOKEN_REQUEST_TOKEN for a job with these claims. */
  registerRun(claims: ClaimsInput): { requestUrl: string; requestToken: string };
  /** The job ended: its request token stops working. */
  endRun(requestToken: string): void;
  /** Signs a token directly (full GitHub claim set from defaults + `claims`), optionally forged. */
  mint(claims?: ClaimsInput, options?: MintOptions): Promise<string>;
  /** How tokens of `repository` (owner/name) spell `sub` from now on: its subject format and template. */
  setSubjectSettings(repository: string, settings: SubjectSettings): void;
  /** Every token handed out through the request protocol, in order. */
  readonly issued: ActionsClaims[];
  close(): Promise<void>;
}

export const TOKEN_LIFETIME_SECONDS = 300;
const CLAIMS_SUPPORTED = [
  "sub",
  "aud",
  "exp",
  "iat",
  "iss",
  "jti",
  "nbf",
  "ref",
  "sha",
  "repository",
  "repository_id",
  "repository_owner",
  "repository_owner_id",
  "enterprise",
  "enterprise_id",
  "run_id",
  "run_number",
  "run_attempt",
  "actor",
  "actor_id",
  "workflow",
  "workflow_ref",
  "workflow_sha",
  "head_ref",
  "base_ref",
  "event_name",
  "ref_type",
  "ref_protected",
  "environment",
  "environment_node_id",
  "job_workflow_ref",
  "job_workflow_sha",
  "repository_visibility",
  "runner_environment",
];
const FIXED_SHA = "6d5c2b1a9f8e7d6c5b4a39281706f5e4d3c2b1a0";

/**
 * GitHub's two `sub` formats. Legacy names the repository by its names (`repo:OWNER/REPO:…`); immutable
 * appends the numeric ids (`repo:OWNER@OWNER_ID/REPO@REPO_ID:…`), so a deleted or renamed name claimed by
 * someone else never yields the same subject. GitHub's OIDC reference ("Immutable subject claims").
 */
export type SubjectFormat = "legacy" | "immutable";

/** Repositories created, renamed or transferred on or after this moment get immutable subjects by default. */
export const IMMUTABLE_SUBJECTS_SINCE = Date.parse("2026-07-15T00:00:00Z");

/** How one repository's tokens spell `sub`: the format, and the repository's subject template if customized. */
export interface SubjectSettings {
  format?: SubjectFormat;
  /**
   * `include_claim_keys` of `PUT /repos/{owner}/{repo}/actions/oidc/customization/sub` (use_default false):
   * each key adds `key:value`, `repo` adds `repo:<the repository in this format>`, `context` adds the
   * environment, pull_request or ref part. Absent: GitHub's default template (`repo`, `context`).
   */
  includeClaimKeys?: readonly string[];
}

/** The format GitHub gives a repository by default: immutable when it was created, renamed or transferred since 2026-07-15. */
export function defaultSubjectFormat(repository: {
  createdAt: number;
  renamedOrTransferredAt?: number | null;
}): SubjectFormat {
  const latest = Math.max(repository.createdAt, repository.renamedOrTransferredAt ?? -Infinity);
  return latest >= IMMUTABLE_SUBJECTS_SINCE ? "immutable" : "legacy";
}

type SubjectClaims = Pick<ActionsClaims, "repository" | "event_name" | "ref"> & {
  environment?: string | undefined;
  repository_id?: string;
  repository_owner_id?: string;
} & Record<string, unknown>;

/** The `repo` part of a subject: `OWNER/REPO`, or `OWNER@OWNER_ID/REPO@REPO_ID` in the immutable format. */
export function subjectRepo(
  claims: Pick<SubjectClaims, "repository" | "repository_id" | "repository_owner_id">,
  format: SubjectFormat,
): string {
  if (format === "legacy") return claims.repository;
  const [owner, name] = claims.repository.split("/");
  if (!claims.repository_owner_id || !claims.repository_id)
    throw new Error(`immutable subjects need repository_owner_id and repository_id (${claims.repository})`);
  return `${owner}@${claims.repository_owner_id}/${name}@${claims.repository_id}`;
}

/** The `context` part: environment beats pull_request beats ref. */
export function subjectContext(claims: Pick<SubjectClaims, "event_name" | "ref" | "environment">): string {
  if (claims.environment) return `environment:${claims.environment}`;
  if (claims.event_name === "pull_request") return "pull_request";
  return `ref:${claims.ref}`;
}

/** The `sub` GitHub writes for these claims, in the repository's format and template. */
export function subjectFor(claims: SubjectClaims, settings: SubjectSettings = {}): string {
  const format = settings.format ?? "legacy";
  const keys = settings.includeClaimKeys ?? ["repo", "context"];
  return keys
    .map((key) => {
      if (key === "repo") return `repo:${subjectRepo(claims, format)}`;
      if (key === "context") return subjectContext(claims);
      return `${key}:${String(claims[key] ?? "")}`;
    })
    .join(":");
}

/**
 * The full claim set GitHub would put in a token for a job described by `input`: everything not
 * given is derived (owner from repository, workflow_ref from workflow file and ref, sub from the rest).
 * A key given as `undefined` is left out of the token.
 */
export function buildActionsClaims(
  input: ClaimsInput,
  context: { iss: string; nowSeconds: number; runId: string; subject?: SubjectSettings },
): ActionsClaims {
  const repository = String(input.repository ?? `${DEFAULT_OWNER}/${DEFAULT_REPO}`);
  const owner = repository.split("/")[0] ?? DEFAULT_OWNER;
  const ref = String(input.ref ?? `refs/heads/${DEFAULT_BRANCH}`);
  const workflowFile = "breakglass-grant.yml";
  const workflowRef = `${repository}/.github/workflows/${workflowFile}@${ref}`;
  const iat = context.nowSeconds;
  const base: Omit<ActionsClaims, "sub"> = {
    iss: context.iss,
    aud: `https://github.com/${owner}`,
    repository,
    repository_id: String(DEFAULT_REPO_ID),
    repository_owner: owner,
    repository_owner_id: String(DEFAULT_OWNER_ID),
    repository_visibility: "private",
    workflow: "breakglass-grant",
    workflow_ref: workflowRef,
    workflow_sha: FIXED_SHA,
    job_workflow_ref: String(input.workflow_ref ?? workflowRef),
    job_workflow_sha: FIXED_SHA,
    run_id: context.runId,
    run_number: "1",
    run_attempt: "1",
    actor: "breakglass[bot]",
    actor_id: "900001",
    event_name: "workflow_dispatch",
    ref,
    ref_type: ref.startsWith("refs/tags/") ? "tag" : ref.startsWith("refs/heads/") ? "branch" : "",
    ref_protected: "false",
    head_ref: "",
    base_ref: "",
    sha: FIXED_SHA,
    runner_environment: "github-hosted",
    iat,
    nbf: iat,
    exp: iat + TOKEN_LIFETIME_SECONDS,
    jti: randomUUID(),
  };
  const merged = { ...base, ...input } as Record<string, unknown>;
  if (!("sub" in input)) {
    // A forged token that leaves the ids out (attack tests) still gets a subject: the names-only one.
    const idsMissing = merged.repository_id === undefined || merged.repository_owner_id === undefined;
    const subject =
      idsMissing && context.subject?.format === "immutable"
        ? { ...context.subject, format: "legacy" as const }
        : context.subject;
    merged.sub = subjectFor(merged as unknown as SubjectClaims, subject);
  }
  for (const [key, value] of Object.entries(merged)) if (value === undefined) delete merged[key];
  return merged as unknown as ActionsClaims;
}

interface RegisteredRun {
  requestToken: string;
  claims: ClaimsInput;
  ended: boolean;
}

/**
 * A local stand-in for token.actions.githubusercontent.com plus the runner's token endpoint: serves
 * the discovery document and JWKS, and mints tokens for registered jobs through the exact protocol
 * `core.getIDToken` speaks (GET ACTIONS_ID_TOKEN_REQUEST_URL&audience=…, Bearer request token, `{value}`).
 */
export async function startOidcIssuer(
  options: { clock?: Clock; alg?: "RS256"; subjects?: Record<string, SubjectSettings> } = {},
): Promise<OidcIssuer> {
  const clock = options.clock ?? systemClock;
  const alg = options.alg ?? "RS256";
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk: JWK = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const jwks = { keys: [{ ...publicJwk, kid, alg, use: "sig" }] };
  const publicKeyPem = await exportSPKI(publicKey);
  let otherKey: Promise<CryptoKey> | null = null;
  const runs = new Map<string, RegisteredRun>();
  const subjects = new Map(
    Object.entries(options.subjects ?? {}).map(([repository, settings]) => [
      repository.toLowerCase(),
      settings,
    ]),
  );
  const subjectOf = (input: ClaimsInput) =>
    subjects.get(String(input.repository ?? `${DEFAULT_OWNER}/${DEFAULT_REPO}`).toLowerCase());
  const issued: ActionsClaims[] = [];
  let runCounter = 7_000_000;
  let url = "";

  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (error) {
      send(res, 500, { message: (error as Error).message });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const nowSeconds = () => Math.floor(clock.now() / 1000);
  const claimsFor = (input: ClaimsInput) => {
    const subject = subjectOf(input);
    return buildActionsClaims(input, {
      iss: url,
      nowSeconds: nowSeconds(),
      runId: String(++runCounter),
      ...(subject ? { subject } : {}),
    });
  };

  async function sign(claims: ActionsClaims, key: MintKey, headerKid: string): Promise<string> {
    const payload = claims as unknown as Record<string, unknown>;
    switch (key) {
      case "issuer":
        return new SignJWT(payload).setProtectedHeader({ alg, typ: "JWT", kid: headerKid }).sign(privateKey);
      case "other":
        otherKey ??= generateKeyPair(alg).then((pair) => pair.privateKey);
        return new SignJWT(payload)
          .setProtectedHeader({ alg, typ: "JWT", kid: headerKid })
          .sign(await otherKey);
      case "hs256-public-key":
        return new SignJWT(payload)
          .setProtectedHeader({ alg: "HS256", typ: "JWT", kid: headerKid })
          .sign(new TextEncoder().encode(publicKeyPem));
      case "none": {
        const encode = (value: unknown) => base64url.encode(JSON.stringify(value));
        return `${encode({ alg: "none", typ: "JWT" })}.${encode(payload)}.`;
      }
    }
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const requestUrl = new URL(req.url ?? "/", url);
    if (req.method !== "GET") return send(res, 405, { message: "Method not allowed: use GET" });
    if (requestUrl.pathname === "/.well-known/openid-configuration") {
      return send(res, 200, {
        issuer: url,
        jwks_uri: `${url}/.well-known/jwks`,
        subject_types_supported: ["public", "pairwise"],
        response_types_supported: ["id_token"],
        claims_supported: CLAIMS_SUPPORTED,
        id_token_signing_alg_values_supported: [alg],
        scopes_supported: ["openid"],
      });
    }
    if (requestUrl.pathname === "/.well-known/jwks") return send(res, 200, jwks);
    const job =
      /^\/_apis\/distributedtask\/hubs\/Actions\/plans\/[0-9a-f-]+\/jobs\/([0-9a-f-]+)\/idtoken$/.exec(
        requestUrl.pathname,
      );
    if (!job) return send(res, 404, { message: "Not Found" });
    const run = runs.get(job[1]!);
    const presented = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1] ?? "";
    if (!run || run.ended || !sameSecret(presented, run.requestToken)) {
      return send(res, 401, { message: "The request token is missing, invalid, or the job has ended." });
    }
    const claims = claimsFor(run.claims);
    const audience = requestUrl.searchParams.get("audience");
    if (audience) claims.aud = audience;
    issued.push(claims);
    void sign(claims, "issuer", kid).then(
      (value) => send(res, 200, { value }),
      (error: Error) => send(res, 500, { message: error.message }),
    );
  }

  return {
    url,
    jwksUrl: `${url}/.well-known/jwks`,
    kid,
    publicKeyPem,
    issued,
    registerRun(claims) {
      const jobId = randomUUID();
      const requestToken = randomBytes(24).toString("base64url");
      runs.set(jobId, { requestToken, claims: { ...claims }, ended: false });
      return {
        requestUrl: `${url}/_apis/distributedtask/hubs/Actions/plans/${randomUUID()}/jobs/${jobId}/idtoken?api-version=2.0`,
        requestToken,
      };
    },
    setSubjectSettings(repository, settings) {
      subjects.set(repository.toLowerCase(), { ...settings });
    },
    endRun(requestToken) {
      for (const run of runs.values()) if (run.requestToken === requestToken) run.ended = true;
    },
    async mint(input = {}, mintOptions = {}) {
      const claims = claimsFor({});
      const iat = claims.iat + (mintOptions.issuedAtOffsetSeconds ?? 0);
      const timing = {
        iat,
        nbf: iat + (mintOptions.notBeforeOffsetSeconds ?? 0),
        exp: iat + (mintOptions.expiresInSeconds ?? TOKEN_LIFETIME_SECONDS),
      };
      const subject = subjectOf(input);
      const full = buildActionsClaims(
        { ...timing, ...input },
        { iss: url, nowSeconds: claims.iat, runId: claims.run_id, ...(subject ? { subject } : {}) },
      );
      return sign(full, mintOptions.key ?? "issuer", mintOptions.kid ?? kid);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function sameSecret(presented: string, expected: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res
    .writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" })
    .end(JSON.stringify(body));
}
