/**
 * Request histories of mixed outcomes, signed with the real audit chain, behind a plain fake of the
 * GitHub port. Shared by the tests of src/audit and the audit CLI.
 */
import type { JSONWebKeySet } from "jose";
import type { GitHubPort, IssueComment, IssueSummary } from "../../src/github/github-port.ts";
import { memoryLedger } from "../../src/github/ledger.ts";
import {
  appendEntry,
  createSigner,
  exportPublicJwks,
  generateAuditKey,
  type AuditKey,
  type SignedEntry,
} from "../../src/core/audit-chain.ts";
import type { LifecycleEvent } from "../../src/core/lifecycle-events.ts";
import type { AccessRequest } from "../../src/core/types.ts";

export const OWNER = "acme";
export const REPO = "ops";
export const REPOSITORY = `${OWNER}/${REPO}`;
export const APP_LOGIN = "breakglass[bot]";
export const T0 = Date.parse("2026-03-02T09:00:00.000Z");
export const DAY = 86_400_000;
export const MIN = 60_000;
export const at = (ms: number): string => new Date(ms).toISOString();
export const XSS = '<script>alert("pwned")</script> & <img src=x onerror=alert(1)>';
export const FORMULA = '=HYPERLINK("http://evil.example/x","click me")';

export interface Step {
  /** Minutes after the issue's start. */
  t: number;
  event: LifecycleEvent;
}

export interface RequestSpec {
  number: number;
  /** Days after T0. */
  day: number;
  labels?: string[];
  steps: Step[];
}

export const request = (over: Partial<AccessRequest> = {}): AccessRequest => ({
  resource: "prod-database",
  role: "read",
  duration_seconds: 3600,
  severity: "high",
  justification: "Investigate the stuck migration on orders.",
  incident: "INC-101",
  drill: false,
  ...over,
});

const requested = (actor: string, r: AccessRequest, required = 1): LifecycleEvent => ({
  type: "requested",
  actor,
  request: r,
  hash: `h-${actor}-${r.resource}-${r.role}`,
  required_approvals: required,
});
const hashOf = (e: LifecycleEvent) => (e as { hash: string }).hash;
const granted = (id: string, provider: string, credential: string, expiresMs: number): LifecycleEvent => ({
  type: "granted",
  actor: "breakglass[bot]",
  grant_id: id,
  run_id: `run-${id}`,
  provider,
  credential_id: credential,
  expires_at: at(expiresMs),
});

/** Every outcome an auditor meets: approved+expired, denied, revoked, revoke_failed, break-glass, drill, cancelled, timed out, refused by limits, extended, and an issue with no records. */
export function mixedHistory(): { specs: RequestSpec[]; reviews: IssueSummary[] } {
  const start = (day: number) => T0 + day * DAY;
  const r1 = requested("dave", request());
  const r2 = requested(
    "erin",
    request({
      role: "write",
      duration_seconds: 7200,
      severity: "critical",
      justification: FORMULA,
      incident: null,
    }),
  );
  const r3 = requested(
    "dave",
    request({
      resource: "model-guardrail-override",
      role: "override",
      duration_seconds: 1800,
      severity: "critical",
      justification: XSS,
    }),
  );
  const r4 = requested("ivan", request({ incident: "INC-104" }));
  const r5 = requested(
    "olga",
    request({
      role: "admin",
      duration_seconds: 1800,
      severity: "critical",
      justification: "Primary is down and nobody answers the page.",
    }),
  );
  const r6 = requested(
    "sam",
    request({
      role: "read",
      duration_seconds: 900,
      severity: "low",
      justification: "Monthly break-glass drill.",
      incident: null,
      drill: true,
    }),
  );
  const r7 = requested(
    "olga",
    request({
      role: "admin",
      duration_seconds: 1800,
      severity: "critical",
      justification: "Again: replica lag.",
    }),
  );
  const r8 = requested(
    "rita",
    request({
      resource: "model-guardrail-override",
      role: "override",
      duration_seconds: 1800,
      severity: "medium",
    }),
  );
  const r10 = requested(
    "dave",
    request({ duration_seconds: 1800, justification: 'Long backfill,\nneeds "more" time' }),
  );
  const d1 = start(0);
  const specs: RequestSpec[] = [
    {
      number: 1,
      day: 0,
      steps: [
        { t: 0, event: r1 },
        {
          t: 5,
          event: { type: "approved", actor: "bob", hash: hashOf(r1), via: "codeowner", comment_id: 501 },
        },
        { t: 7, event: granted("g1", "postgres", "bg_dave_1", d1 + 67 * MIN) },
        {
          t: 68,
          event: {
            type: "revoked",
            actor: "breakglass[bot]",
            grant_id: "g1",
            reason: "expired",
            evidence: "role bg_dave_1 dropped",
          },
        },
        { t: 69, event: { type: "checklist_opened", actor: "breakglass[bot]", issue: 20 } },
        { t: 69, event: { type: "closed", actor: "breakglass[bot]" } },
      ],
    },
    {
      number: 2,
      day: 1,
      steps: [
        { t: 0, event: r2 },
        { t: 10, event: { type: "denied", actor: "bob", reason: "Use the read role." } },
        { t: 10, event: { type: "closed", actor: "breakglass[bot]" } },
      ],
    },
    {
      number: 3,
      day: 2,
      steps: [
        { t: 0, event: r3 },
        {
          t: 2,
          event: {
            type: "approved",
            actor: "carol",
            hash: hashOf(r3),
            via: "team",
            team: "@acme/ai-governance",
            comment_id: 502,
          },
        },
        { t: 3, event: granted("g3", "jwt", "jti-3", start(2) + 33 * MIN) },
        {
          t: 20,
          event: {
            type: "revoked",
            actor: "bob",
            grant_id: "g3",
            reason: "revoked",
            evidence: "jti-3 on the deny list",
          },
        },
        { t: 21, event: { type: "checklist_opened", actor: "breakglass[bot]", issue: 21 } },
      ],
    },
    {
      number: 4,
      day: 3,
      steps: [
        { t: 0, event: r4 },
        { t: 1, event: { type: "approved", actor: "bob", hash: hashOf(r4), via: "listed" } },
        { t: 2, event: granted("g4", "aws", "arn:aws:sts::1:assumed-role/bg/ivan", start(3) + 62 * MIN) },
        {
          t: 63,
          event: {
            type: "revocation_failed",
            actor: "breakglass[bot]",
            grant_id: "g4",
            error: "AccessDenied: iam:PutRolePolicy",
            attempt: 1,
          },
        },
        {
          t: 70,
          event: {
            type: "revocation_failed",
            actor: "breakglass[bot]",
            grant_id: "g4",
            error: "AccessDenied: iam:PutRolePolicy",
            attempt: 2,
          },
        },
      ],
    },
    {
      number: 5,
      day: 4,
      steps: [
        { t: 0, event: r5 },
        {
          t: 1,
          event: {
            type: "break_glass",
            actor: "olga",
            hash: hashOf(r5),
            reason: "No approver reachable in 10 minutes.",
          },
        },
        { t: 2, event: granted("g5", "postgres", "bg_olga_5", start(4) + 32 * MIN) },
        {
          t: 15,
          event: {
            type: "revoked",
            actor: "breakglass[bot]",
            grant_id: "g5",
            reason: "job_ended",
            evidence: "role bg_olga_5 dropped",
          },
        },
      ],
    },
    {
      number: 6,
      day: 5,
      labels: ["breakglass", "breakglass:drill"],
      steps: [
        { t: 0, event: r6 },
        {
          t: 0,
          event: { type: "auto_approved", actor: "breakglass[bot]", hash: hashOf(r6), rule: "drills" },
        },
        { t: 1, event: granted("g6", "jwt", "jti-6", start(5) + 16 * MIN) },
        {
          t: 16,
          event: {
            type: "revoked",
            actor: "breakglass[bot]",
            grant_id: "g6",
            reason: "expired",
            evidence: "jti-6 on the deny list",
          },
        },
      ],
    },
    {
      number: 7,
      day: 6,
      steps: [
        { t: 0, event: r7 },
        {
          t: 1,
          event: {
            type: "break_glass",
            actor: "olga",
            hash: hashOf(r7),
            reason: "Replica lag, on-call asleep.",
          },
        },
        { t: 3, event: { type: "cancelled", actor: "olga", reason: "fixed itself" } },
      ],
    },
    {
      number: 8,
      day: 7,
      steps: [
        { t: 0, event: r8 },
        { t: 30, event: { type: "escalated", actor: "breakglass[bot]", notified: ["slack"] } },
        { t: 60, event: { type: "timed_out", actor: "breakglass[bot]" } },
      ],
    },
    {
      number: 9,
      day: 8,
      steps: [
        {
          t: 0,
          event: {
            type: "invalid",
            actor: "mallory",
            errors: [{ field: "limits", message: "Limit reached: at most 3 requests per person per day." }],
          },
        },
      ],
    },
    {
      number: 10,
      day: 9,
      steps: [
        { t: 0, event: r10 },
        { t: 4, event: { type: "approved", actor: "bob", hash: hashOf(r10), via: "codeowner" } },
        { t: 5, event: granted("g10", "postgres", "bg_dave_10", start(9) + 35 * MIN) },
        {
          t: 20,
          event: {
            type: "extension_requested",
            actor: "dave",
            seconds: 1800,
            reason: "backfill slower",
            hash: "ext-1",
          },
        },
        { t: 22, event: { type: "extension_approved", actor: "bob", hash: "ext-1" } },
        {
          t: 22,
          event: {
            type: "extended",
            actor: "breakglass[bot]",
            grant_id: "g10",
            expires_at: at(start(9) + 65 * MIN),
          },
        },
        {
          t: 66,
          event: {
            type: "revoked",
            actor: "breakglass[bot]",
            grant_id: "g10",
            reason: "expired",
            evidence: "role bg_dave_10 dropped",
          },
        },
      ],
    },
    // Opened with the label, but the app never recorded anything on it.
    { number: 11, day: 10, steps: [] },
  ];
  const review = (number: number, state: "open" | "closed", body: string): IssueSummary => ({
    number,
    title: `[breakglass audit] Review #${number}`,
    body,
    state,
    labels: ["breakglass:audit"],
    user: { login: APP_LOGIN, type: "Bot" },
    created_at: at(T0),
    closed_at: null,
    html_url: `https://github.com/${REPOSITORY}/issues/${number}`,
  });
  const reviews = [
    review(
      20,
      "closed",
      "Post-event review\n\n- [x] Review the queries\n- [X] Rotate the app password\n\n```\n- [ ] not an item inside a code block\n```\n",
    ),
    review(21, "open", "- [ ] Second-person review\n- [x] Check the model logs\n* [ ] Confirm rollback\n"),
  ];
  return { specs, reviews };
}

export interface BuiltRepo {
  key: AuditKey;
  jwks: JSONWebKeySet;
  issues: IssueSummary[];
  comments: Map<number, IssueComment[]>;
  chains: Map<number, SignedEntry[]>;
}

let commentIds = 1000;

const RECORD_TEXT = "Something happened.";

/** The app's comment carrying one record, exactly as appendRecord writes it. */
export const recordComment = (
  jws: string,
  created: string,
  user = { login: APP_LOGIN, type: "Bot" },
  appId: number | null = 4242,
): IssueComment => ({
  id: ++commentIds,
  body: `${RECORD_TEXT}\n\n<!-- breakglass:record ${jws} -->`,
  user,
  app_id: appId,
  created_at: created,
  html_url: `https://github.com/${REPOSITORY}/issues/0#issuecomment-${commentIds}`,
});

export async function buildRepo(
  specs: RequestSpec[],
  reviews: IssueSummary[] = [],
  key?: AuditKey,
): Promise<BuiltRepo> {
  const signingKey = key ?? (await generateAuditKey());
  const signer = createSigner(signingKey.privateKey, signingKey.kid);
  const issues: IssueSummary[] = [];
  const comments = new Map<number, IssueComment[]>();
  const chains = new Map<number, SignedEntry[]>();
  for (const spec of specs) {
    const base = T0 + spec.day * DAY;
    const chain: SignedEntry[] = [];
    for (const [i, step] of spec.steps.entries()) {
      chain.push(
        await appendEntry(
          chain,
          {
            at: at(base + step.t * MIN),
            repo: REPOSITORY,
            issue: spec.number,
            id: `${step.event.type}:${i}`,
            event: step.event,
          },
          signer,
        ),
      );
    }
    chains.set(spec.number, chain);
    comments.set(
      spec.number,
      chain.map((e) => recordComment(e.jws, e.entry.at)),
    );
    issues.push({
      number: spec.number,
      title: `[breakglass] request ${spec.number}`,
      body: "### Resource\n\nprod-database",
      state: "closed",
      labels: spec.labels ?? ["breakglass"],
      user: { login: "dave", type: "User" },
      created_at: at(base),
      closed_at: null,
      html_url: `https://github.com/${REPOSITORY}/issues/${spec.number}`,
    });
  }
  issues.push(...reviews);
  return { key: signingKey, jwks: exportPublicJwks([signingKey]), issues, comments, chains };
}

export interface FakePort extends GitHubPort {
  calls: Array<{ method: string; args: unknown[] }>;
}

const notFound = (what: string) => Object.assign(new Error(`Not Found: ${what}`), { status: 404 });

/** Only the reads the audit needs; anything else is a test failure. Issues are filtered like GitHub: by label and last update. */
export function fakePort(
  repo: Pick<BuiltRepo, "issues" | "comments"> & Partial<Pick<BuiltRepo, "chains">>,
): FakePort {
  const calls: FakePort["calls"] = [];
  // The ledger holds what the app wrote: each chain as recordComment mirrors it.
  const ledger = memoryLedger();
  let version = 0;
  for (const [issue, chain] of repo.chains ?? [])
    ledger.chains.set(issue, {
      tip: `fixture-${++version}`,
      entries: chain.map((e) => ({ jws: e.jws, text: RECORD_TEXT })),
    });
  const unused = (name: string) => () => {
    throw new Error(`the audit must not call ${name}`);
  };
  const lastUpdate = (issue: IssueSummary) => {
    const times = (repo.comments.get(issue.number) ?? []).map((c) => Date.parse(c.created_at));
    return Math.max(Date.parse(issue.created_at), ...times);
  };
  return {
    owner: OWNER,
    repo: REPO,
    ledger,
    calls,
    async listIssues(filter) {
      calls.push({ method: "listIssues", args: [filter] });
      return repo.issues.filter(
        (i) =>
          (!filter.labels || filter.labels.split(",").every((l) => i.labels.includes(l))) &&
          (filter.state === "all" || i.state === (filter.state ?? "open")) &&
          (!filter.since || lastUpdate(i) >= Date.parse(filter.since)),
      );
    },
    async listComments(issue) {
      calls.push({ method: "listComments", args: [issue] });
      const found = repo.comments.get(issue);
      if (!found && !repo.issues.some((i) => i.number === issue)) throw notFound(`issue ${issue}`);
      return [...(found ?? [])];
    },
    async getIssue(issue) {
      calls.push({ method: "getIssue", args: [issue] });
      const found = repo.issues.find((i) => i.number === issue);
      if (!found) throw notFound(`issue ${issue}`);
      return found;
    },
    repository: unused("repository"),
    readIssueAnywhere: unused("readIssueAnywhere"),
    readFile: unused("readFile"),
    listDirectory: unused("listDirectory"),
    createIssue: unused("createIssue"),
    updateIssue: unused("updateIssue"),
    createComment: unused("createComment"),
    updateComment: unused("updateComment"),
    react: unused("react"),
    addLabels: unused("addLabels"),
    removeLabel: unused("removeLabel"),
    teamMembers: unused("teamMembers"),
    teamPermission: unused("teamPermission"),
    sibling: unused("sibling"),
    listLabels: unused("listLabels"),
    createLabel: unused("createLabel"),
    permission: unused("permission"),
    dispatchWorkflow: unused("dispatchWorkflow"),
    sshSigningKeys: unused("sshSigningKeys"),
    getWorkflowRun: unused("getWorkflowRun"),
    reviewDeploymentProtection: unused("reviewDeploymentProtection"),
  };
}

/** Replaces one character of the JWS payload so the signature no longer matches (an edit). */
export function tamperPayload(jws: string): string {
  const [h, p, s] = jws.split(".") as [string, string, string];
  const payload = JSON.parse(Buffer.from(p, "base64url").toString("utf8")) as { event: { actor: string } };
  payload.event.actor = "someone-else";
  return `${h}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.${s}`;
}
