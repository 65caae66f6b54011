import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { CODEOWNERS_LOCATIONS } from "../core/codeowners.ts";

export const ISSUE_FORM = ".github/ISSUE_TEMPLATE/breakglass-request.yml";

/** The files of a checkout that Breakglass reads: CODEOWNERS, policies/*.yml and the request form. */
export async function readRepoFiles(root: string): Promise<{
  codeownersPath: string | null;
  codeownersText: string | null;
  policyFiles: Array<{ path: string; text: string }>;
  issueFormText: string | null;
  /** `.github/workflows/breakglass-*.yml`, by path (absent: not checked). */
  workflowFiles?: Array<{ path: string; text: string }>;
}> {
  const read = (path: string) => readFile(join(root, path), "utf8").catch(() => null);
  let codeownersPath: string | null = null;
  let codeownersText: string | null = null;
  for (const path of CODEOWNERS_LOCATIONS) {
    const text = await read(path);
    if (text !== null) {
      codeownersPath = path;
      codeownersText = text;
      break;
    }
  }
  const names = (await readdir(join(root, "policies")).catch(() => [] as string[]))
    .filter((n) => /\.ya?ml$/.test(n))
    .sort();
  const policyFiles = await Promise.all(
    names.map(async (n) => ({ path: `policies/${n}`, text: (await read(`policies/${n}`)) ?? "" })),
  );
  const workflowNames = (await readdir(join(root, ".github/workflows")).catch(() => [] as string[]))
    .filter((n) => /^breakglass-.*\.ya?ml$/.test(n))
    .sort();
  const workflowFiles = await Promise.all(
    workflowNames.map(async (n) => ({
      path: `.github/workflows/${n}`,
      text: (await read(`.github/workflows/${n}`)) ?? "",
    })),
  );
  const issueFormText = (await read(ISSUE_FORM)) ?? (await read(ISSUE_FORM.replace(/\.yml$/, ".yaml")));
  return { codeownersPath, codeownersText, policyFiles, issueFormText, workflowFiles };
}
