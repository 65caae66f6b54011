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
  const names = (await readdir(join(root, "policies")).catch(() => [] as string[])).filter((n) => /\.ya?ml$/.test(n)).sort();
  const policyFiles = await Promise.all(names.map(async (n) => ({ path: `policies/${n}`, text: (await read(`policies/${n}`)) ?? "" })));
  return { codeownersPath, codeownersText, policyFiles, issueFormText: await read(ISSUE_FORM) };
}
