import type { Caller } from "../auth.ts";
import type { EmulatorContext } from "../context.ts";
import { issueJson, labelJson } from "../shapes.ts";
import { HttpError, notFound } from "../router.ts";
import {
  hasRole,
  nodeId,
  type IssueRecord,
  type LabelRecord,
  type RepoPermission,
  type RepoRecord,
  type UserRecord,
} from "../state.ts";

export function issueFrom(repo: RepoRecord, numberParam: string | undefined): IssueRecord {
  if (!numberParam || !/^\d+$/.test(numberParam)) throw notFound();
  const issue = repo.issues.get(Number(numberParam));
  if (!issue) throw notFound();
  return issue;
}

/** Users need the role; apps were already checked for their permission by the router. */
export function callerHas(ctx: EmulatorContext, caller: Caller, role: RepoPermission): boolean {
  return caller.kind !== "user" || hasRole(ctx.state, caller.actor.login, role);
}

export function forbidden(message: string): HttpError {
  return new HttpError(403, message);
}

const COLOR = /^[0-9a-fA-F]{6}$/;

export function createLabel(
  ctx: EmulatorContext,
  repo: RepoRecord,
  name: string,
  color = "ededed",
  description: string | null = null,
): LabelRecord {
  if (!name.trim())
    throw new HttpError(422, "Validation Failed", {
      errors: [{ resource: "Label", field: "name", code: "missing_field" }],
    });
  if (!COLOR.test(color))
    throw new HttpError(422, "Validation Failed", {
      errors: [{ resource: "Label", field: "color", code: "invalid" }],
    });
  const id = ctx.state.nextId("label");
  const label: LabelRecord = {
    id,
    node_id: nodeId("LA", id),
    name,
    color: color.toLowerCase(),
    description,
    default: false,
  };
  repo.labels.set(name.toLowerCase(), label);
  return label;
}

/** Adding an unknown label to an issue creates it, as GitHub does. */
export function ensureLabel(ctx: EmulatorContext, repo: RepoRecord, name: string): LabelRecord {
  return repo.labels.get(name.toLowerCase()) ?? createLabel(ctx, repo, name);
}

export function emitIssueEvent(
  ctx: EmulatorContext,
  action: string,
  repo: RepoRecord,
  issue: IssueRecord,
  sender: UserRecord,
  extra: Record<string, unknown> = {},
): void {
  ctx.emit("issues", { action, issue: issueJson(ctx.urls, ctx.state, repo, issue), ...extra }, repo, sender);
}

/** Labels take names or `{name}` objects, as GitHub accepts both. */
export function labelNames(value: unknown, field = "labels"): string[] {
  const list = Array.isArray(value)
    ? value
    : value && typeof value === "object" && Array.isArray((value as { labels?: unknown }).labels)
      ? (value as { labels: unknown[] }).labels
      : null;
  if (!list)
    throw new HttpError(422, `Invalid request.\n\nFor '${field}', an array of label names is expected.`);
  return list.map((item) => {
    const name =
      typeof item === "string"
        ? item
        : item && typeof item === "object" && typeof (item as { name?: unknown }).name === "string"
          ? (item as { name: string }).name
          : null;
    if (name === null)
      throw new HttpError(
        422,
        `Invalid request.\n\nFor '${field}', ${JSON.stringify(item)} is not a label name.`,
      );
    return name;
  });
}

/** Adds labels to an issue (creating unknown ones), emitting `labeled` for each new one. */
export function addLabels(
  ctx: EmulatorContext,
  repo: RepoRecord,
  issue: IssueRecord,
  names: string[],
  sender: UserRecord,
): void {
  for (const name of names) {
    const label = ensureLabel(ctx, repo, name);
    if (issue.labels.some((l) => l.toLowerCase() === label.name.toLowerCase())) continue;
    issue.labels.push(label.name);
    issue.updated_at = ctx.clock.now();
    emitIssueEvent(ctx, "labeled", repo, issue, sender, { label: labelJson(ctx.urls, repo, label) });
  }
}

export function removeLabel(
  ctx: EmulatorContext,
  repo: RepoRecord,
  issue: IssueRecord,
  name: string,
  sender: UserRecord,
): boolean {
  const index = issue.labels.findIndex((l) => l.toLowerCase() === name.toLowerCase());
  if (index === -1) return false;
  issue.labels.splice(index, 1);
  issue.updated_at = ctx.clock.now();
  const label = repo.labels.get(name.toLowerCase());
  emitIssueEvent(
    ctx,
    "unlabeled",
    repo,
    issue,
    sender,
    label ? { label: labelJson(ctx.urls, repo, label) } : {},
  );
  return true;
}

export function issueLabelsJson(ctx: EmulatorContext, repo: RepoRecord, issue: IssueRecord) {
  return issue.labels
    .map((name) => repo.labels.get(name.toLowerCase()))
    .filter((l): l is LabelRecord => Boolean(l))
    .map((l) => labelJson(ctx.urls, repo, l));
}
