import type { SignedEntry } from "../../core/audit-chain.ts";
import type { Eligibility, Permission } from "../../core/approvers.ts";
import { eligibleApprovers, policyOwners } from "./policy-approvers.ts";
import type { CommentStamp } from "../../core/approval-freshness.ts";
import { readRecordMarker } from "../../core/record-marker.ts";
import type { Actor } from "../../core/approval-rules.ts";
import type { LifecycleEvent, TimedEvent } from "../../core/lifecycle-events.ts";
import { applyEvent, initialState, isIssueEvent, type RequestState } from "../../core/lifecycle.ts";
import { renderStatus, STATUS_MARKER } from "../../core/render-status.ts";
import type { Refusal } from "../../core/refusal.ts";
import type { Policy } from "../../core/types.ts";
import type { BreakglassDeps } from "./deps.ts";
import {
  goneIssue,
  type GitHubPort,
  type IssueComment,
  type IssueSummary,
} from "../../github/github-port.ts";
import {
  isAppComment,
  mirrorBody,
  readHistory,
  type History,
  type MirrorProblem,
} from "../../github/issue-records.ts";
import { LedgerUnavailable, type LedgerLine } from "../../github/ledger.ts";
import { appendEntry } from "../../core/audit-chain.ts";
import { loadRepoConfig, type RepoConfig } from "./repo-config.ts";
import { deferWrites } from "./write-priority.ts";

export { AUDIT_LABEL, DRILL_LABEL, REQUEST_LABEL } from "../../core/labels.ts";

const isGone = (error: unknown): boolean => [404, 410].includes((error as { status?: number })?.status ?? 0);

/** Appends that lose a compare-and-swap are re-decided on the fresh ledger; this many tries at most. */
const MAX_APPEND_ATTEMPTS = 5;
import {
  AUDIT_LABEL,
  DRILL_LABEL,
  REQUEST_LABEL,
  ALL_STATUS_LABELS,
  statusLabel,
} from "../../core/labels.ts";
import { isSettled } from "../../core/request-index.ts";
import { summariseUses, type UseRecord } from "../../core/usage.ts";
import { recordsTampered, tamperedList, unpostedRecordsPosted } from "../../core/messages/record-messages.ts";

export interface RecordOptions {
  /**
   * Checked on the ledger as just read, before each append attempt: a refusal here means what the
   * event records is no longer current (a newer delivery decides), and nothing is appended.
   */
  stillCurrent?: (session: RequestSession) => Promise<Refusal | null>;
  /**
   * The mirror comment waits until `flushMirrors` (publish calls it): the entry counts once it is in
   * the ledger, and a handler whose next write someone is waiting for (the grant workflow's
   * dispatch) posts the readable copy after it. Never for a record an approval is checked against
   * (the request's content): the approver must be able to see it first.
   */
  deferMirror?: boolean;
}

/** What every view of one issue's session shares (RequestSession.forPart). */
interface SessionStore {
  history: History;
  pendingMirrors: LedgerLine[];
  pendingNotices: string[];
  gone: boolean;
}

/** How publish closes the issue, in the same write as its labels. */
export type CloseAs = "completed" | "not_planned";

/**
 * One request issue while a handler works on it: its config, its verified history, and the
 * operations that change it. Each change is a signed record first, then labels and the status
 * comment follow from the new state.
 */
export class RequestSession {
  private constructor(
    readonly deps: BreakglassDeps,
    readonly port: GitHubPort,
    readonly issue: IssueSummary,
    readonly config: RepoConfig,
    private readonly store: SessionStore,
    /**
     * For a request naming several resources: the resource (part) this view acts on. Its `state`,
     * `events` and records are that part's; everything about the issue (comments, status comment,
     * labels, closing) is shared with the other views of the same issue. null: the request itself.
     */
    readonly part: string | null = null,
  ) {}

  private get history(): History {
    return this.store.history;
  }
  private set history(history: History) {
    this.store.history = history;
  }
  private get pendingMirrors(): LedgerLine[] {
    return this.store.pendingMirrors;
  }
  private set pendingMirrors(lines: LedgerLine[]) {
    this.store.pendingMirrors = lines;
  }
  /** Notices to post after the deferred mirror comments (queueUnmirrored). */
  private get pendingNotices(): string[] {
    return this.store.pendingNotices;
  }
  private set pendingNotices(notices: string[]) {
    this.store.pendingNotices = notices;
  }

  /** The view of one resource of a request naming several (see `part`); sharing this session's issue. */
  forPart(part: string): RequestSession {
    return new RequestSession(this.deps, this.port, this.issue, this.config, this.store, part);
  }

  /** The view of the whole request (the issue), whichever part this one acts on. */
  whole(): RequestSession {
    return this.part === null
      ? this
      : new RequestSession(this.deps, this.port, this.issue, this.config, this.store);
  }

  /**
   * The request's parts, each as a view acting on it: one per resource of a request naming several,
   * or the session itself for a request of one resource.
   */
  parts(): RequestSession[] {
    const parts = this.history.state.parts;
    return parts === null ? [this] : Object.keys(parts).map((part) => this.forPart(part));
  }

  /** The whole request's state, whatever part this view acts on. */
  get wholeState(): RequestState {
    return this.history.state;
  }

  /**
   * `issue` and `config` may be passed when the caller just read them (a sweep reads the repository's
   * configuration once for all its requests); otherwise they are read now.
   */
  static async open(
    deps: BreakglassDeps,
    port: GitHubPort,
    issueNumber: number,
    issue?: IssueSummary,
    config?: RepoConfig,
  ): Promise<RequestSession> {
    // An issue that was deleted or transferred away is gone from here, but its ledger entries are not:
    // the request is still read (and a live grant revoked) from the ledger alone.
    const [summary, loaded, comments] = await Promise.all([
      issue
        ? Promise.resolve(issue)
        : port
            .getIssue(issueNumber)
            .catch((error: unknown) => (isGone(error) ? null : Promise.reject(error))),
      config ? Promise.resolve(config) : loadRepoConfig(port),
      port.listComments(issueNumber).catch((error: unknown) => (isGone(error) ? [] : Promise.reject(error))),
    ]);
    const history = await readHistory(port, issueNumber, deps.identity, deps.jwks, comments);
    return new RequestSession(deps, port, summary ?? goneIssue(port, issueNumber), loaded, {
      history,
      pendingMirrors: [],
      pendingNotices: [],
      gone: summary === null,
    });
  }

  /** The issue no longer exists here (deleted or transferred): nothing can be shown on it, the ledger still works. */
  get gone(): boolean {
    return this.store.gone;
  }
  set gone(gone: boolean) {
    this.store.gone = gone;
  }

  get number(): number {
    return this.issue.number;
  }
  /** The ledger version this session last read or wrote (null: no entry yet). */
  get ledgerTip(): string | null {
    return this.history.ledger.tip;
  }

  /** This view's request: the part it acts on, or the request itself. */
  get state(): RequestState {
    const whole = this.history.state;
    return this.part === null ? whole : (whole.parts?.[this.part] ?? initialState());
  }
  get chain(): readonly SignedEntry[] {
    return this.history.chain;
  }
  /** The events of this view's request (a part's own events only, for a part). */
  get events(): readonly TimedEvent[] {
    return this.part === null ? this.history.events : this.history.events.filter((e) => e.part === this.part);
  }
  get problems(): readonly string[] {
    return this.history.problems;
  }
  /** Ledger entries whose comment is gone or changed (see readHistory). */
  get mirror(): readonly MirrorProblem[] {
    return this.history.mirror;
  }
  get comments(): readonly IssueComment[] {
    return this.history.comments;
  }
  get url(): string {
    return this.issue.html_url;
  }
  nowIso(): string {
    return new Date(this.deps.now()).toISOString();
  }
  hasRecord(id: string): boolean {
    return this.history.chain.some((e) => e.entry.id === id);
  }

  policy(resource = this.state.request?.resource): Policy | null {
    return resource ? (this.config.policies.get(resource) ?? null) : null;
  }

  /** The owners of the policy file, from CODEOWNERS (or the policy's explicit list). */
  owners(policy: Policy): string[] {
    return policyOwners(this.config, policy);
  }

  private approverCache = new Map<string, Promise<Map<string, Eligibility>>>();
  /** Who may approve this policy's requests (infra/policy-approvers.ts), cached per session. */
  approvers(policy: Policy): Promise<Map<string, Eligibility>> {
    let found = this.approverCache.get(policy.resource);
    if (!found) {
      found = eligibleApprovers(this.port, this.config, policy, (teams) => this.teamPermissions(teams));
      this.approverCache.set(policy.resource, found);
    }
    return found;
  }

  private teamPermissionCache = new Map<string, Promise<Permission>>();
  /** Each team's own permission on the repository, by lower-case "@org/slug" (cached per session). */
  async teamPermissions(teams: readonly string[]): Promise<Map<string, Permission>> {
    const pairs = await Promise.all(
      teams.map(async (team) => {
        const key = team.toLowerCase();
        let found = this.teamPermissionCache.get(key);
        if (!found) {
          found = this.port.teamPermission(team);
          this.teamPermissionCache.set(key, found);
        }
        return [key, await found] as const;
      }),
    );
    return new Map(pairs);
  }

  /**
   * GitHub's stamp (id, created_at) on the app's comment that carries the latest record of this
   * type, or null when there is none or its comment is gone.
   */
  recordStamp(type: LifecycleEvent["type"]): CommentStamp | null {
    const entry = [...this.history.chain]
      .reverse()
      .find(
        (e) =>
          (e.entry.event as LifecycleEvent).type === type &&
          (this.part === null || (e.entry.event as { part?: string }).part === this.part),
      );
    if (!entry) return null;
    const comment = this.history.comments.find(
      (c) => isAppComment(c, this.deps.identity) && readRecordMarker(c.body) === entry.jws,
    );
    return comment ? { id: comment.id, created_at: comment.created_at } : null;
  }

  async actor(user: { login: string; type: string }): Promise<Actor> {
    const policy = this.policy();
    const eligible = policy ? await this.approvers(policy) : new Map<string, Eligibility>();
    const isPerson = user.type === "User";
    return {
      login: user.login,
      type: user.type,
      permission: isPerson ? await this.port.permission(user.login) : "none",
      eligibility: eligible.get(user.login.toLowerCase()) ?? null,
    };
  }

  /**
   * Signs one event and appends it to the ledger, then folds it and posts its mirror comment. The
   * append is a compare-and-swap on the version this session read: when another writer (a replica,
   * the sweep) appended first, the session reads the ledger again and decides on the fresh state, so
   * no two processes ever write entry N. Refused transitions are returned, not recorded: the chain
   * only ever holds events the lifecycle accepts. `id` makes replays (duplicate webhooks, a sweep
   * racing the app) no-ops. A ledger that cannot be written throws (LedgerUnavailable): nothing was
   * recorded, and the caller must not act as if it had been.
   */
  async record(
    id: string,
    event: LifecycleEvent,
    text: string,
    options: RecordOptions = {},
  ): Promise<{ ok: true; duplicate: boolean } | { ok: false; refusal: Refusal; raced?: boolean }> {
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt++) {
      if (this.hasRecord(id)) return { ok: true, duplicate: true };
      // Asked after every read of the ledger, so what it reads from GitHub is newer than the version
      // the compare-and-swap below appends on: a change GitHub made later moves the ledger first.
      const stale = options.stillCurrent ? await options.stillCurrent(this) : null;
      if (stale) return { ok: false, refusal: stale, raced: true };
      const last = this.history.chain.at(-1)?.entry.at;
      // Records never go back in time, even if this replica's clock is behind the last writer's.
      const at = last && last > this.nowIso() ? last : this.nowIso();
      // A part's own events name it; what is the issue's (its closing, its review) does not.
      const tagged: LifecycleEvent =
        this.part !== null && !isIssueEvent(event.type)
          ? ({ ...event, part: this.part } as unknown as LifecycleEvent)
          : event;
      const applied = applyEvent(this.history.state, { ...tagged, at });
      if (!applied.ok) return { ok: false, refusal: applied.error, raced: attempt > 0 };
      const signed = await appendEntry(
        this.history.chain,
        { at, repo: `${this.port.owner}/${this.port.repo}`, issue: this.number, id, event: tagged },
        this.deps.signer,
      );
      const line = { jws: signed.jws, text };
      const written = await this.port.ledger.append(this.number, this.history.ledger, line);
      if (!written.ok) {
        this.history = await readHistory(this.port, this.number, this.deps.identity, this.deps.jwks);
        // GitHub may apply a write and still answer with an error (then 409 on the ledger's retry): the
        // entry is this very signature, so it is this process's record, not another writer's.
        if (this.history.chain.some((c) => c.jws === signed.jws)) {
          this.history = { ...this.history, mirror: this.history.mirror.filter((p) => p.id !== id) };
          if (options.deferMirror) this.pendingMirrors.push(line);
          else {
            await this.flushMirrors();
            await this.postMirror(line);
          }
          return { ok: true, duplicate: false };
        }
        continue;
      }
      // A settled request that moves again (reopened, say) goes back into the index for the sweep.
      if (this.history.ledger.tip !== null && isSettled(this.history.state) && !isSettled(applied.value))
        await this.port.ledger.setIndexed(this.number, true);
      this.history = {
        ...this.history,
        ledger: written.chain,
        chain: [...this.history.chain, signed],
        events: [...this.history.events, { ...tagged, at }],
        state: applied.value,
      };
      if (options.deferMirror) this.pendingMirrors.push(line);
      else {
        await this.flushMirrors();
        await this.postMirror(line);
      }
      return { ok: true, duplicate: false };
    }
    throw new LedgerUnavailable(
      this.port.ledger.location,
      new Error(`#${this.number}: the ledger kept moving under ${MAX_APPEND_ATTEMPTS} attempts to append`),
    );
  }

  /** Posts the mirror comments that were deferred (RecordOptions.deferMirror), in the ledger's order, behind every critical write. */
  async flushMirrors(): Promise<void> {
    if (this.pendingMirrors.length === 0 && this.pendingNotices.length === 0) return;
    const lines = this.pendingMirrors;
    const notices = this.pendingNotices;
    this.pendingMirrors = [];
    this.pendingNotices = [];
    await deferWrites(async () => {
      for (const line of lines) await this.postMirror(line);
      for (const notice of notices) await this.port.createComment(this.number, notice).catch(() => undefined);
    });
  }

  /**
   * The readable copy of a ledger entry. The entry already counts; a comment that cannot be posted
   * (the issue is locked, or holds GitHub's maximum of 2,500 comments) is reported and restored by
   * the tamper check later, never retried as a second record.
   */
  private async postMirror(line: LedgerLine): Promise<void> {
    const body = mirrorBody(line);
    try {
      const created = await this.port.createComment(this.number, body);
      this.history = { ...this.history, comments: [...this.history.comments, { ...created, body }] };
    } catch (error) {
      this.history = {
        ...this.history,
        problems: [
          ...this.history.problems,
          `the comment of a ledger entry could not be posted: ${(error as Error).message}`,
        ],
      };
    }
  }

  /**
   * Records an event whose side effect must happen once across replicas (a minted credential, a
   * review issue). The ledger's compare-and-swap decides: this process's record counts unless another
   * writer's record of the same event got there first, in which case the session now holds the
   * winner's history and the caller undoes its side effect.
   */
  async recordAndConfirm(
    id: string,
    event: LifecycleEvent,
    text: string,
    options: RecordOptions = {},
  ): Promise<{ ok: true; won: boolean } | { ok: false; refusal: Refusal }> {
    const recorded = await this.record(id, event, text, options);
    // Refused only after another writer's append moved the ledger: that writer's record counts.
    if (!recorded.ok) return recorded.raced ? { ok: true, won: false } : recorded;
    return { ok: true, won: !recorded.duplicate };
  }

  /**
   * A process that recorded a command and died before posting its deferred mirror comments leaves
   * entries without comments. The catch-up that finishes the command posts them quietly (with the next
   * publish): the entries recorded for the command `fromId` names and after it, never older ones, whose
   * missing comment would be someone's deletion, which restoreMirror reports. Returns how many.
   */
  queueUnmirrored(fromId: string): number {
    const from =
      this.history.mirror.find((p) => p.id === fromId)?.seq ??
      this.history.chain.findIndex((c) => c.entry.id === fromId);
    if (from < 0) return 0;
    const unposted = this.history.mirror.filter((p) => p.kind === "missing" && p.seq >= from);
    for (const p of unposted) this.pendingMirrors.push(this.history.ledger.entries[p.seq]!);
    this.history = { ...this.history, mirror: this.history.mirror.filter((p) => !unposted.includes(p)) };
    // Never posted (a crash) and posted-then-deleted while the app was down look the same: say so
    // plainly on the issue, without the tamper alarm and its notification.
    if (unposted.length) this.pendingNotices.push(unpostedRecordsPosted(this.port.ledger.location, unposted));
    return unposted.length;
  }

  /**
   * Puts back every record comment that someone deleted or edited, exactly as the ledger holds it,
   * and says so on the issue (naming who did it when the webhook told us) and to the policy's
   * notification targets. The request's state never changes: it is the ledger's. Returns what was
   * restored.
   */
  async restoreMirror(
    by?: { login: string; change: "edited" | "deleted"; commentId?: number; previousBody?: string },
    options: { settledMs?: number } = {},
  ): Promise<MirrorProblem[]> {
    // Without a webhook naming a change, a young entry may simply have a comment still being posted
    // by the replica that wrote it: only entries older than `settledMs` count as tampered with.
    const settled = (p: MirrorProblem) =>
      options.settledMs === undefined ||
      Date.parse(this.history.chain[p.seq]?.entry.at ?? "") <= this.deps.now() - options.settledMs;
    const problems = this.history.mirror.filter(settled);
    if (problems.length === 0) return [];
    // An edit that took the record out of its comment: the webhook's previous body says which entry it was.
    const editedFrom = by?.change === "edited" && by.previousBody ? readRecordMarker(by.previousBody) : null;
    for (const problem of problems) {
      const line = this.history.ledger.entries[problem.seq]!;
      const inPlace =
        problem.kind === "edited"
          ? problem.commentId
          : editedFrom === line.jws
            ? (by?.commentId ?? null)
            : null;
      if (inPlace !== null) await this.port.updateComment(inPlace, mirrorBody(line));
      else await this.postMirror(line);
    }
    this.history = { ...this.history, mirror: this.history.mirror.filter((p) => !problems.includes(p)) };
    const what = tamperedList(problems);
    await this.port
      .createComment(
        this.number,
        recordsTampered({
          by,
          problems,
          ledgerLocation: this.port.ledger.location,
          status: this.state.status,
        }),
      )
      .catch(() => undefined);
    // A request naming several resources has no one policy: each resource's targets are told.
    const targets = this.whole()
      .parts()
      .flatMap((view) => view.policy()?.notify ?? []);
    const unique = [...new Map(targets.map((t) => [JSON.stringify(t), t] as const)).values()];
    await this.deps.notifier.notify(unique, {
      event: "records_tampered",
      repository: `${this.port.owner}/${this.port.repo}`,
      issue: this.number,
      url: this.url,
      summary: `${by ? `${by.login} ${by.change} ` : ""}record comment(s) ${what}; restored from the ledger, state unchanged (${this.state.status})`,
    });
    return problems;
  }

  private usesRead: Promise<UseRecord[]> | null = null;
  /** What the grant's credential was used for, from the ledger (read once per session, see forgetUses). */
  uses(): Promise<UseRecord[]> {
    const grant = this.state.grant;
    if (!grant) return Promise.resolve([]);
    // The ledger keeps an issue's uses together: a part's are those of its own credential.
    this.usesRead ??= this.port.ledger
      .uses(this.number)
      .then((uses) =>
        this.part === null ? uses : uses.filter((u) => u.credential_id === grant.credential_id),
      );
    return this.usesRead;
  }
  forgetUses(): void {
    this.usesRead = null;
  }

  /**
   * Brings the status comment and labels in line with the state, posting any deferred mirror
   * comments first; `closeAs` closes the issue in the same write as its labels. The status comment
   * is written only when its text changes, labels only when they differ, and at most one label
   * write is made (queued behind critical writes: labels are display only).
   */
  async publish(options: { closeAs?: CloseAs } = {}): Promise<void> {
    await this.flushMirrors();
    if (this.gone) return;
    // The status comment is the issue's: the whole request, each part of one naming several resources.
    const whole = this.history.state;
    const root =
      this.part === null
        ? this
        : new RequestSession(this.deps, this.port, this.issue, this.config, this.store);
    const about = async (view: RequestSession) => {
      const policy = view.policy();
      const usage = view.state.grant ? summariseUses(await view.uses()) : undefined;
      return { policy, approvers: policy ? [...view.owners(policy)] : [], ...(usage ? { usage } : {}) };
    };
    const own = await about(root);
    const parts =
      whole.parts === null
        ? {}
        : {
            parts: Object.fromEntries(
              await Promise.all(root.parts().map(async (v) => [v.part!, await about(v)] as const)),
            ),
          };
    const body = renderStatus({
      state: whole,
      policy: own.policy,
      approvers: own.approvers,
      now: this.deps.now(),
      issueUrl: this.url,
      ...(own.usage ? { usage: own.usage } : {}),
      ...parts,
    });
    const existing = this.history.comments.find(
      (c) => isAppComment(c, this.deps.identity) && c.body.startsWith(STATUS_MARKER),
    );
    if (existing) {
      if (existing.body !== body) {
        await this.port.updateComment(existing.id, body);
        existing.body = body;
      }
    } else {
      const created = await this.port.createComment(this.number, body);
      this.history = { ...this.history, comments: [...this.history.comments, { ...created, body }] };
    }
    await deferWrites(() => this.publishLabels(options.closeAs));
  }

  /**
   * Labels are display only, and the app's own: they show the ledger's state, whatever anyone with
   * triage access added or took off (a `breakglass:audit` on a request, a status label changed by hand).
   */
  private async publishLabels(closeAs: CloseAs | undefined): Promise<void> {
    const whole = this.history.state;
    const wanted = statusLabel(whole.status);
    const drill =
      whole.parts === null
        ? whole.request?.drill === true
        : Object.values(whole.parts).some((p) => p.request?.drill === true);
    const plan = (labels: ReadonlySet<string>) => {
      const stale = [
        ...ALL_STATUS_LABELS.filter((l) => l !== wanted),
        AUDIT_LABEL,
        ...(drill ? [] : [DRILL_LABEL]),
      ].filter((l) => labels.has(l));
      const add =
        whole.status === "new"
          ? []
          : [REQUEST_LABEL, wanted, ...(drill ? [DRILL_LABEL] : [])].filter((l) => !labels.has(l));
      return { stale, add, next: [...[...labels].filter((l) => !stale.includes(l)), ...add] };
    };
    let { stale, add, next } = plan(new Set(this.issue.labels));
    // One removal or one addition is one write as it is; anything more becomes one update.
    if (closeAs || stale.length > 1 || (stale.length && add.length)) {
      // One write sets the whole list (and closes): read the labels just before it, so a label someone
      // else added meanwhile is kept. A read is not paced; each write saved is a second under load.
      if (stale.length || add.length)
        ({ stale, add, next } = plan(new Set((await this.port.getIssue(this.number)).labels)));
      const labels = stale.length || add.length ? { labels: next } : {};
      if (closeAs || labels.labels)
        await this.port.updateIssue(this.number, {
          ...(closeAs ? { state: "closed" as const, state_reason: closeAs } : {}),
          ...labels,
        });
    } else if (stale.length) await this.port.removeLabel(this.number, stale[0]!);
    else if (add.length) await this.port.addLabels(this.number, add);
    this.issue.labels.splice(0, this.issue.labels.length, ...next);
  }
}
