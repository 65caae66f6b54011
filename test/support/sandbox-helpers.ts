import assert from "node:assert/strict";
import { RequestSession } from "../../src/app/infra/request-session.ts";
import type { RequestState } from "../../src/core/lifecycle.ts";
import { requestFormBody, type RequestFormInput } from "../../src/sandbox/request-body.ts";
import {
  SANDBOX_OWNER as owner,
  SANDBOX_REPO as repo,
  type Sandbox,
} from "../../src/sandbox/start-sandbox.ts";

/** The moves and reads sandbox tests share: people acting on acme/ops, and what the app wrote back. */
export function sandboxHelpers(sb: () => Sandbox) {
  const h = {
    /** An issue opened through REST as `who` (a form's fields, or a raw body), with `labels`; returns its number. */
    async openRequest(
      who: string,
      form: RequestFormInput | string,
      labels = ["breakglass"],
    ): Promise<number> {
      const body = typeof form === "string" ? form : requestFormBody(form);
      const title =
        typeof form === "string" ? "[breakglass] request" : `[breakglass] ${form.resource} ${form.role}`;
      const { data } = await sb().as(who).rest.issues.create({ owner, repo, title, labels, body });
      await sb().settle();
      return data.number;
    },
    async say(who: string, n: number, body: string): Promise<number> {
      const { data } = await sb().as(who).rest.issues.createComment({ owner, repo, issue_number: n, body });
      await sb().settle();
      return data.id;
    },
    /** `breakglass approve` as `who` (signed with their sandbox signing key), as step-up policies require. Returns the comment id. */
    async approve(who: string, n: number, note?: string): Promise<number> {
      return sb().approveSigned(who, n, note ? { note } : {});
    },
    async allComments(n: number) {
      const reader = sb().as("dave");
      return reader.paginate(reader.rest.issues.listComments, {
        owner,
        repo,
        issue_number: n,
        per_page: 100,
      });
    },
    async appTexts(n: number): Promise<string[]> {
      return (await h.allComments(n)).filter((c) => c.user?.login === sb().appLogin).map((c) => c.body ?? "");
    },
    /** The reactions on a comment, sorted: the app's 👀 on receipt, then 🚀 or 👎. */
    async reactions(commentId: number): Promise<string[]> {
      const { data } = await sb()
        .as("dave")
        .rest.reactions.listForIssueComment({ owner, repo, comment_id: commentId });
      return data.map((r) => r.content).sort();
    },
    async issueOf(n: number) {
      return (await sb().as("dave").rest.issues.get({ owner, repo, issue_number: n })).data;
    },
    async labelsOf(n: number): Promise<string[]> {
      return (await h.issueOf(n)).labels.map((l) => (typeof l === "string" ? l : (l.name ?? "")));
    },
    async stateOf(n: number): Promise<RequestState> {
      const port = await sb().app.portFor(owner, repo);
      assert.ok(port, "the app is installed on acme/ops");
      return (await RequestSession.open(sb().app.deps, port, n)).state;
    },
  };
  return h;
}

/** The example policies that require step-up (see test/security/step-up.test.ts for step-up itself). */
export const STEP_UP_POLICIES = [
  "policies/model-guardrail-override.yml",
  "policies/prod-database.yml",
] as const;

/**
 * For suites that test something other than step-up (crash recovery, limits, rotation, uses…) and
 * approve with plain `/approve` comments: the sandbox repository's step-up policies without their
 * `step_up` line, committed to the default branch as a reviewed change would be. Step-up has its own
 * suites, which keep the example policies as they are.
 */
export function withoutStepUp(sb: Sandbox): void {
  for (const path of STEP_UP_POLICIES) {
    const text = sb.emulator.state.repository.files[path];
    if (typeof text !== "string") continue;
    const changed = text.replace(/^[ \t]*step_up:.*\n/gm, "");
    assert.notEqual(changed, text, `${path} has a step_up line to drop`);
    sb.emulator.setFile(path, changed);
  }
}

const LEDGER_COMMIT = "/repos/{owner}/{repo}/git/commits";
const LEDGER_FILE = "/repos/{owner}/{repo}/contents/{path}";

/**
 * Slows the app's next ledger appends by `latencyMs`, at most `times` of each kind: a request's first
 * entry (its commit, POST git/commits) and every later one (its one write, PUT contents).
 */
export function slowLedgerWrites(
  sb: Sandbox,
  latencyMs: number,
  times: number,
): { readonly hits: number; remove(): void } {
  const rules = [
    sb.emulator.faults.add({ method: "POST", route: LEDGER_COMMIT, latencyMs, times }),
    sb.emulator.faults.add({ method: "PUT", route: LEDGER_FILE, latencyMs, times }),
  ];
  return {
    get hits() {
      return rules.reduce((n, r) => n + r.hits, 0);
    },
    remove() {
      for (const r of rules) r.remove();
    },
  };
}

/** The ledger appends made so far (each request's first commit, and later entries' file writes). */
export const ledgerAppends = (sb: Sandbox): number =>
  sb.emulator.apiRequests.filter(
    (r) =>
      (r.method === "POST" && r.route === LEDGER_COMMIT) ||
      (r.method === "PUT" && r.route === LEDGER_FILE && r.status < 300),
  ).length;

/**
 * Ledger appends GitHub refused because another writer appended first: a branch that exists or a
 * ref update that is not a fast-forward (422), or a chain file that is no longer the version read (409).
 */
export const ledgerConflicts = (sb: Sandbox): number =>
  sb.emulator.apiRequests.filter(
    (r) =>
      (r.status === 422 && r.route.startsWith("/repos/{owner}/{repo}/git/refs")) ||
      (r.status === 409 && r.method === "PUT" && r.route === LEDGER_FILE),
  ).length;
