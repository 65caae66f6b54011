import yaml from "js-yaml";
import type { Octokit } from "@octokit/rest";
import { UserError } from "./io.ts";
import { ISSUE_FORM } from "./repo-files.ts";
import { withGitHub } from "./github-client.ts";

export interface RequestAnswers {
  resource: string;
  role: string;
  duration?: string | undefined;
  severity: string;
  justification: string;
  incident?: string | undefined;
  drill: boolean;
  /** More resources of the same request, a `<resource> <role> [duration]` each (the form's More resources). */
  more?: string[] | undefined;
  /** A retroactive record (`breakglass retro`): when the access taken outside Breakglass started and ended. */
  retroactive?: { started: string; ended: string } | undefined;
}

interface FormElement {
  type: string;
  id?: string;
  attributes?: { label?: string; options?: Array<string | { label?: string }> };
}

/**
 * The issue body GitHub writes when the repository's request form is submitted with these answers
 * ("Syntax for issue forms"): `### <label>`, a blank line, the value; `_No response_` for an empty
 * input, `None` for an empty dropdown, `- [X]`/`- [ ]` for checkboxes. Dropdown answers must be one
 * of the form's options, as the form itself only offers those.
 */
export function formBody(
  formText: string,
  answers: RequestAnswers,
): { body: string; title: string; labels: string[] } {
  let form: { title?: unknown; labels?: unknown; body?: unknown };
  try {
    form = (yaml.load(formText) ?? {}) as typeof form;
  } catch (error) {
    throw new UserError(
      `the repository's request form (${ISSUE_FORM}) is not YAML: ${(error as Error).message.split("\n")[0]}`,
    );
  }
  const elements = Array.isArray(form.body) ? (form.body as FormElement[]) : [];
  const values: Record<string, string | undefined> = {
    ...answers,
    drill: undefined,
    retroactive: undefined,
    more: answers.more?.length ? answers.more.join("\n") : undefined,
    started: answers.retroactive?.started,
    ended: answers.retroactive?.ended,
  } as Record<string, string | undefined>;
  if (answers.retroactive && !elements.some((e) => e.id === "retroactive"))
    throw new UserError(
      `the repository's request form (${ISSUE_FORM}) has no \`retroactive\` field, so it cannot record access taken outside Breakglass: add the Retroactive record, Started and Ended fields of \`breakglass init\`'s form.`,
    );
  if (answers.more?.length && !elements.some((e) => e.id === "more"))
    throw new UserError(
      `the repository's request form (${ISSUE_FORM}) has no \`more\` field, so one request cannot name several resources: add the More resources field of \`breakglass init\`'s form, or open one request per resource.`,
    );
  const sections: string[] = [];
  for (const element of elements) {
    if (element.type === "markdown" || !element.attributes?.label) continue;
    const label = element.attributes.label;
    if (element.type === "checkboxes") {
      const options = (element.attributes.options ?? []).map((o) =>
        typeof o === "string" ? o : (o.label ?? ""),
      );
      const checked =
        (element.id === "drill" && answers.drill) || (element.id === "retroactive" && !!answers.retroactive);
      sections.push(`### ${label}`, "", ...options.map((o) => `- [${checked ? "X" : " "}] ${o}`), "");
      continue;
    }
    const value = element.id ? values[element.id]?.trim() : undefined;
    if (element.type === "dropdown") {
      const options = (element.attributes.options ?? []).map((o) =>
        typeof o === "string" ? o : (o.label ?? ""),
      );
      if (value && !options.includes(value))
        throw new UserError(
          `${label.toLowerCase()} "${value}" is not one of the form's options: ${options.join(", ")}.`,
        );
      sections.push(`### ${label}`, "", value || "None", "");
      continue;
    }
    sections.push(`### ${label}`, "", value || "_No response_", "");
  }
  const titleTemplate = typeof form.title === "string" ? form.title : "[breakglass] <resource> <role>";
  const title = titleTemplate.replace("<resource>", answers.resource).replace("<role>", answers.role);
  const labels = Array.isArray(form.labels)
    ? form.labels.filter((l): l is string => typeof l === "string")
    : typeof form.labels === "string"
      ? form.labels.split(",").map((l) => l.trim())
      : [];
  return { body: sections.join("\n").trimEnd() + "\n", title, labels };
}

/** Opens the request issue as the form would: its body, title and labels. */
export async function openRequestIssue(
  octokit: Octokit,
  owner: string,
  repo: string,
  answers: RequestAnswers,
): Promise<{ number: number; url: string }> {
  const file = await withGitHub(`${owner}/${repo}'s request form ${ISSUE_FORM}`, () =>
    octokit.rest.repos.getContent({ owner, repo, path: ISSUE_FORM, mediaType: { format: "raw" } }),
  );
  const formText =
    typeof file.data === "string"
      ? file.data
      : Buffer.from((file.data as { content?: string }).content ?? "", "base64").toString("utf8");
  const { body, title, labels } = formBody(formText, answers);
  const { data } = await withGitHub(`${owner}/${repo}`, () =>
    octokit.rest.issues.create({ owner, repo, title, body, labels }),
  );
  return { number: data.number, url: data.html_url };
}
