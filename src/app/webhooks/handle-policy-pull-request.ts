import { compileCodeowners, CODEOWNERS_LOCATIONS } from "../../core/codeowners.ts";
import {
  effectiveAccess,
  renderAccessDiff,
  teamsToExpand,
  type ResourceAccess,
} from "../../core/effective-access.ts";
import { escapeInline } from "../../core/markdown.ts";
import { formatPolicyError, loadPolicies } from "../../core/policy.ts";
import { RECIPIENTS_PATH } from "../../core/recipients.ts";
import {
  ISSUE_FORM_PATH,
  validateRepository,
  type Problem,
  type SetupFiles,
} from "../../core/validate-setup.ts";
import { hasWriteAccess } from "../../core/approvers.ts";
import type { CheckAnnotation, PolicyCheckPort } from "./policy-check-port.ts";

/** The name a ruleset or branch protection requires (see README, "Require the policy check"). */
export const POLICY_CHECK_NAME = "Breakglass policy";
export const MAX_ANNOTATIONS_PER_REQUEST = 50;
const MAX_POLICY_FILES = 200;
const MAX_TEAMS = 100;
const MAX_OUTPUT_CHARS = 65_000;

export interface PullRequestEvent {
  number: number;
  head_sha: string;
  /** The base branch (its current tip is what is in force when the base is the default branch). */
  base_ref: string;
  default_branch: string;
}

/** Whether a changed path is one Breakglass reads: policies, CODEOWNERS, the request form, the recipients, its workflows. */
export function isBreakglassPath(path: string, workflows: readonly string[]): boolean {
  return (
    path.startsWith("policies/") ||
    (CODEOWNERS_LOCATIONS as readonly string[]).includes(path) ||
    path === ISSUE_FORM_PATH ||
    path === RECIPIENTS_PATH ||
    workflows.some((w) => path === `.github/workflows/${w}`) ||
    /^\.github\/workflows\/breakglass[^/]*\.ya?ml$/.test(path)
  );
}

/** Everything Breakglass reads, as it is at `ref` (a commit SHA or a branch), through the API. */
async function setupAt(
  port: PolicyCheckPort,
  ref: string,
): Promise<{ files: SetupFiles; truncated: boolean }> {
  const names = (await port.listDirectoryAt(ref, "policies")).filter((n) => /\.ya?ml$/.test(n)).sort();
  const kept = names.slice(0, MAX_POLICY_FILES);
  const policyFiles = await Promise.all(
    kept.map(async (n) => ({
      path: `policies/${n}`,
      text: (await port.readFileAt(ref, `policies/${n}`)) ?? "",
    })),
  );
  let codeownersPath: string | null = null;
  let codeownersText: string | null = null;
  for (const path of CODEOWNERS_LOCATIONS) {
    const text = await port.readFileAt(ref, path);
    if (text !== null) {
      codeownersPath = path;
      codeownersText = text;
      break;
    }
  }
  const [issueFormText, recipientsText] = await Promise.all([
    port.readFileAt(ref, ISSUE_FORM_PATH),
    port.readFileAt(ref, RECIPIENTS_PATH),
  ]);
  return {
    files: { codeownersPath, codeownersText, policyFiles, issueFormText, recipientsText },
    truncated: names.length > kept.length,
  };
}

async function accessOf(
  port: PolicyCheckPort,
  files: SetupFiles,
  teamCache: Map<string, Promise<{ members: string[]; write: boolean }>>,
): Promise<Map<string, ResourceAccess>> {
  const { policies } = loadPolicies(files.policyFiles);
  const codeowners = files.codeownersText === null ? null : compileCodeowners(files.codeownersText);
  const teams = teamsToExpand(policies, codeowners).slice(0, MAX_TEAMS);
  const looked = await Promise.all(
    teams.map(async (t) => {
      let found = teamCache.get(t);
      if (!found) {
        found = Promise.all([port.teamMembers(t), port.teamPermission(t)]).then(([members, permission]) => ({
          members,
          write: hasWriteAccess(permission),
        }));
        teamCache.set(t, found);
      }
      return [t, await found] as const;
    }),
  );
  return effectiveAccess({
    policies,
    codeowners,
    teamMembers: new Map(looked.map(([t, v]) => [t, v.members])),
    teamsWithoutWrite: new Set(looked.filter(([, v]) => !v.write).map(([t]) => t)),
  });
}

/** Problems in files the head has become annotations on their lines; the others are listed in the summary only. */
function annotationsFor(
  problems: Problem[],
  head: SetupFiles,
): { annotations: CheckAnnotation[]; unplaced: Problem[] } {
  const existing = new Set<string>([
    ...head.policyFiles.map((f) => f.path),
    ...(head.codeownersPath ? [head.codeownersPath] : []),
    ...(head.issueFormText !== null ? [ISSUE_FORM_PATH] : []),
    ...(head.recipientsText ? [RECIPIENTS_PATH] : []),
  ]);
  const annotations: CheckAnnotation[] = [];
  const unplaced: Problem[] = [];
  for (const p of problems) {
    if (!existing.has(p.file)) {
      unplaced.push(p);
      continue;
    }
    const line = p.line ?? 1;
    annotations.push({
      path: p.file,
      start_line: line,
      end_line: line,
      annotation_level: "failure",
      title: "breakglass validate",
      message: p.message.slice(0, 4000),
    });
  }
  return { annotations, unplaced };
}

const cap = (text: string): string =>
  text.length <= MAX_OUTPUT_CHARS
    ? text
    : `${text.slice(0, MAX_OUTPUT_CHARS)}\n\n… (cut: run \`breakglass validate\` locally for the rest)`;

/**
 * The policy pull-request check: a Check Run on the pull request's head commit with `breakglass
 * validate`'s problems as annotations on their lines, and the before/after of effective access per
 * resource. "Before" is the base branch as it is now, "after" is the head commit, both read by ref
 * through the API. It only reports: what the app decides always comes from the default branch, so
 * nothing in a pull request changes who may approve until it is merged.
 */
export async function handlePolicyPullRequest(
  port: PolicyCheckPort,
  event: PullRequestEvent,
  workflows: readonly string[],
): Promise<void> {
  const id = await port.createCheckRun({
    name: POLICY_CHECK_NAME,
    head_sha: event.head_sha,
    status: "in_progress",
    output: {
      title: "Reading the policies",
      summary: "Comparing effective access before and after this pull request.",
    },
  });
  try {
    const relevant = (await port.changedFiles(event.number)).filter((p) => isBreakglassPath(p, workflows));
    await reportPolicyChange(port, event, id, relevant);
  } catch (error) {
    // A check left in progress would block a required check for ever: fail it, saying how to retry.
    await port
      .updateCheckRun(id, {
        conclusion: "failure",
        output: {
          title: "Breakglass could not read the policies",
          summary: `The check could not finish: ${escapeInline((error as Error).message, 300)}. Push again (or close and reopen the pull request) to retry.`,
        },
      })
      .catch(() => undefined);
    throw error;
  }
}

async function reportPolicyChange(
  port: PolicyCheckPort,
  event: PullRequestEvent,
  id: number,
  relevant: string[],
): Promise<void> {
  if (relevant.length === 0) {
    await port.updateCheckRun(id, {
      conclusion: "success",
      output: {
        title: "No Breakglass files changed",
        summary:
          "This pull request changes none of the files Breakglass reads (policies/, CODEOWNERS, the request form, the recipients file, the breakglass workflows).",
      },
    });
    return;
  }
  const [before, after] = await Promise.all([setupAt(port, event.base_ref), setupAt(port, event.head_sha)]);
  const problems = validateRepository(after.files);
  if (after.truncated)
    problems.push({
      file: "policies/",
      line: null,
      message: `more than ${MAX_POLICY_FILES} policy files: only the first ${MAX_POLICY_FILES} were read.`,
    });
  const teamCache = new Map<string, Promise<{ members: string[]; write: boolean }>>();
  const [accessBefore, accessAfter] = await Promise.all([
    accessOf(port, before.files, teamCache),
    accessOf(port, after.files, teamCache),
  ]);
  const { annotations } = annotationsFor(problems, after.files);

  const lines: string[] = [];
  if (event.base_ref !== event.default_branch)
    lines.push(
      `> The base branch is \`${escapeInline(event.base_ref, 100)}\`, not the default branch \`${escapeInline(event.default_branch, 100)}\`: Breakglass reads the default branch only, so merging this changes nothing until it reaches \`${escapeInline(event.default_branch, 100)}\`.`,
      "",
    );
  lines.push(
    problems.length
      ? `**${problems.length} problem${problems.length === 1 ? "" : "s"}** found by \`breakglass validate\`${annotations.length ? " (annotated on their lines)" : ""}:`
      : "`breakglass validate`: no problems.",
    "",
  );
  for (const p of problems.slice(0, 100))
    lines.push(
      `- ${escapeInline(formatPolicyError({ file: p.file, line: p.line, message: p.message }), 500)}`,
    );
  if (problems.length > 100) lines.push(`- … and ${problems.length - 100} more`);
  lines.push("", "## Effective access: before → after", "", renderAccessDiff(accessBefore, accessAfter), "");
  const workflowsChanged = relevant.filter((p) => p.startsWith(".github/workflows/"));
  if (workflowsChanged.length)
    lines.push(
      `**Workflow files changed:** ${workflowsChanged.map((p) => `\`${escapeInline(p, 200)}\``).join(", ")}. They run the grant, sweep and drill jobs that receive credentials: review them as carefully as a policy.`,
      "",
    );
  lines.push(
    "Teams are expanded with their members as they are now. This check only reports: the app keeps deciding from the default branch, so nothing here takes effect before the merge.",
  );
  const title = problems.length
    ? `${problems.length} problem${problems.length === 1 ? "" : "s"} in the Breakglass setup`
    : `${[...new Set([...accessBefore.keys(), ...accessAfter.keys()])].filter((r) => JSON.stringify(accessBefore.get(r)) !== JSON.stringify(accessAfter.get(r))).length} resource(s) change effective access`;
  const output = { title, summary: cap(lines.join("\n")) };

  // At most 50 annotations per request: the rest go in further updates, which GitHub appends.
  const batches: CheckAnnotation[][] = [];
  for (let i = 0; i < annotations.length; i += MAX_ANNOTATIONS_PER_REQUEST)
    batches.push(annotations.slice(i, i + MAX_ANNOTATIONS_PER_REQUEST));
  for (const batch of batches.slice(0, -1))
    await port.updateCheckRun(id, { output: { ...output, annotations: batch } });
  await port.updateCheckRun(id, {
    conclusion: problems.length ? "failure" : "success",
    output: { ...output, ...(batches.length ? { annotations: batches.at(-1)! } : {}) },
  });
}
