import { access, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { UserError, type CliIO } from "../io.ts";
import { readRepoFiles } from "../repo-files.ts";
import { validateRepository } from "./validate.ts";

const HELP = `Usage: breakglass init [--dir DIR] [--provider aws|postgres|github|jwt]... [--owners @org/team] [--action owner/repo@ref] [--force]

Scaffolds Breakglass into a repository (default: the current directory):
  .github/ISSUE_TEMPLATE/breakglass-request.yml   the request form
  policies/<resource>.yml                         commented example policies (one per --provider, plus drill)
  .github/CODEOWNERS                              lines that make --owners approve policies and CODEOWNERS itself
  .github/workflows/breakglass-{grant,sweep,drill}.yml
then runs \`breakglass validate\`. Existing files are kept unless --force; running it twice changes nothing.
`;

const TEMPLATE_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const EXAMPLE_FOR: Record<string, string> = {
  aws: "aws-production",
  postgres: "prod-database",
  github: "github-admin",
  jwt: "model-guardrail-override",
};
const WORKFLOWS = ["breakglass-grant.yml", "breakglass-sweep.yml", "breakglass-drill.yml"];
const FORM = ".github/ISSUE_TEMPLATE/breakglass-request.yml";
const CODEOWNERS_MARK = "# Breakglass: who approves break-glass access";

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

export async function run(args: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      dir: { type: "string" },
      provider: { type: "string", multiple: true },
      owners: { type: "string" },
      action: { type: "string" },
      force: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout(HELP);
    return 0;
  }
  const dir = resolve(io.cwd, values.dir ?? ".");
  const providers = values.provider ?? Object.keys(EXAMPLE_FOR);
  for (const p of providers)
    if (!EXAMPLE_FOR[p])
      throw new UserError(`unknown provider "${p}"; choose from ${Object.keys(EXAMPLE_FOR).join(", ")}.`);
  const owners = values.owners ?? "@your-org/security";
  if (!/^@[A-Za-z0-9-]+(\/[A-Za-z0-9._-]+)?$/.test(owners))
    throw new UserError(`--owners must be @user or @org/team, not "${owners}".`);
  const resources = [...new Set([...providers.map((p) => EXAMPLE_FOR[p]!), "drill"])];
  const action = values.action ?? "your-org/breakglass@v1";
  if (!/^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+(\/[^@\s]+)?@[^\s]+$/.test(action))
    throw new UserError(`--action must be owner/repo@ref, not "${action}".`);

  const wrote: string[] = [];
  const kept: string[] = [];
  const put = async (path: string, content: string) => {
    const target = join(dir, path);
    if ((await exists(target)) && !values.force) {
      kept.push(path);
      return;
    }
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content);
    wrote.push(path);
  };
  const template = (path: string) => readFile(join(TEMPLATE_ROOT, path), "utf8");

  for (const r of resources) await put(`policies/${r}.yml`, await template(`policies/${r}.yml`));
  await put(FORM, withResourceOptions(await template(FORM), resources));
  for (const w of WORKFLOWS)
    await put(
      `.github/workflows/${w}`,
      (await template(`.github/workflows/${w}`)).replaceAll("acme/breakglass@v1", action),
    );

  const existing = await readRepoFiles(dir);
  const codeownersPath = existing.codeownersPath ?? ".github/CODEOWNERS";
  const current = existing.codeownersText ?? "";
  if (!current.includes(CODEOWNERS_MARK) || values.force) {
    const block = [
      CODEOWNERS_MARK,
      `/policies/ ${owners}`,
      ...resources.map((r) => `/policies/${r}.yml ${owners}`),
      `/${codeownersPath} ${owners}`,
      `/.github/breakglass-recipients.yml ${owners}`,
      `/.github/workflows/breakglass-*.yml ${owners}`,
      "",
    ].join("\n");
    const base = current.includes(CODEOWNERS_MARK)
      ? current.slice(0, current.indexOf(CODEOWNERS_MARK))
      : current;
    await mkdir(dirname(join(dir, codeownersPath)), { recursive: true });
    await writeFile(
      join(dir, codeownersPath),
      `${base}${base && !base.endsWith("\n") ? "\n" : ""}${base ? "\n" : ""}${block}`,
    );
    wrote.push(codeownersPath);
  } else kept.push(codeownersPath);

  for (const w of wrote) io.stdout(`  wrote ${w}\n`);
  for (const k of kept) io.stdout(`  kept  ${k} (exists; --force to overwrite)\n`);
  const problems = validateRepository(await readRepoFiles(dir));
  for (const p of problems) io.stderr(`${p.file}${p.line ? `:${p.line}` : ""}: ${p.message}\n`);
  io.stdout(
    problems.length
      ? `\nbreakglass validate found ${problems.length} problem(s) — fix them before merging.\n`
      : `\n✔ breakglass validate: ready.\n`,
  );
  io.stdout(nextSteps(resources, await readRepoFiles(dir)));
  return problems.length ? 1 : 0;
}

/** Rewrites the Resource dropdown's options so the form offers exactly the scaffolded policies. */
export function withResourceOptions(form: string, resources: string[]): string {
  const match = /(id: resource\n(?:.*\n)*?\s+options:\n)((?:\s+- .*\n)+)/.exec(form);
  if (!match) return form;
  const indent = /^(\s+)- /.exec(match[2]!)?.[1] ?? "        ";
  return form.replace(match[0], `${match[1]}${resources.map((r) => `${indent}- ${r}`).join("\n")}\n`);
}

/** What only the user can do on GitHub: no file in the repository does it for them. */
export function nextSteps(resources: string[], files: Awaited<ReturnType<typeof readRepoFiles>>): string {
  const environments = files.policyFiles
    .map((f) => /^environment:\s*(\S+)/m.exec(f.text)?.[1])
    .filter((e): e is string => Boolean(e));
  const steps = [
    "Deploy the Breakglass app (docs/deployment.md) and install it on this repository: it creates its labels on installation.",
    "Set the repository variable BREAKGLASS_APP_URL to the app's public URL (Settings → Secrets and variables → Actions → Variables).",
    ...environments.map(
      (e) =>
        `Create the environment \`${e}\` (Settings → Environments) and add the Breakglass app as its custom deployment protection rule (private repositories: GitHub Enterprise only; environments need Pro, Team or Enterprise).`,
    ),
    ...(resources.includes("aws-production")
      ? [
          "AWS: create the IAM OIDC provider for token.actions.githubusercontent.com and the role's trust policy (see the policy's comments).",
        ]
      : []),
    ...(resources.includes("prod-database")
      ? ["PostgreSQL: give the app BREAKGLASS_PG_ADMIN_URL and create the roles the policy grants."]
      : []),
    "Protect the default branch: require review from Code Owners, and make the Breakglass PR check required.",
    "Merge, then file a request with the form and run the drill workflow once.",
  ];
  return `\nNext steps on GitHub:\n${steps.map((s, i) => `  ${i + 1}. ${s}`).join("\n")}\n`;
}
