import type { Clock } from "../clock.ts";
import type { Caller, TokenStore } from "./auth.ts";
import { organizationJson, repositoryJson, userJson, type Urls } from "./shapes.ts";
import type { AppRecord, EmulatorState, RepoRecord, UserRecord, WorkflowRun } from "./state.ts";
import type { DeliveryRecord } from "./webhooks.ts";

/** What route handlers reach: the state, the clocks, the tokens, and the way out to webhooks. */
export interface EmulatorContext {
  state: EmulatorState;
  urls: Urls;
  /** The scenario clock: created_at, updated_at, closed_at. */
  clock: Clock;
  /** Judges credential lifetimes (see EmulatorOptions.credentialClock). */
  credentialClock: Clock;
  tokens: TokenStore;
  /** Queues the webhook GitHub would send; repository, organization, sender and installation are added. */
  emit(
    event: string,
    payload: Record<string, unknown>,
    repo: RepoRecord | null,
    sender: UserRecord,
  ): DeliveryRecord;
  /** A workflow run started (its concurrency group let it): hand it to whatever runs its job. */
  runStarted(run: WorkflowRun): void;
}

/** The user an action is attributed to: the person, or the app's bot for installation tokens. */
export function actorOf(caller: Caller): UserRecord {
  if (caller.kind === "app") return caller.app.bot;
  return caller.actor;
}

/** The app that acted, for `performed_via_github_app`. */
export function appOf(caller: Caller): AppRecord | null {
  if (caller.kind === "installation") return caller.app;
  // A user-to-server token: the person is the author, and GitHub names the app that acted for them.
  return caller.kind === "user" ? caller.token.app : null;
}

/** The fields every repository webhook carries, in GitHub's order after the event's own. */
export function webhookEnvelope(
  ctx: Pick<EmulatorContext, "state" | "urls">,
  repo: RepoRecord | null,
  sender: UserRecord,
) {
  return {
    ...(repo ? { repository: repositoryJson(ctx.urls, ctx.state, repo) } : {}),
    organization: organizationJson(ctx.urls, ctx.state.org),
    sender: userJson(ctx.urls, sender),
    installation: { id: ctx.state.installation.id, node_id: ctx.state.installation.node_id },
  };
}
