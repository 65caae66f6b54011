import { parse } from "yaml";
import type { EmulatorContext } from "./context.ts";
import { HttpError } from "./router.ts";
import { openIssue } from "./routes/issues.ts";
import {
  findRepo,
  hasRole,
  type IssueRecord,
  type LabelRecord,
  type RepoRecord,
  type UserRecord,
} from "./state.ts";

const TEMPLATE_DIR = ".github/ISSUE_TEMPLATE/";

/** Where GitHub found a template: the repository's own folder, or the owner's public `.github` repository. */
export interface FoundTemplate {
  repo: RepoRecord;
  path: string;
  text: string;
}

/**
 * The template GitHub's "New issue" page offers under this file name. `name` may omit the extension
 * (`.yml` and `.yaml` are both templates). A repository with any file in its own
 * `.github/ISSUE_TEMPLATE/` (a `config.yml` too) uses none of the owner's defaults.
 */
export function findIssueTemplate(
  ctx: EmulatorContext,
  repo: RepoRecord,
  name: string,
): FoundTemplate | null {
  const candidates = /\.ya?ml$/.test(name) ? [name] : [`${name}.yml`, `${name}.yaml`];
  const own = Object.keys(repo.files).some((p) => p.startsWith(TEMPLATE_DIR));
  const source = own ? repo : findRepo(ctx.state, repo.owner.login, ".github");
  if (!source || (source !== repo && source.private)) return null;
  for (const file of candidates) {
    const text = source.files[`${TEMPLATE_DIR}${file}`];
    if (text !== undefined) return { repo: source, path: `${TEMPLATE_DIR}${file}`, text };
  }
  return null;
}

/** A template's `labels:`, written as a list or a comma-separated string. */
function templateLabels(template: unknown): string[] {
  const labels =
    template && typeof template === "object" ? (template as { labels?: unknown }).labels : undefined;
  const list = Array.isArray(labels) ? labels : typeof labels === "string" ? labels.split(",") : [];
  return list
    .filter((l): l is string => typeof l === "string")
    .map((l) => l.trim())
    .filter(Boolean);
}

/**
 * Someone submits an issue form in the web UI. What GitHub documents and the REST API does not
 * show: the template's labels are applied whoever submits (read access is enough), but only those
 * that already exist in the repository. A missing label is not created and not added.
 */
export function submitIssueForm(
  ctx: EmulatorContext,
  repo: RepoRecord,
  author: UserRecord,
  input: { template: string; title?: string; body: string },
): IssueRecord {
  if (!hasRole(ctx.state, author.login, "read")) throw new HttpError(404, "Not Found");
  const found = findIssueTemplate(ctx, repo, input.template);
  if (!found)
    throw new Error(
      `no issue template "${input.template}" for ${repo.full_name} (looked in its ${TEMPLATE_DIR} and the owner's public .github repository)`,
    );
  let template: unknown;
  try {
    template = parse(found.text);
  } catch (error) {
    throw new Error(`the issue template ${found.path} is not YAML: ${(error as Error).message}`);
  }
  const labels = templateLabels(template)
    .map((name) => repo.labels.get(name.toLowerCase()))
    .filter((l): l is LabelRecord => l !== undefined);
  const defaultTitle =
    template && typeof template === "object" && typeof (template as { title?: unknown }).title === "string"
      ? (template as { title: string }).title
      : "";
  const title = input.title ?? defaultTitle;
  if (!title)
    throw new HttpError(422, "Validation Failed", {
      errors: [{ resource: "Issue", field: "title", code: "missing_field" }],
    });
  return openIssue(ctx, repo, { title, body: input.body, author, app: null, labels });
}
